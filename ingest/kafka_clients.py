"""How tierwise builds its Kafka producers: one place for the settings that make a send safe."""

from __future__ import annotations

from typing import Any

# Dead letters carry the original bytes, which may be as large as the broker allows.
MAX_REQUEST_BYTES = 8 * 1024 * 1024


def reliable_producer(bootstrap: str, client_id: str, **overrides: Any) -> Any:
    """A KafkaProducer that waits for all in-sync replicas and never duplicates on retry.

    kafka-python 3 already defaults to acks='all' with idempotence on; they are set here anyway so a
    change of default upstream cannot weaken a tierwise guarantee.
    """
    from kafka import KafkaProducer

    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "client_id": client_id,
        "linger_ms": 5,
        "max_request_size": MAX_REQUEST_BYTES,
        **overrides,
        "acks": "all",
        "enable_idempotence": True,
    }
    return KafkaProducer(**config)
