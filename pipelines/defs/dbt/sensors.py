"""Rebuild the days whose raw rows changed (today's traffic and late events alike) or whose prices changed.

Landing and `tierwise prices import` write the full list of dirty days into their materialization
metadata, so this sensor reads Dagster's event log only and never holds a lock on the warehouse.
"""

import hashlib

import dagster as dg

from pipelines.defs.dbt.assets import PARTITIONS, dbt_base_job, dbt_job, tierwise_dbt_base
from pipelines.defs.dbt.planning import plan_dirty_ranges, range_tags, stale_base_keys
from pipelines.defs.landing.assets import raw_gpu_usage, raw_usage_events
from pipelines.defs.prices import IMPORTED_PRICES_KEY

WATCHED = [raw_usage_events.key, raw_gpu_usage.key, IMPORTED_PRICES_KEY]


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
    newest = last_seen
    dirty: set[str] = set()
    for key in WATCHED:
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, after_storage_id=last_seen), limit=1, ascending=False
        ).records
        if not records:
            continue
        record = records[0]
        newest = max(newest, record.storage_id)
        mat = record.asset_materialization
        if mat is not None and "dirty_days" in mat.metadata:
            dirty.update(mat.metadata["dirty_days"].value)  # type: ignore[arg-type]
    if newest == last_seen:
        return dg.SkipReason("no new landing or price import since the last check")
    requests = dirty_day_requests(sorted(dirty), set(PARTITIONS.get_partition_keys()), newest)
    stale = stale_base_keys(context.instance, tierwise_dbt_base)
    if requests and stale:
        # The marts read the staging views: build those first and keep the cursor, so the day ranges are
        # requested on a later tick, once the base run has succeeded (its run key stops a second request).
        return dg.SensorResult(run_requests=[base_request(stale)], cursor=context.cursor)
    return dg.SensorResult(run_requests=requests, cursor=str(newest))
