"""Daily partitions (UTC days) of the marts, and the dbt vars a partition window becomes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import dagster as dg

from pipelines.settings import Settings
from tierwise.dirty_days import contiguous_ranges


def daily_partitions(settings: Settings | None = None) -> dg.DailyPartitionsDefinition:
    settings = settings or Settings.from_env()
    # end_offset=1 includes today, so the current day's spend is visible before midnight.
    return dg.DailyPartitionsDefinition(start_date=settings.partitions_start.isoformat(), timezone="UTC", end_offset=1)


def range_tags(first: date, last: date) -> dict[str, str]:
    """Run tags that make one run cover the partitions first..last (a single-run backfill)."""
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }


def plan_dirty_ranges(dirty: Iterable[str], valid_keys: set[str]) -> tuple[list[tuple[date, date]], list[date]]:
    """The (first, last) day ranges to rebuild, one dbt run each, and the dirty days outside the partitions.

    Days before the first partition (TIERWISE_PARTITIONS_START) cannot be built and are returned apart
    so the caller can say so instead of silently dropping them.
    """
    days = sorted({date.fromisoformat(d) for d in dirty})
    inside = [d for d in days if d.isoformat() in valid_keys]
    outside = [d for d in days if d.isoformat() not in valid_keys]
    return contiguous_ranges(inside), outside
