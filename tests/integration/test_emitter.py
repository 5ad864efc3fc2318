"""The emitter SDK against a real broker: round trip, ordering, leftover spills, and a broker kill."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import psutil
import pytest

from core.home import Home
from ingest.emitter import TelemetryEmitter
from schemas import parse_gpu, parse_usage
from streaming.broker import LocalBroker, free_port
from streaming.topics import ensure_topics
from tests.factories import encode, gpu_event, produce, read_topic, usage_event, wait_for

pytestmark = pytest.mark.kafka


def test_sdk_and_a_plain_producer_land_identical_events(
    kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path
) -> None:
    events = [usage_event(i, tags={"app": "x"}) for i in range(200)]
    gpus = [gpu_event(i, hourly_price_usd="2.49") for i in range(5)]
    with TelemetryEmitter(kafka_bootstrap, fresh_topics["usage"], fresh_topics["gpu"], tmp_path) as emitter:
        for e in events[:100] + gpus:
            assert emitter.emit(e)
        assert emitter.flush(timeout=60)
    produce(kafka_bootstrap, fresh_topics["usage"], [encode(e) for e in events[100:]])
    stats = emitter.stats()
    assert (stats.sent, stats.spilled, stats.invalid, stats.dropped) == (105, 0, 0, 0)

    usage = read_topic(kafka_bootstrap, fresh_topics["usage"], 200)
    landed = {parse_usage(m.value).event_id: parse_usage(m.value) for m in usage}
    assert len(usage) == len(landed) == 200
    for e in events:
        assert landed[e["event_id"]] == parse_usage(e)
    sdk = [m for m in usage if m.key is not None]
    assert len(sdk) == 100 and all(m.key.decode() == parse_usage(m.value).event_id for m in sdk)
    gpu = read_topic(kafka_bootstrap, fresh_topics["gpu"], 5)
    landed_gpu = sorted((parse_gpu(m.value) for m in gpu), key=lambda g: g.event_id)
    assert landed_gpu == [parse_gpu(g) for g in gpus]
    assert {m.key for m in gpu} == {b"gpu-east-1"}


def test_usage_spreads_over_every_partition_in_emit_order(
    kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path
) -> None:
    # One busy workload must not bound a consumer group: usage is keyed by event id, not by workload.
    with TelemetryEmitter(kafka_bootstrap, fresh_topics["usage"], fresh_topics["gpu"], tmp_path) as emitter:
        for i in range(3000):
            emitter.emit({**usage_event(i), "workload": "the-only-workload"})
    by_partition: dict[int, list[str]] = defaultdict(list)
    for m in read_topic(kafka_bootstrap, fresh_topics["usage"], 3000):
        by_partition[m.partition].append(parse_usage(m.value).event_id)
    assert sum(map(len, by_partition.values())) == 3000
    assert sorted(by_partition) == [0, 1, 2] and min(map(len, by_partition.values())) > 700
    # Within a partition the events keep the order they were emitted in (usage_event ids sort that way).
    assert all(ids == sorted(ids) for ids in by_partition.values())


def test_a_spill_left_on_disk_is_delivered_by_the_next_emitter(
    kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path
) -> None:
    away = TelemetryEmitter(
        f"127.0.0.1:{free_port()}", fresh_topics["usage"], fresh_topics["gpu"], tmp_path, connect_grace_s=0.1
    )
    for i in range(300):
        away.emit(usage_event(i))
    wait_for(lambda: away.stats().spilled == 300, what="spill")
    away.close(timeout=5)
    assert list(tmp_path.glob("seg-*.jsonl"))

    with TelemetryEmitter(kafka_bootstrap, fresh_topics["usage"], fresh_topics["gpu"], tmp_path) as back:
        back.emit(usage_event(300))  # newer than the spill: must land after it
        assert back.flush(timeout=60)
        stats = back.stats()
    # The new event queued behind the leftover spill (it is newer), so it went out by replay too.
    assert stats.replayed + stats.sent == 301 and stats.replayed >= 300
    assert list(tmp_path.glob("seg-*.jsonl")) == []
    landed = read_topic(kafka_bootstrap, fresh_topics["usage"], 301)
    assert len(landed) == 301
    by_partition: dict[int, list[str]] = defaultdict(list)
    for m in landed:
        by_partition[m.partition].append(parse_usage(m.value).event_id)
    assert all(ids == sorted(ids) for ids in by_partition.values())
    assert any(ids[-1] == "ev-00000300" for ids in by_partition.values())


def test_broker_killed_mid_stream_then_restarted_every_event_arrives_exactly_once(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    broker = LocalBroker(home, heap="384m")
    bootstrap = broker.up().bootstrap
    assert bootstrap
    topics = {"usage": "kill.llm.usage.v1", "gpu": "kill.llm.gpu.v1"}
    ensure_topics(bootstrap, partitions=3, topics=tuple(topics.values()))
    emitter = TelemetryEmitter(bootstrap, topics["usage"], topics["gpu"], tmp_path / "spill", stall_timeout_s=2.0)
    emitted = 0
    stop = threading.Event()

    def produce_steadily() -> None:
        nonlocal emitted
        while not stop.is_set():
            assert emitter.emit(usage_event(emitted))
            emitted += 1
            if emitted % 20 == 0:
                time.sleep(0.005)  # an application's pace, not a tight loop

    worker = threading.Thread(target=produce_steadily)
    worker.start()
    try:
        wait_for(lambda: emitter.stats().sent > 2000, what="direct sends")
        pid = broker.pid()
        assert pid is not None
        psutil.Process(pid).kill()  # SIGKILL: no clean shutdown, data dir kept
        wait_for(lambda: emitter.stats().spilling, what="spilling")
        spilled_before = emitter.stats().spilled
        wait_for(lambda: emitter.stats().spilled > spilled_before + 1000, what="more spill")
        broker.up()  # same port (port file), same data
        wait_for(lambda: emitter.stats().replayed > 0, what="replay", timeout=120)
    finally:
        stop.set()
        worker.join()
    try:
        assert emitter.flush(timeout=120)
        emitter.close(timeout=30)
        stats = emitter.stats()
        assert stats.dropped == 0 and stats.invalid == 0
        assert stats.sent + stats.spilled == emitted
        assert stats.replayed == stats.spilled > 0

        messages = read_topic(bootstrap, topics["usage"], emitted, timeout=120)
        counts = Counter(parse_usage(m.value).event_id for m in messages)
        print(
            f"emitted {emitted}, total messages {len(messages)}, distinct {len(counts)}, "
            f"direct {stats.sent}, spilled+replayed {stats.replayed}"
        )
        assert len(counts) == emitted  # nothing lost
        assert len(messages) == emitted  # nothing twice, even for events in flight at the kill
        by_partition: dict[int, list[str]] = defaultdict(list)
        for m in messages:
            by_partition[m.partition].append(parse_usage(m.value).event_id)
        assert all(ids == sorted(ids) for ids in by_partition.values())  # each partition in emit order
    finally:
        emitter.close(timeout=5)
        broker.down()
