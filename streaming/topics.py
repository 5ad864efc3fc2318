"""The Kafka topics tierwise uses, created idempotently."""

from __future__ import annotations

import contextlib
import time

from core import env
from core.errors import TierwiseError
from core.kafka_security import client_config

USAGE_TOPIC = "llm.usage.v1"
GPU_TOPIC = "llm.gpu.v1"


def dlq_for(topic: str) -> str:
    """Each landed topic has its own dead-letter topic so a poison GPU heartbeat is never mistaken for usage."""
    return f"{topic}.dlq"


ALL_TOPICS = (USAGE_TOPIC, GPU_TOPIC, dlq_for(USAGE_TOPIC), dlq_for(GPU_TOPIC))


def default_partitions() -> int:
    return env.partitions()


def replication_factor(brokers: int) -> int:
    """TIERWISE_REPLICATION_FACTOR, else min(3, brokers): a topic survives a lost disk only when replicated."""
    value = env.replication_factor()
    if value is None:
        return max(1, min(3, brokers))
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
            _wait_until_led(admin, missing, partitions, bootstrap)
        return missing
    except KafkaError as exc:
        raise TierwiseError(f"could not create topics on {bootstrap}: {exc}") from None
    finally:
        admin.close()


def _wait_until_led(admin: object, topics: list[str], partitions: int, bootstrap: str, timeout_s: float = 60.0) -> None:
    """Creation returns before every broker knows the new partitions' leaders; wait so the first send or describe
    after `ensure_topics` sees whole topics instead of an empty partition list."""
    from kafka.errors import KafkaError

    deadline = time.monotonic() + timeout_s
    pending = list(topics)
    while pending:
        with contextlib.suppress(KafkaError):
            described = admin.describe_topics(pending)  # type: ignore[attr-defined]
            led = {
                d["name"]
                for d in described
                if len(d.get("partitions") or []) >= partitions and all(p.get("leader_id", -1) >= 0 for p in d["partitions"])
            }
            pending = [t for t in pending if t not in led]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TierwiseError(f"topics {', '.join(pending)} on {bootstrap} have no leader after {timeout_s:.0f} s")
        time.sleep(0.2)


def missing_topics(bootstrap: str, topics: tuple[str, ...]) -> list[str]:
    """Which of `topics` the cluster does not have (auto-creation is off on the local broker)."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(
            **client_config(bootstrap), client_id="tierwise-topics", request_timeout_ms=10000, bootstrap_timeout_ms=10000
        )
    except KafkaError:
        raise TierwiseError(f"Kafka broker not reachable at {bootstrap}") from None
    try:
        existing = set(admin.list_topics())
    except KafkaError as exc:
        raise TierwiseError(f"could not list the topics on {bootstrap}: {exc}") from None
    finally:
        admin.close()
    return [t for t in topics if t not in existing]
