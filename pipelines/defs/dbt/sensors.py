"""Rebuild the days whose raw rows changed (today's traffic and late events alike) or whose prices changed.

Landing, `tierwise prices import` and each dbt build post the full list of dirty days to Dagster's event log
(pipelines/defs/dirty_state.py), so this sensor never holds a lock on the warehouse.
"""

import dagster as dg

from pipelines.defs.dbt.assets import PARTITIONS, dbt_job
from pipelines.defs.dbt.partitions import plan_dirty_ranges, range_tags
from pipelines.defs.dirty_state import newest_dirty_days


def dirty_day_requests(dirty: list[str], valid_keys: set[str], cursor_id: int) -> list[dg.RunRequest]:
    """One single-run request per contiguous range of dirty days inside the partition set."""
    ranges, _outside = plan_dirty_ranges(dirty, valid_keys)
    return [dg.RunRequest(run_key=f"dirty-{first}-{last}-{cursor_id}", tags=range_tags(first, last)) for first, last in ranges]


@dg.sensor(
    job=dbt_job,
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
    valid = set(PARTITIONS.get_partition_keys())
    return dg.SensorResult(run_requests=dirty_day_requests(sorted(dirty), valid, storage_id), cursor=str(storage_id))
