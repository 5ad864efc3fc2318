"""Consumer lag per topic from Kafka alone, so sensors never touch the DuckDB file.

Landing mirrors its DuckDB-stored offsets to the consumer group after each commit; the lag here is
end offset minus that mirror (a missing mirror counts everything from the earliest offset).
"""

from __future__ import annotations

from core.errors import TierwiseError
from core.kafka_security import client_config


def consumer_lag(bootstrap: str, group: str, topics: list[str], timeout_ms: int = 10_000) -> dict[str, int]:
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    try:
        consumer = KafkaConsumer(
            **client_config(bootstrap),
            group_id=group,
            enable_auto_commit=False,
            request_timeout_ms=timeout_ms,
            client_id=f"{group}-lag",
        )
    except KafkaError:
        raise TierwiseError(f"Kafka broker not reachable at {bootstrap}") from None
    try:
        lag: dict[str, int] = {}
        for topic in topics:
            parts = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(parts)]
            if not tps:
                lag[topic] = 0
                continue
            end = consumer.end_offsets(tps)
            begin = consumer.beginning_offsets(tps)
            total = 0
            for tp in tps:
                committed = consumer.committed(tp)
                total += max(0, end[tp] - max(committed if committed is not None else 0, begin[tp]))
            lag[topic] = total
        return lag
    finally:
        consumer.close(autocommit=False)
