"""Freshness: land whenever Kafka has unread events, checked every 30 seconds."""

import dagster as dg

from ingest.broker import resolve_bootstrap
from ingest.lag import consumer_lag
from ingest.landing import DEFAULT_CONSUMER
from ingest.topics import GPU_TOPIC, USAGE_TOPIC
from pipelines.defs.landing.assets import landing_job
from pipelines.run_guard import reap_dead_runs
from pipelines.settings import Settings
from tierwise.errors import TierwiseError

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
def kafka_lag_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    reap_dead_runs(context.instance)  # a killed landing run must not look in flight forever
    if landing_in_flight(context.instance):
        return dg.SkipReason("a landing run is already queued or running")
    settings = Settings.from_env()
    try:
        bootstrap = resolve_bootstrap(settings.home)
        lag = consumer_lag(bootstrap, DEFAULT_CONSUMER, [settings.topic(USAGE_TOPIC), settings.topic(GPU_TOPIC)])
    except TierwiseError as exc:
        return dg.SkipReason(str(exc))
    total = sum(lag.values())
    if total == 0:
        return dg.SkipReason("no consumer lag")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(tags={"tierwise/lag": str(total)})],
    )
