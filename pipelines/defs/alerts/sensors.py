"""The consumer-lag alert: read from Kafka every 30 seconds, never from the warehouse."""

import dagster as dg

from core.errors import TierwiseError
from landing.consumer import DEFAULT_CONSUMER
from pipelines.defs.alerts.resource import AlertsResource
from pipelines.defs.resources import KafkaResource
from streaming.lag import consumer_lag
from streaming.topics import GPU_TOPIC, USAGE_TOPIC


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts when landing falls behind Kafka (consumer lag per topic above the consumer_lag rule).",
)
def alert_lag_sensor(context: dg.SensorEvaluationContext, kafka: KafkaResource, alerts: AlertsResource) -> dg.SkipReason:
    try:
        lag = consumer_lag(kafka.bootstrap(), DEFAULT_CONSUMER, [kafka.topic(USAGE_TOPIC), kafka.topic(GPU_TOPIC)])
    except TierwiseError as exc:
        return dg.SkipReason(str(exc))
    settled = alerts.settle(alerts.from_lag(lag, context.log), context.log)
    return dg.SkipReason(f"lag {lag}: {settled.summary() if settled else 'alerts not evaluated'}")
