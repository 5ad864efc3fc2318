"""Daily partitions (UTC days) of the marts."""

from __future__ import annotations

import dagster as dg

from core.settings import Settings


def daily_partitions(settings: Settings | None = None) -> dg.DailyPartitionsDefinition:
    settings = settings or Settings.from_env()
    # end_offset=1 includes today, so the current day's spend is visible before midnight.
    return dg.DailyPartitionsDefinition(start_date=settings.partitions_start.isoformat(), timezone="UTC", end_offset=1)
