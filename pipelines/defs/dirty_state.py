"""Which days wait for a dbt rebuild, as Dagster's event log tells it (sensors never open the warehouse).

Each landing, each price import and each dbt build posts the full list of dirty days after it wrote:
landing and imports in their materialization's `dirty_days`, a build in an observation of raw/usage_events
once it cleared what it rebuilt. The newest of these posts is the current list, so a build that already
ran (`tierwise run`, `make demo`) leaves nothing for the sensor to redo.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg

from pipelines.defs.landing.assets import raw_gpu_usage, raw_usage_events
from pipelines.defs.prices import IMPORTED_PRICES_KEY

WATCHED = [raw_usage_events.key, raw_gpu_usage.key, IMPORTED_PRICES_KEY]
BUILD_STATE_KEY = raw_usage_events.key  # where a dbt build posts the days it left dirty


def after_build(dirty: Sequence[date]) -> dg.AssetObservation:
    """The observation a dbt build logs once it cleared its days: what is still dirty (marked meanwhile)."""
    return dg.AssetObservation(
        asset_key=BUILD_STATE_KEY,
        description="days still waiting for a dbt rebuild after a build",
        metadata={"dirty_days": [d.isoformat() for d in dirty]},
    )


def newest_dirty_days(instance: dg.DagsterInstance, after_storage_id: int) -> tuple[int, list[str]] | None:
    """(storage id, dirty days) of the newest post after `after_storage_id`; None when there is none."""
    newest: tuple[int, list[str]] | None = None
    fetches = [(instance.fetch_materializations, key) for key in WATCHED] + [(instance.fetch_observations, BUILD_STATE_KEY)]
    for fetch, key in fetches:
        records = fetch(dg.AssetRecordsFilter(asset_key=key, after_storage_id=after_storage_id), limit=1, ascending=False)
        for record in records.records:
            meta = record.asset_event.metadata if record.asset_event is not None else {}
            if "dirty_days" in meta and (newest is None or record.storage_id > newest[0]):
                newest = (record.storage_id, list(meta["dirty_days"].value))
    return newest
