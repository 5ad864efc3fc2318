"""Rejected records to the topic's dead-letter topic, with Kafka Connect's error headers."""

from __future__ import annotations

from typing import Any

from landing.decoder import RejectedRecord
from streaming.clients import close_producer, reliable_producer
from streaming.dlq import dlq_headers


class DeadLetterSender:
    """Sends rejected records to a dead-letter topic; the producer is made on the first reject."""

    def __init__(self, bootstrap: str, topic: str, dlq_topic: str, source: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.dlq_topic = dlq_topic
        self.source = source
        self._producer: Any = None

    def send(self, rejected: list[RejectedRecord]) -> None:
        """Send and wait for the acks, before the batch commits (at-least-once)."""
        if not rejected:
            return
        if self._producer is None:
            self._producer = reliable_producer(self.bootstrap, client_id=f"{self.source}-dlq")
        for r in rejected:
            self._producer.send(
                self.dlq_topic,
                key=r.key,
                value=r.value or b"",
                headers=dlq_headers(
                    r.error_class,
                    r.reason,
                    topic=self.topic,
                    partition=r.partition,
                    offset=r.offset,
                    stage="landing",
                    source=self.source,
                ),
            )
        self._producer.flush(timeout=30)

    def close(self) -> None:
        if self._producer is not None:
            close_producer(self._producer)
            self._producer = None
