"""Hand-written events in the JSON contract, as an unrelated producer would write them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

BASE_TIME = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def usage_event(i: int, **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": f"ev-{i:08d}",
        "event_time": (BASE_TIME + timedelta(seconds=i)).isoformat(),
        "tier": "closed_api",
        "provider": "openai",
        "model": "gpt-5.4",
        "workload": f"wl-{i % 4}",
        "team": "search",
        "input_tokens": 1000 + i % 50,
        "output_tokens": 200 + i % 7,
    }
    event.update(overrides)
    return event


def gpu_event(i: int, **overrides: Any) -> dict[str, Any]:
    start = BASE_TIME + timedelta(minutes=5 * i)
    event: dict[str, Any] = {
        "event_id": f"gpu-{i:06d}",
        "interval_start": start.isoformat(),
        "interval_end": (start + timedelta(minutes=5)).isoformat(),
        "deployment": "gpu-east-1",
        "gpu_type": "H100-80GB",
        "gpu_count": 2,
        "engine": "vllm",
    }
    event.update(overrides)
    return event


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


def produce(bootstrap: str, topic: str, values: list[bytes], keys: list[bytes | None] | None = None) -> None:
    """Write raw bytes with a plain kafka-python producer and wait for every ack."""
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        batch_size=256 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    try:
        for n, value in enumerate(values):
            producer.send(topic, key=keys[n] if keys else None, value=value)
        producer.flush(timeout=120)
    finally:
        producer.close(timeout=30)


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    """Poll ``condition`` until it holds; fail the test naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout}s"
        time.sleep(0.02)


def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 60.0) -> list[Any]:
    """Every record of a topic once it holds ``expect``: read to the end offsets, so extras show too."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 << 20,
        fetch_max_bytes=32 << 20,
    )
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        deadline = time.monotonic() + timeout
        ends = consumer.end_offsets(parts)
        while sum(ends.values()) < expect and time.monotonic() < deadline:
            time.sleep(0.2)
            ends = consumer.end_offsets(parts)
        out: list[Any] = []
        while any(consumer.position(tp) < ends[tp] for tp in parts) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500, max_records=20000).values():
                out.extend(batch)
        return out
    finally:
        consumer.close()
