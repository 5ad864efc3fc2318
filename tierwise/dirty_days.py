"""Days whose raw rows changed since their marts were last built, and how to ask for them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb

from ingest.warehouse import RAW_SCHEMA


def dirty_days_in(con: duckdb.DuckDBPyConnection) -> list[date]:
    rows = con.execute(f"SELECT DISTINCT event_date FROM {RAW_SCHEMA}.dirty_days ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def clear_dirty_days(con: duckdb.DuckDBPyConnection, start: date, end: date, built_from: datetime) -> int:
    """Forget days in [start, end) marked before `built_from` (the build read everything up to then)."""
    rows = con.execute(
        f"""DELETE FROM {RAW_SCHEMA}.dirty_days
        WHERE event_date >= ? AND event_date < ? AND first_marked_at <= ? RETURNING 1""",
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
