"""How tierwise builds its Kafka producers: one place for the settings that make a send safe."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# Dead letters carry the original bytes, which may be as large as the broker allows.
MAX_REQUEST_BYTES = 8 * 1024 * 1024


def reliable_producer(bootstrap: str, client_id: str, **overrides: Any) -> Any:
    """A KafkaProducer that waits for all in-sync replicas and never duplicates on retry.

    kafka-python 3 already defaults to acks='all' with idempotence on; they are set here anyway so a
    change of default upstream cannot weaken a tierwise guarantee.
    """
    from kafka import KafkaProducer

    from core.kafka_security import client_config

    config: dict[str, Any] = {
        **client_config(bootstrap),
        "client_id": client_id,
        "linger_ms": 5,
        "max_request_size": MAX_REQUEST_BYTES,
        **overrides,
        "acks": "all",
        "enable_idempotence": True,
    }
    return KafkaProducer(**config)


def close_producer(producer: Any) -> None:
    """Close a kafka-python producer without hanging or raising when the broker is away."""
    from kafka.errors import KafkaTimeoutError

    try:
        producer.close(timeout=1)
    except KafkaTimeoutError:
        # kafka-python's close() flushes first and gives up before force-closing when the broker is
        # away. Callers flush what must be acknowledged before closing (the emitter keeps the rest in
        # its spill), so what is still held can be aborted.
        producer._sender.force_close()
        try:
            producer.close(timeout=1)
        except Exception as exc:
            log.debug("producer close: %s", exc)
    except Exception as exc:
        log.debug("producer close: %s", exc)
