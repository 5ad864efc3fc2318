"""The FOCUS 1.0 specification, as tests check an exported file against it.

Written from the text of the FinOps Open Cost and Usage Specification v1.0 (its column definitions:
name, data type, nullability and allowed values, and its cost identities), not from tierwise's own
column list, so the export cannot pass by agreeing with itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

# Every column FOCUS 1.0 defines, with its data type.
DECIMAL, DATETIME, STRING, KEY_VALUE = "Decimal", "DateTime", "String", "KeyValueFormat"
FOCUS_1_0_COLUMNS: dict[str, str] = {
    "AvailabilityZone": STRING,
    "BilledCost": DECIMAL,
    "BillingAccountId": STRING,
    "BillingAccountName": STRING,
    "BillingCurrency": STRING,
    "BillingPeriodEnd": DATETIME,
    "BillingPeriodStart": DATETIME,
    "ChargeCategory": STRING,
    "ChargeClass": STRING,
    "ChargeDescription": STRING,
    "ChargeFrequency": STRING,
    "ChargePeriodEnd": DATETIME,
    "ChargePeriodStart": DATETIME,
    "CommitmentDiscountCategory": STRING,
    "CommitmentDiscountId": STRING,
    "CommitmentDiscountName": STRING,
    "CommitmentDiscountStatus": STRING,
    "CommitmentDiscountType": STRING,
    "ConsumedQuantity": DECIMAL,
    "ConsumedUnit": STRING,
    "ContractedCost": DECIMAL,
    "ContractedUnitPrice": DECIMAL,
    "EffectiveCost": DECIMAL,
    "InvoiceIssuerName": STRING,
    "ListCost": DECIMAL,
    "ListUnitPrice": DECIMAL,
    "PricingCategory": STRING,
    "PricingQuantity": DECIMAL,
    "PricingUnit": STRING,
    "ProviderName": STRING,
    "PublisherName": STRING,
    "RegionId": STRING,
    "RegionName": STRING,
    "ResourceId": STRING,
    "ResourceName": STRING,
    "ResourceType": STRING,
    "ServiceCategory": STRING,
    "ServiceName": STRING,
    "SkuId": STRING,
    "SkuPriceId": STRING,
    "SubAccountId": STRING,
    "SubAccountName": STRING,
    "Tags": KEY_VALUE,
}

# Columns whose values the specification enumerates (null allowed where the column may be null).
ALLOWED_VALUES: dict[str, set[str]] = {
    "ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
    "ChargeClass": {"Correction"},
    "ChargeFrequency": {"One-Time", "Recurring", "Usage-Based"},
    "PricingCategory": {"Standard", "Dynamic", "Committed", "Other"},
    "CommitmentDiscountCategory": {"Spend", "Usage"},
    "CommitmentDiscountStatus": {"Used", "Unused"},
    "ServiceCategory": {
        "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases", "Developer Tools",
        "Multicloud", "Identity", "Integration", "Internet of Things", "Management and Governance", "Media",
        "Migration", "Mobile", "Networking", "Security", "Storage", "Web", "Other",
    },
}  # fmt: skip

# MUST NOT be null on any row.
NEVER_NULL = (
    "BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
    "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
    "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
)  # fmt: skip
# MUST NOT be null when ChargeCategory is Usage or Purchase and ChargeClass is not Correction.
NOT_NULL_FOR_USAGE = (
    "ListUnitPrice", "ContractedUnitPrice", "PricingQuantity", "PricingUnit", "PricingCategory", "SkuId", "SkuPriceId",
    "ChargeFrequency",
)  # fmt: skip
# MUST NOT be null when ChargeCategory is Usage and CommitmentDiscountStatus is not Unused (no correction).
NOT_NULL_FOR_CONSUMPTION = ("ConsumedQuantity", "ConsumedUnit")

DATETIME_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")  # ISO 8601 in UTC, as the spec writes it
CUSTOM_COLUMN = re.compile(r"^x_[A-Za-z0-9]+$")  # custom columns carry the x_ prefix


def _decimal(value: str, column: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise AssertionError(f"{column}: {value!r} is not a decimal") from None
    assert number.is_finite(), (column, value)
    return number


def check_header(header: list[str]) -> None:
    """Every FOCUS 1.0 column is there; every other column is a custom x_ column."""
    missing = [c for c in FOCUS_1_0_COLUMNS if c not in header]
    assert not missing, f"FOCUS 1.0 columns missing: {missing}"
    others = [c for c in header if c not in FOCUS_1_0_COLUMNS]
    assert all(CUSTOM_COLUMN.match(c) for c in others), others


def check_row(row: Mapping[str, str]) -> None:
    """One CSV row (empty text = null) against the types, allowed values, nullability and cost identities."""
    for column, kind in FOCUS_1_0_COLUMNS.items():
        value = row[column]
        if value == "":
            continue
        if kind == DECIMAL:
            _decimal(value, column)
        elif kind == DATETIME:
            assert DATETIME_FORMAT.match(value), (column, value)
        elif kind == KEY_VALUE:
            tags = json.loads(value)
            assert isinstance(tags, dict), (column, value)
            assert all(isinstance(k, str) and k for k in tags), tags
            assert all(v is None or isinstance(v, str | int | float | bool) for v in tags.values()), tags
    for column, allowed in ALLOWED_VALUES.items():
        assert row[column] == "" or row[column] in allowed, (column, row[column])
    for column in NEVER_NULL:
        assert row[column] != "", (column, row)
    usage = row["ChargeCategory"] in ("Usage", "Purchase") and row["ChargeClass"] != "Correction"
    if usage:
        for column in NOT_NULL_FOR_USAGE:
            assert row[column] != "", (column, row)
    if row["ChargeCategory"] == "Usage" and row["CommitmentDiscountStatus"] != "Unused" and row["ChargeClass"] != "Correction":
        for column in NOT_NULL_FOR_CONSUMPTION:
            assert row[column] != "", (column, row)
        assert _decimal(row["ConsumedQuantity"], "ConsumedQuantity") >= 0
    assert len(row["BillingCurrency"]) == 3 and row["BillingCurrency"].isupper()  # ISO 4217
    # The charge period lies inside the billing period and is not empty.
    assert row["BillingPeriodStart"] <= row["ChargePeriodStart"] < row["ChargePeriodEnd"] <= row["BillingPeriodEnd"]
    # Commitment discount columns go together: all null when no commitment discount applies.
    commitment = [row[c] for c in FOCUS_1_0_COLUMNS if c.startswith("CommitmentDiscount")]
    assert all(commitment) or not any(commitment), commitment


def identity_gap(row: Mapping[str, str], unit_price: str, cost: str) -> Decimal:
    """|unit price x PricingQuantity - cost|: the spec's ListCost (ContractedCost) identity, 0 when it holds."""
    price = _decimal(row[unit_price], unit_price)
    quantity = _decimal(row["PricingQuantity"], "PricingQuantity")
    return abs(price * quantity - _decimal(row[cost], cost))
