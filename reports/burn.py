"""Month-to-date spend and where the month ends at the pace of its complete days (spend_daily's numbers)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import duckdb

from reports.spend import SpendQuery, run_spend


@dataclass(frozen=True)
class Burn:
    month_start: date
    today: date
    month_to_date: Decimal  # today so far included
    complete_days: int  # days of the month before today
    complete_spend: Decimal  # their spend
    days_in_month: int

    @property
    def projected(self) -> Decimal | None:
        """The complete days' daily average over the whole month; None on the month's first day (no pace yet).
        Today's partial spend is left out of the pace: half a day would pull it down."""
        if self.complete_days == 0:
            return None
        return self.complete_spend / self.complete_days * self.days_in_month


def month_burn(con: duckdb.DuckDBPyConnection, today: date, filters: tuple[tuple[str, str], ...] = ()) -> Burn:
    start = today.replace(day=1)
    spent = {
        r["day"]: r["cost_usd"] or Decimal(0)
        for r in run_spend(con, SpendQuery(["day"], start, today + timedelta(days=1), filters))
    }
    complete = sum((v for d, v in spent.items() if d < today), Decimal(0))
    return Burn(
        month_start=start,
        today=today,
        month_to_date=complete + spent.get(today, Decimal(0)),
        complete_days=(today - start).days,
        complete_spend=complete,
        days_in_month=calendar.monthrange(today.year, today.month)[1],
    )
