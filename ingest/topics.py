"""The Kafka topics tierwise uses, created idempotently."""

from __future__ import annotations

import contextlib
import os

from ingest.kafka_security import client_config
from tierwise.errors import TierwiseError

USAGE_TOPIC = "llm.usage.v1"
GPU_TOPIC = "llm.gpu.v1"


def dlq_for(topic: str) -> str:
    """Each landed topic has its own dead-letter topic so a poison GPU heartbeat is never mistaken for usage."""
    return f"{topic}.dlq"


ALL_TOPICS = (USAGE_TOPIC, GPU_TOPIC, dlq_for(USAGE_TOPIC), dlq_for(GPU_TOPIC))


def default_partitions() -> int:
    raw = os.environ.get("TIERWISE_PARTITIONS", "6")
    try:
        value = int(raw)
    except ValueError:
        raise TierwiseError(f"TIERWISE_PARTITIONS must be a whole number, got {raw!r}") from None
    if value < 1:
        raise TierwiseError(f"TIERWISE_PARTITIONS must be at least 1, got {value}")
    return value


def replication_factor(brokers: int) -> int:
    """TIERWISE_REPLICATION_FACTOR, else min(3, brokers): a topic survives a lost disk only when replicated."""
    raw = os.environ.get("TIERWISE_REPLICATION_FACTOR")
    if raw is None or raw == "":
        return max(1, min(3, brokers))
    try:
        value = int(raw)
    except ValueError:
        raise TierwiseError(f"TIERWISE_REPLICATION_FACTOR must be a whole number, got {raw!r}") from None
    if not 1 <= value <= max(brokers, 1):
        raise TierwiseError(
            f"TIERWISE_REPLICATION_FACTOR must be between 1 and the {brokers} broker(s) of the cluster, got {value}"
        )
    return value


def min_insync(replicas: int) -> int:
    """Acknowledged (acks=all) means on at least two replicas when there are three or more."""
    return 2 if replicas >= 3 else 1


def ensure_topics(bootstrap: str, partitions: int | None = None, topics: tuple[str, ...] = ALL_TOPICS) -> list[str]:
    """Create the missing topics; return the names created (existing ones are left as they are)."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    partitions = partitions or default_partitions()
    try:
        admin = KafkaAdminClient(
            **client_config(bootstrap), client_id="tierwise-topics", request_timeout_ms=15000, bootstrap_timeout_ms=10000
        )
    except KafkaError:
        raise TierwiseError(f"Kafka broker not reachable at {bootstrap}") from None
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            replicas = replication_factor(len(admin.describe_cluster().get("brokers", [])))
            configs = {"min.insync.replicas": str(min_insync(replicas))}
            # Another process may create one between our list and create: that is fine.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(
                    [
                        NewTopic(name=t, num_partitions=partitions, replication_factor=replicas, topic_configs=configs)
                        for t in missing
                    ],
                    timeout_ms=15000,
                )
        return missing
    except KafkaError as exc:
        raise TierwiseError(f"could not create topics on {bootstrap}: {exc}") from None
    finally:
        admin.close()
