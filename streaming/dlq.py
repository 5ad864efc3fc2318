"""Headers for dead-letter records, named as Kafka Connect names them.

Every tierwise component that dead-letters a record (``tierwise replay``, the landing consumer) builds
its headers here, so a reader of ``llm.usage.v1.dlq`` sees one convention: the one Kafka Connect
tooling already understands.
"""

from __future__ import annotations

PREFIX = "__connect.errors."
TOPIC = PREFIX + "topic"
PARTITION = PREFIX + "partition"
OFFSET = PREFIX + "offset"
CONNECTOR = PREFIX + "connector.name"
STAGE = PREFIX + "stage"
EXCEPTION_CLASS = PREFIX + "exception.class.name"
EXCEPTION_MESSAGE = PREFIX + "exception.message"

# Long messages (a whole pydantic report) would bloat every dead letter; the head says enough.
MAX_MESSAGE_CHARS = 2000


def dlq_headers(
    error_class: str,
    message: str,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    *,
    stage: str | None = None,
    source: str | None = None,
) -> list[tuple[str, bytes]]:
    """Headers for one dead letter: why it was rejected and, when known, where it was read from.

    ``topic``/``partition``/``offset`` name the record's origin in Kafka (a consumer knows them; a
    file replay does not). ``stage`` says which step rejected it (e.g. ``validation``), ``source``
    which component (stored as the Connect connector name, e.g. ``tierwise-replay``).
    """
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 3] + "..."
    headers = [(EXCEPTION_CLASS, error_class.encode()), (EXCEPTION_MESSAGE, message.encode())]
    for name, value in ((TOPIC, topic), (PARTITION, partition), (OFFSET, offset), (STAGE, stage), (CONNECTOR, source)):
        if value is not None:
            headers.append((name, str(value).encode()))
    return headers


def header_dict(headers: list[tuple[str, bytes]] | None) -> dict[str, str]:
    """Decode a record's headers for reading back (tests, the CLI)."""
    return {k: v.decode(errors="replace") for k, v in headers or []}
