"""GenAI spans the contract refused, kept on the usage dead-letter topic with the reason (Kafka Connect headers).

The sender learns of them from the export response's partial success; the dead letter keeps the span for repair,
without its content: attributes (and span-event attributes) that carry prompts or completions are removed before
the span is written, then the usual scrub of content keys applies. The producer connects in the background, so a
broker that is away slows a request with rejected spans by a few seconds at most: a dead letter that cannot be
sent then is logged and counted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import orjson

from ingest.adapters.otel import SpanError
from schemas import is_content_key, scrub_raw
from streaming.clients import close_producer, reliable_producer
from streaming.dlq import dlq_headers

log = logging.getLogger("tierwise.otlp")
SOURCE = "tierwise-otlp"
_RECONNECT_AFTER_S = 30.0


def content_free(span: Mapping[str, Any]) -> dict[str, Any]:
    """The span without the attributes that carry request or response text."""

    def keep(attributes: Any) -> list[Any]:
        return [a for a in attributes or () if not (isinstance(a, Mapping) and is_content_key(str(a.get("key", ""))))]

    out = dict(span)
    out["attributes"] = keep(span.get("attributes"))
    if isinstance(span.get("events"), list):
        out["events"] = [
            {**e, "attributes": keep(e.get("attributes"))} if isinstance(e, Mapping) else e for e in span["events"]
        ]
    return out


class SpanDeadLetters:
    def __init__(self, bootstrap: str, topic: str, connect_wait_s: float = 5.0) -> None:
        self.topic = topic
        self.sent = 0
        self.failed = 0
        self._bootstrap = bootstrap
        self._connect_wait_s = connect_wait_s
        self._producer: Any = None
        self._lock = threading.Lock()
        self._connector = self._start_connector()

    def _start_connector(self) -> threading.Thread:
        self._attempted_at = time.monotonic()
        thread = threading.Thread(target=self._connect, name="tierwise-otlp-dlq", daemon=True)
        thread.start()
        return thread

    def _connect(self) -> None:
        try:
            producer = reliable_producer(self._bootstrap, "tierwise-otlp-dlq", linger_ms=20, max_block_ms=5_000)
        except Exception as exc:
            log.warning("dead-letter topic %s unreachable (%s): rejected spans go back to their sender only", self.topic, exc)
            return
        with self._lock:
            self._producer = producer

    def _ready_producer(self) -> Any:
        """The producer; called off the event loop, so it may wait a little for a connection in progress."""
        with self._lock:
            if self._producer is not None:
                return self._producer
            if not self._connector.is_alive() and time.monotonic() - self._attempted_at > _RECONNECT_AFTER_S:
                self._connector = self._start_connector()
            connector = self._connector
        connector.join(self._connect_wait_s)
        with self._lock:
            return self._producer

    def send(self, span: Mapping[str, Any], error: SpanError) -> None:
        producer = self._ready_producer()
        if producer is None:
            self._count_failure("Kafka not reachable")
            return
        value = scrub_raw(orjson.dumps(content_free(span)))
        headers = dlq_headers(type(error).__name__, str(error), stage="validation", source=SOURCE)
        try:
            producer.send(self.topic, value=value, headers=headers).add_errback(lambda exc: self._count_failure(str(exc)))
        except Exception as exc:
            self._count_failure(str(exc))
            return
        with self._lock:
            self.sent += 1

    def _count_failure(self, reason: str) -> None:
        with self._lock:
            self.failed += 1
            n = self.failed
        if n <= 10 or n % 1000 == 0:
            log.warning("a rejected span was not dead-lettered to %s (%d so far): %s", self.topic, n, reason)

    def close(self, timeout: float = 30.0) -> None:
        self._connector.join(timeout)
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.flush(timeout)
            except Exception as exc:
                log.warning("dead letters not all acknowledged by %s: %s", self.topic, exc)
            close_producer(producer)
