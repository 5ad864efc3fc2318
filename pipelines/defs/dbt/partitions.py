"""Daily partitions (UTC days) of the marts, and the dbt vars a partition window becomes."""

from __future__ import annotations

from datetime import date, datetime

import dagster as dg

from pipelines.settings import Settings


def daily_partitions(settings: Settings | None = None) -> dg.DailyPartitionsDefinition:
    settings = settings or Settings.from_env()
    # end_offset=1 includes today, so the current day's spend is visible before midnight.
    return dg.DailyPartitionsDefinition(
        start_date=settings.partitions_start.isoformat(), timezone="UTC", end_offset=1
    )


def window_to_vars(start: datetime | date, end: datetime | date) -> dict[str, str]:
    """dbt vars for a partition window: `start_date` inclusive, `end_date` exclusive, ISO dates."""
    s = start.date() if isinstance(start, datetime) else start
    e = end.date() if isinstance(end, datetime) else end
    if e <= s:
        raise ValueError(f"empty partition window {s} .. {e}")
    return {"start_date": s.isoformat(), "end_date": e.isoformat()}


def range_tags(first: date, last: date) -> dict[str, str]:
    """Run tags that make one run cover the partitions first..last (a single-run backfill)."""
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }
