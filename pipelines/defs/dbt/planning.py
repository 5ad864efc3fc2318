"""What dbt has to run: the seeds and staging views when they are missing or changed, then one run per
contiguous range of dirty days. The dirty-days sensor and `tierwise run` both plan with this module."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import dagster as dg

from landing.dirty_days import contiguous_ranges

# The tag Dagster stamps on a materialization with the code version the asset had when it ran.
CODE_VERSION_TAG = "dagster/code_version"


def stale_base_keys(instance: dg.DagsterInstance, base: dg.AssetsDefinition) -> list[dg.AssetKey]:
    """The seed and staging assets never materialized in this instance, or materialized from other code.

    dagster-dbt versions each node by its file's checksum, so an edited seed CSV or staging model shows here.
    """
    stale = []
    for key in sorted(base.keys, key=lambda k: k.to_user_string()):
        event = instance.get_latest_materialization_event(key)
        built = event.asset_materialization.tags.get(CODE_VERSION_TAG) if event and event.asset_materialization else None
        if built is None or built != base.code_versions_by_key.get(key):
            stale.append(key)
    return stale


def plan_dirty_ranges(dirty: Iterable[str], valid_keys: set[str]) -> tuple[list[tuple[date, date]], list[date]]:
    """The (first, last) day ranges to rebuild, one dbt run each, and the dirty days outside the partitions.

    Days before the first partition (TIERWISE_PARTITIONS_START) cannot be built and are returned apart
    so the caller can say so instead of silently dropping them.
    """
    days = sorted({date.fromisoformat(d) for d in dirty})
    inside = [d for d in days if d.isoformat() in valid_keys]
    outside = [d for d in days if d.isoformat() not in valid_keys]
    return contiguous_ranges(inside), outside


def range_tags(first: date, last: date) -> dict[str, str]:
    """Run tags that make one run cover the partitions first..last (a single-run backfill)."""
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }
