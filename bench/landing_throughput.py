"""Landing throughput against a bare kafka-python consume loop, in the same process, same topic.

    python bench/landing_throughput.py [--events 1000000] [--batch-size 50000] [--rounds 3] [--mix simulator|uniform]

The default mix is what users send: the simulator's usage traffic (every optional field, tags, several
workloads and tiers, duplicates, late events and about 0.2% malformed lines spread through it). The
uniform mix (one event shape, no bad lines) is the easy case, kept as a second line.

Starts its own broker in a temp home, produces the events once, then, for each round, reads the
whole topic twice:
1. baseline: a bare kafka-python consume loop (assign, poll until the high watermark, touch each
   value), with the same fetch sizes and max_poll_records as landing;
2. landing: TopicLander into a fresh DuckDB file (whole-batch record reading, columnar validation,
   one DuckDB transaction per batch with its offsets).
Prints events/s of every round, the medians, their ratio (landing / baseline; the target is
>= 0.80), how many events pydantic had to validate one by one, and the peak RSS growth of each
phase sampled by a background thread. Rounds alternate so that a noisy neighbour hits both sides.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from landing.limits import DEFAULT_BATCH_SIZE


class PeakRss:
    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def make_events(n: int) -> list[bytes]:
    base = datetime(2026, 3, 1, tzinfo=UTC)
    tiers = [
        ("closed_api", "openai", "gpt-5.4", None),
        ("hosted_open_api", "together", "llama-4-maverick", None),
        ("self_hosted", "vllm", "qwen3.5-72b", "gpu-east-1"),
    ]
    out = []
    for i in range(n):
        tier, provider, model, deployment = tiers[i % 3]
        ev = {
            "event_id": f"b-{i:010d}",
            "event_time": (base + timedelta(milliseconds=37 * i)).isoformat(),
            "tier": tier,
            "provider": provider,
            "model": model,
            "workload": f"wl-{i % 17}",
            "team": f"t-{i % 5}",
            "input_tokens": 800 + i % 900,
            "output_tokens": 120 + i % 300,
            "cached_input_tokens": i % 400,
            "duration_ms": 350.0 + i % 1000,
            "ttft_ms": 80.0 + i % 90,
            "status": "ok" if i % 50 else "error",
        }
        if deployment:
            ev["deployment"] = deployment
        out.append(json.dumps(ev).encode())
    return out


def simulator_events(n: int) -> list[tuple[bytes, bytes]]:
    """The first `n` usage-topic messages (keys, values) of a seeded simulated month, bad lines included."""
    from ingest.simulator import SimConfig, Simulator

    out: list[tuple[bytes, bytes]] = []
    # A fixed past month: every event is inside landing's time window, the run is reproducible.
    for rec in Simulator(SimConfig(days=30, start=datetime(2026, 10, 1).date(), seed=7)).records():
        if rec.kind in ("usage", "bad"):
            out.append((rec.key, rec.value))
            if len(out) == n:
                break
    return out


def timed(label: str, fn: Callable[[], int]) -> tuple[float, float]:
    with PeakRss() as rss:
        t0 = time.perf_counter()
        n = fn()
        dt = time.perf_counter() - t0
    rate = n / dt
    print(f"{label:<28} {n:>10,} events in {dt:7.2f}s = {rate:>10,.0f} events/s, peak RSS +{rss.growth_mb:,.0f} MiB")
    return rate, rss.growth_mb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mix", choices=("simulator", "uniform"), default="simulator")
    args = ap.parse_args()

    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    from core.home import Home
    from landing.consumer import TopicLander
    from landing.warehouse import connect
    from streaming.broker import LocalBroker
    from streaming.topics import USAGE_TOPIC, ensure_topics

    tmp = Path(tempfile.mkdtemp(prefix="tierwise-bench-"))
    broker = LocalBroker(Home(tmp / "home").ensure(), heap="1g")
    bootstrap = broker.up().bootstrap or ""
    try:
        ensure_topics(bootstrap, partitions=6, topics=(USAGE_TOPIC, USAGE_TOPIC + ".dlq"))
        if args.mix == "simulator":
            messages = simulator_events(args.events)
        else:
            messages = [(f"wl-{i % 17}".encode(), v) for i, v in enumerate(make_events(args.events))]
        args.events = len(messages)
        producer = KafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20, batch_size=512 * 1024
        )
        t0 = time.perf_counter()
        for key, value in messages:
            producer.send(USAGE_TOPIC, key=key, value=value)
        producer.flush()
        producer.close()
        print(f"produced {len(messages):,} {args.mix} messages in {time.perf_counter() - t0:.1f}s")
        del messages

        def bare() -> int:
            c = KafkaConsumer(
                bootstrap_servers=bootstrap,
                enable_auto_commit=False,
                group_id=None,
                max_poll_records=args.batch_size,
                fetch_max_bytes=32 * 2**20,
                max_partition_fetch_bytes=8 * 2**20,
                fetch_max_wait_ms=200,
            )
            tps = [TopicPartition(USAGE_TOPIC, p) for p in sorted(c.partitions_for_topic(USAGE_TOPIC))]
            c.assign(tps)
            c.seek_to_beginning()
            end = c.end_offsets(tps)
            n = nbytes = 0
            while any(c.position(tp) < end[tp] for tp in tps):
                for recs in c.poll(timeout_ms=500).values():
                    for r in recs:
                        nbytes += len(r.value)
                    n += len(recs)
            c.close()
            return n

        slow: list[int] = []

        def landing() -> int:
            con = connect(tmp / f"warehouse-{len(slow)}.duckdb")
            lander = TopicLander(bootstrap, con, USAGE_TOPIC, batch_size=args.batch_size, mirror_offsets=True)
            result = lander.land()
            rows = con.execute("SELECT count(*) FROM raw.usage_events").fetchall()[0][0]
            con.close()
            # Every message is accounted for: landed, a dropped duplicate, or a dead letter.
            assert rows == result.landed and result.landed + result.duplicates + result.rejected == args.events, (
                rows,
                result,
            )
            slow.append(lander.decoder.slow_rows)
            return result.landed + result.duplicates + result.rejected

        bare_rates, land_rates = [], []
        for r in range(1, args.rounds + 1):
            bare_rates.append(timed(f"round {r} bare consume loop", bare)[0])
            land_rates.append(timed(f"round {r} landing", landing)[0])
        base_rate, land_rate = statistics.median(bare_rates), statistics.median(land_rates)
        print(f"median: bare consume loop {base_rate:,.0f} events/s, landing {land_rate:,.0f} events/s")
        print(f"ratio landing / bare consume = {land_rate / base_rate:.2f} (target >= 0.80)")
        print(f"validated one by one by pydantic: {max(slow):,} of {args.events:,} events")
    finally:
        broker.down()


if __name__ == "__main__":
    main()
