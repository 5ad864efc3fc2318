"""What ``TelemetryEmitter.emit()`` costs the caller's thread, against baselines in the same process.

    .venv/bin/python bench/emit.py [--events 50000]

Starts its own broker (a LocalBroker in a temporary home) unless KAFKA_BOOTSTRAP_SERVERS is set.
Each variant emits the same pre-built dicts and times every call on the calling thread; the numbers
are printed as p50/p99 microseconds, calls per second, and ratios to the baselines:

* ``json+queue``: ``json.dumps`` and ``queue.Queue.put`` (the least an async logger can do);
* ``kafka send``: a raw kafka-python ``KafkaProducer.send`` of the same JSON (no validation);
* ``emit(dict)``: validation, serialization and enqueue, sending on the background thread;
* ``emit(model)``: an already-built ``UsageEvent`` (serialization and enqueue only);
* ``emit, Kafka away``: ``emit(dict)`` while everything goes to the spill file.
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.home import Home  # noqa: E402
from ingest.emitter import TelemetryEmitter  # noqa: E402
from streaming.broker import LocalBroker, external_bootstrap, free_port  # noqa: E402
from streaming.topics import ensure_topics  # noqa: E402


def events(n: int) -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"bench-{i:09d}",
            "event_time": "2026-03-02T12:00:00.000Z",
            "tier": "closed_api",
            "provider": "anthropic",
            "model": "claude-sonnet-4-6",
            "workload": f"support-chat-{i % 8}",
            "team": "customer-experience",
            "input_tokens": 9000 + i % 500,
            "output_tokens": 450,
            "cached_input_tokens": 5000,
            "tags": {"app": "helpdesk", "channel": "web"},
            "duration_ms": 5123.4,
            "ttft_ms": 612.0,
        }
        for i in range(n)
    ]


def timed(call: Callable[[Any], Any], items: list[Any]) -> tuple[float, float, float]:
    """(p50 µs, p99 µs, calls/s) of ``call`` over ``items`` on this thread."""
    lat = []
    clock = time.perf_counter_ns
    began = clock()
    for item in items:
        t = clock()
        call(item)
        lat.append(clock() - t)
    total = (clock() - began) / 1e9
    q = statistics.quantiles(lat, n=100)
    return q[49] / 1000, q[98] / 1000, len(items) / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    n = args.events
    tmp = Path(tempfile.mkdtemp(prefix="tierwise-bench-"))
    broker = None
    bootstrap = external_bootstrap()
    if bootstrap is None:
        broker = LocalBroker(Home(tmp / "home").ensure())
        bootstrap = broker.up().bootstrap
        assert bootstrap
    topics = ("bench.llm.usage.v1", "bench.llm.gpu.v1")
    ensure_topics(bootstrap, partitions=6, topics=topics)
    results: dict[str, tuple[float, float, float]] = {}
    try:
        q: queue.Queue[bytes] = queue.Queue()
        results["json+queue"] = timed(lambda e: q.put(json.dumps(e).encode()), events(n))

        from kafka import KafkaProducer

        raw = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
        results["kafka send"] = timed(
            lambda e: raw.send(topics[0], key=e["workload"].encode(), value=json.dumps(e).encode()), events(n)
        )
        raw.flush()
        raw.close()

        with TelemetryEmitter(bootstrap, topics[0], topics[1], tmp / "spill-a") as emitter:
            results["emit(dict)"] = timed(emitter.emit, events(n))
            assert emitter.flush(120), "emitter did not drain"
        sent = emitter.stats()
        assert sent.sent + sent.replayed == n, sent

        from schemas import parse_usage

        models = [parse_usage(e) for e in events(n)]
        with TelemetryEmitter(bootstrap, topics[0], topics[1], tmp / "spill-b") as emitter:
            results["emit(model)"] = timed(emitter.emit, models)

        away = TelemetryEmitter(f"127.0.0.1:{free_port()}", topics[0], topics[1], tmp / "spill-c", connect_grace_s=0)
        results["emit, Kafka away"] = timed(away.emit, events(n))
        away.close(timeout=10)
        assert away.stats().spilled == n, away.stats()
    finally:
        if broker is not None:
            broker.down()

    base_q, base_k = results["json+queue"], results["kafka send"]
    print(f"{n} events per variant, broker {bootstrap}")
    print(f"{'variant':<18}{'p50 µs':>9}{'p99 µs':>9}{'calls/s':>11}{'p50 vs json+queue':>19}{'p50 vs kafka send':>19}")
    for name, (p50, p99, rate) in results.items():
        print(f"{name:<18}{p50:>9.1f}{p99:>9.1f}{rate:>11,.0f}{p50 / base_q[0]:>18.1f}x{p50 / base_k[0]:>18.2f}x")


if __name__ == "__main__":
    main()
