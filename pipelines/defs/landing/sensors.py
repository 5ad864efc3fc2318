"""Freshness: land whenever Kafka has unread events, checked every 30 seconds."""

import dagster as dg

from core.errors import TierwiseError
from landing.consumer import DEFAULT_CONSUMER
from pipelines.defs.landing.assets import landing_job
from pipelines.defs.resources import KafkaResource
from pipelines.run_guard import reap_dead_runs
from streaming.lag import consumer_lag
from streaming.topics import GPU_TOPIC, USAGE_TOPIC

LANDING_PRIORITY = "10"

ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def landing_in_flight(instance: dg.DagsterInstance) -> bool:
    runs = instance.get_run_records(filters=dg.RunsFilter(job_name=landing_job.name, statuses=ACTIVE), limit=1)
    return bool(runs)


@dg.sensor(
    job=landing_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a landing run when the usage or GPU topic has consumer lag.",
)
def kafka_lag_sensor(context: dg.SensorEvaluationContext, kafka: KafkaResource) -> dg.SensorResult | dg.SkipReason:
    reap_dead_runs(context.instance)  # a killed landing run must not look in flight forever
    if landing_in_flight(context.instance):
        return dg.SkipReason("a landing run is already queued or running")
    try:
        lag = consumer_lag(kafka.bootstrap(), DEFAULT_CONSUMER, [kafka.topic(USAGE_TOPIC), kafka.topic(GPU_TOPIC)])
    except TierwiseError as exc:
        return dg.SkipReason(str(exc))
    total = sum(lag.values())
    if total == 0:
        return dg.SkipReason("no consumer lag")
    return dg.SensorResult(
        # Ahead of queued dbt runs in the run queue (default priority 0): volume and health alerts are evaluated
        # right after landing commits, so a landing that waits behind a queue of builds delays every alert.
        run_requests=[dg.RunRequest(tags={"tierwise/lag": str(total), "dagster/priority": LANDING_PRIORITY})],
    )
