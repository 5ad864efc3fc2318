"""A landing process killed with SIGKILL at random points ends with every acknowledged event exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from kafka import KafkaConsumer, TopicPartition

from landing.consumer import DEFAULT_CONSUMER
from tests.factories import encode, produce, usage_event

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


class Progress:
    """Records landing has committed, read from the offsets it mirrors to its consumer group."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.reader = KafkaConsumer(bootstrap_servers=bootstrap, group_id=DEFAULT_CONSUMER, enable_auto_commit=False)
        self.tps = [TopicPartition(topic, p) for p in sorted(self.reader.partitions_for_topic(topic) or ())]

    def landed(self) -> int:
        return sum(self.reader.committed(tp) or 0 for tp in self.tps)


EVENTS = 100_000


def test_sigkill_at_random_points_neither_loses_nor_duplicates(
    kafka_bootstrap: str, fresh_topics: dict[str, str], topic_prefix: str, tmp_path: Path
) -> None:
    topic = fresh_topics["usage"]
    # 2% are resends of an earlier event_id: they must land once, not twice.
    values = [encode(usage_event(i)) for i in range(EVENTS)]
    values += [encode(usage_event(i)) for i in range(0, EVENTS, 50)]
    produce(kafka_bootstrap, topic, values)
    env = dict(
        os.environ,
        TIERWISE_HOME=str(tmp_path / "home"),
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        TIERWISE_TOPIC_PREFIX=topic_prefix,
        TIERWISE_WAREHOUSE=str(tmp_path / "home" / "warehouse.duckdb"),
    )
    cmd = [sys.executable, "-m", "tierwise.cli", "land", "--topic", topic, "--batch-size", "2000"]
    rng = random.Random(20261128)
    progress = Progress(kafka_bootstrap, topic)
    kills = 0
    for _attempt in range(80):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # Kill at a random point inside landing: once it has committed a random number of further
        # records (read from the offsets it mirrors to Kafka), plus a random delay that lands the kill
        # anywhere in the next fetch, decode or DuckDB commit.
        target = progress.landed() + rng.randint(1, EVENTS // 4)
        while proc.poll() is None and progress.landed() < target:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.05))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            continue
        out = proc.stdout.read().decode() if proc.stdout else ""
        assert proc.returncode == 0, out
        break
    else:
        pytest.fail("landing never finished")
    progress.reader.close()
    # A last clean run must find nothing left.
    final = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    assert f"{topic}: landed 0," in final.stdout
    assert kills >= 3, "the test must actually interrupt landing several times"
    con = duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True)
    try:
        n, distinct = con.execute("SELECT count(*), count(DISTINCT event_id) FROM raw.usage_events").fetchone()
        assert (n, distinct) == (EVENTS, EVENTS)
        # Every Kafka offset of the topic is accounted for: landed, or a dropped duplicate.
        offsets = con.execute("SELECT sum(next_offset) FROM raw.kafka_offsets WHERE topic = ?", [topic]).fetchone()[0]
        assert offsets == len(values)
        dups = con.execute("SELECT sum(duplicates_dropped) FROM raw.landing_batches").fetchone()[0]
        assert dups == EVENTS // 50
        ids = con.execute("SELECT min(event_id), max(event_id) FROM raw.usage_events").fetchone()
        assert ids == ("ev-00000000", f"ev-{EVENTS - 1:08d}")
    finally:
        con.close()
