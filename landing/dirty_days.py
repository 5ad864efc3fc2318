"""Days whose marts are out of date (new raw rows or a price change), and how to ask for them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb

from landing.warehouse import RAW_SCHEMA, mark_dirty_days

# The raw.dirty_days source of marks made by a price import (landing marks under its topic).
PRICES_SOURCE = "prices"


def raw_tables_exist(con: duckdb.DuckDBPyConnection, *tables: str) -> bool:
    """Whether every one of these raw tables exists (a warehouse landing never wrote to has none)."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND list_contains(?::VARCHAR[], table_name)",
        [RAW_SCHEMA, list(tables)],
    ).fetchone()
    return found is not None and found[0] == len(set(tables))


def dirty_days_in(con: duckdb.DuckDBPyConnection) -> list[date]:
    rows = con.execute(f"SELECT DISTINCT event_date FROM {RAW_SCHEMA}.dirty_days ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def clear_dirty_days(con: duckdb.DuckDBPyConnection, start: date, end: date, built_from: datetime) -> int:
    """Forget days in [start, end) last marked before `built_from` (the build read everything up to then)."""
    rows = con.execute(
        f"""DELETE FROM {RAW_SCHEMA}.dirty_days
        WHERE event_date >= ? AND event_date < ? AND last_marked_at <= ? RETURNING 1""",
        [start, end, built_from],
    ).fetchall()
    return len(rows)


def contiguous_ranges(days: list[date]) -> list[tuple[date, date]]:
    """Group days into inclusive (first, last) runs of consecutive days, so each becomes one dbt run."""
    ranges: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if ranges and d == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], d)
        else:
            ranges.append((d, d))
    return ranges


def repricing_days(effective_from: date, first_event_day: date | None, newest_event_day: date | None) -> list[date]:
    """The landed days a price change from `effective_from` re-prices, in order.

    Every day from the effective day up to the newest landed event day, starting no earlier than the
    first landed day (nothing before it to re-price); empty days are included so the range stays one dbt run.
    """
    if first_event_day is None or newest_event_day is None:
        return []
    day = max(effective_from, first_event_day)
    days: list[date] = []
    while day <= newest_event_day:
        days.append(day)
        day += timedelta(days=1)
    return days


def mark_repricing(con: duckdb.DuckDBPyConnection, effective_from: date, at: datetime) -> list[date]:
    """Mark the days a price change from `effective_from` re-prices, in the caller's transaction."""
    if not raw_tables_exist(con, "usage_events", "dirty_days"):  # landing never ran here: no events to re-price
        return []
    first, newest = con.execute(f"SELECT min(event_date), max(event_date) FROM {RAW_SCHEMA}.usage_events").fetchone()  # type: ignore[misc]
    days = repricing_days(effective_from, first, newest)
    if not days:
        return []
    # rows_since stays 0: no row arrived, the prices of existing rows changed.
    return mark_dirty_days(con, PRICES_SOURCE, "SELECT unnest(?::DATE[]), 0", at, [days])
