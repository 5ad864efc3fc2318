"""`tierwise export focus`: the focus_cost_and_usage mart as a FinOps FOCUS 1.0 CSV file.

Values are written as the mart holds them: costs and quantities as exact decimal text, date/times as
ISO 8601 UTC with a Z, NULL as an empty field; text that a spreadsheet would run as a formula starts
with a single quote (``reports.csv_safe``). The warehouse is opened read-only.
"""

from __future__ import annotations

import csv
import os
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from core.errors import TierwiseError
from core.warehouse_lock import read_only
from reports.csv_safe import neutralize
from reports.spend import day_range, require_table

MART = "focus_cost_and_usage"

# Every FOCUS 1.0 column, in the specification's order; the export refuses a mart that lacks one.
FOCUS_COLUMNS: tuple[str, ...] = (
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
)

# Quantities are sums of per-hour shares kept to 12 decimals; a reader wants 48 GPU-hours, not 48.000000000096.
QUANTITY_COLUMNS = frozenset({"PricingQuantity", "ConsumedQuantity"})
QUANTITY_STEP = Decimal("0.000001")

ORDER_BY = "x_ChargeDate, x_Tier, ProviderName, x_Model, x_Workload, x_Team, x_CostType, x_TokenType, x_Deployment"


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):  # naive UTC in the warehouse
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return neutralize(str(value))


def quantity_value(value: Any) -> str:
    """A FOCUS quantity to a millionth, without trailing zeros: '147897', '48', '0.083333'."""
    if value is None:
        return ""
    q = Decimal(value).quantize(QUANTITY_STEP, rounding=ROUND_HALF_UP)
    text = format(q, "f").rstrip("0").rstrip(".")
    return text or "0"


def export_focus(warehouse: Path, out: Path, date_from: date | None = None, date_to: date | None = None) -> int:
    """Write the FOCUS rows of [date_from, date_to) (UTC charge days) to `out`; returns the row count."""
    where, params = day_range("x_ChargeDate", date_from, date_to)
    sql = f"select * from main.{MART}{where} order by {ORDER_BY}"
    with read_only(warehouse) as con:
        require_table(con, MART, warehouse)
        cur = con.execute(sql, params)
        header = [d[0] for d in cur.description]
        missing = [c for c in FOCUS_COLUMNS if c not in header]
        if missing:
            raise TierwiseError(f"{MART} lacks FOCUS columns {', '.join(missing)}: rebuild it with `tierwise run`")
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        count = 0
        # write next to the target and rename, so a reader never sees half a file
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            quantity = {i for i, name in enumerate(header) if name in QUANTITY_COLUMNS}
            while batch := cur.fetchmany(10_000):
                writer.writerows(
                    [quantity_value(v) if i in quantity else csv_value(v) for i, v in enumerate(row)] for row in batch
                )
                count += len(batch)
        os.replace(tmp, out)
    return count
