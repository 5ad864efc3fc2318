"""Stale runs: a run whose process died is marked failed and its warehouse pool slot freed, every 30 s."""

import dagster as dg

from pipelines.run_guard import reap_dead_runs


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks runs whose process is gone (e.g. a killed `tierwise run`) as failed and frees their pool slots.",
)
def stale_run_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    reaped = reap_dead_runs(context.instance)
    return dg.SkipReason(f"reaped {len(reaped)} run(s): {', '.join(reaped)}" if reaped else "no stale runs")
