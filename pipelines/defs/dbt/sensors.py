"""Rebuild the days whose raw rows changed (today's traffic and late events alike) or whose prices changed.

Landing, `tierwise prices import` and each dbt build post the full list of dirty days to Dagster's event log
(pipelines/defs/dirty_state.py), so this sensor never holds a lock on the warehouse.
"""

import hashlib

import dagster as dg

from pipelines.defs.dbt.assets import PARTITIONS, dbt_base_job, dbt_job, tierwise_dbt_base
from pipelines.defs.dbt.planning import plan_dirty_ranges, range_tags, stale_base_keys
from pipelines.defs.dirty_state import newest_dirty_days


def dirty_day_requests(dirty: list[str], valid_keys: set[str], cursor_id: int) -> list[dg.RunRequest]:
    """One single-run request per contiguous range of dirty days inside the partition set."""
    ranges, _outside = plan_dirty_ranges(dirty, valid_keys)
    return [
        dg.RunRequest(run_key=f"dirty-{first}-{last}-{cursor_id}", job_name=dbt_job.name, tags=range_tags(first, last))
        for first, last in ranges
    ]


def base_request(stale: list[dg.AssetKey]) -> dg.RunRequest:
    """The seeds and staging build; its run key follows their code versions, so it is requested once per change."""
    versions = ",".join(f"{k.to_user_string()}={tierwise_dbt_base.code_versions_by_key.get(k)}" for k in stale)
    return dg.RunRequest(run_key=f"base-{hashlib.sha256(versions.encode()).hexdigest()[:16]}", job_name=dbt_base_job.name)


@dg.sensor(
    jobs=[dbt_job, dbt_base_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests dbt runs for the day ranges landing (new or late events) or a price import marked dirty.",
)
def dirty_days_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    last_seen = int(context.cursor or 0)
    newest = newest_dirty_days(context.instance, last_seen)
    if newest is None:
        return dg.SkipReason("no new landing, price import or build since the last check")
    storage_id, dirty = newest
    if not dirty:
        # The newest word (often a build's) is that nothing waits: launching anything would redo work.
        context.update_cursor(str(storage_id))
        return dg.SkipReason("no day waits for a rebuild")
    requests = dirty_day_requests(sorted(dirty), set(PARTITIONS.get_partition_keys()), storage_id)
    stale = stale_base_keys(context.instance, tierwise_dbt_base)
    if requests and stale:
        # The marts read the staging views: build those first and keep the cursor, so the day ranges are
        # requested on a later tick, once the base run has succeeded (its run key stops a second request).
        return dg.SensorResult(run_requests=[base_request(stale)], cursor=context.cursor)
    return dg.SensorResult(run_requests=requests, cursor=str(storage_id))
