"""Fault injection with exact counts: every acknowledged event reaches the marts once, whatever fails.

One harness on its own broker (this module kills it): events go through the SDK into Kafka, through
landing and dbt, and at the end the acknowledged `event_id`s of each scenario are compared with what
`priced_requests` and `spend_daily` count (tests/exactly_once.py). The table of scenarios, events,
lost, duplicated and time to recover is printed at the end of the session; docs/operations.md keeps
the measured one. A negative control proves the checker fails when a row is lost or doubled.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import psutil
import pytest

from core.home import Home
from streaming.broker import LocalBroker, external_bootstrap
from streaming.topics import ensure_topics
from tests.exactly_once import FAULT_TABLE, Row, emit_acknowledged, tally
from tests.factories import encode, produce, usage_event, wait_for
from tests.integration.test_landing_crash import Progress

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.faults]

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    if external_bootstrap():
        pytest.skip("the fault harness kills its own local broker; KAFKA_BOOTSTRAP_SERVERS points elsewhere")
    local = LocalBroker(Home(tmp_path_factory.mktemp("fault-broker")).ensure(), heap="384m")
    local.up()
    try:
        yield local
    finally:
        local.down()


class Harness:
    """One tierwise home on the module's broker; ids of each scenario start with its name."""

    def __init__(self, broker: LocalBroker, root: Path) -> None:
        self.broker = broker
        self.root = root
        self.bootstrap = broker.bootstrap() or ""
        self.prefix = "faults."
        self.usage = f"{self.prefix}llm.usage.v1"
        self.gpu = f"{self.prefix}llm.gpu.v1"
        ensure_topics(self.bootstrap, partitions=3, topics=(self.usage, self.gpu, f"{self.usage}.dlq", f"{self.gpu}.dlq"))
        home = root / "home"
        self.warehouse = home / "warehouse.duckdb"
        self.env = dict(
            os.environ,
            TIERWISE_HOME=str(home),
            TIERWISE_WAREHOUSE=str(self.warehouse),
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap,
            TIERWISE_TOPIC_PREFIX=self.prefix,
            TIERWISE_LOCK_TIMEOUT="120",
        )
        self.env.pop("DAGSTER_HOME", None)
        self.acked: dict[str, set[str]] = {}
        self.recover: dict[str, float] = {}

    def events(self, scenario: str, n: int, when: Any = None) -> list[dict[str, Any]]:
        first = len(self.acked.get(scenario, ()))
        out = []
        for i in range(first, first + n):
            at = when(i) if when else NOW - timedelta(hours=2, seconds=i)
            out.append(usage_event(i, event_id=f"{scenario}-{i:06d}", event_time=at.isoformat()))
        return out

    def emit(self, scenario: str, events: list[dict[str, Any]], **kwargs: Any) -> None:
        ids = emit_acknowledged(self.bootstrap, self.usage, events, self.root / "spill", gpu_topic=self.gpu, **kwargs)
        self.acked.setdefault(scenario, set()).update(ids)

    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tierwise.cli", *args]

    def run(self, *args: str, expect: int = 0, timeout: float = 300) -> float:
        began = time.monotonic()
        done = subprocess.run(self.cli(*args), env=self.env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == expect, (args, done.stdout, done.stderr)
        return time.monotonic() - began


@pytest.fixture(scope="module")
def harness(broker: LocalBroker, tmp_path_factory: pytest.TempPathFactory) -> Harness:
    return Harness(broker, tmp_path_factory.mktemp("faults"))


def test_broker_sigkill_and_restart_early_middle_late(harness: Harness) -> None:
    events = harness.events("broker_kill", 3000)
    kill_at = {300, 1500, 2700}
    restarts: list[float] = []
    emitted: list[dict[str, Any]] = []

    def stream(emitter: Any) -> None:
        for n, event in enumerate(events):
            if n in kill_at:
                pid = harness.broker.pid()
                assert pid is not None
                psutil.Process(pid).kill()
                psutil.Process(pid).wait(10)
                time.sleep(1.0)  # the emitter spills meanwhile
                began = time.monotonic()
                harness.broker.up()
                restarts.append(time.monotonic() - began)
            assert emitter.emit(event)
            emitted.append(event)
            if n % 100 == 0:
                time.sleep(0.05)

    from ingest.emitter import TelemetryEmitter

    with TelemetryEmitter(
        harness.bootstrap, topic=harness.usage, gpu_topic=harness.gpu, spill_dir=harness.root / "spill-broker"
    ) as emitter:
        stream(emitter)
        began = time.monotonic()
        assert emitter.flush(timeout=180)
        drained = time.monotonic() - began
        stats = emitter.stats()
    assert stats.dropped == 0 and stats.sent + stats.replayed == len(events), stats
    harness.acked["broker_kill"] = {e["event_id"] for e in emitted}
    harness.recover["broker_kill"] = max(restarts) + drained
    harness.run("land")


def _progress_kill(harness: Harness, cmd: list[str], progress: Progress, at: int, rng: random.Random) -> bool:
    proc = subprocess.Popen(cmd, env=harness.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: progress.landed() >= at or proc.poll() is not None, timeout=120, what=f"offset {at} committed")
        time.sleep(rng.uniform(0.0, 0.3))  # anywhere in the next fetch, decode or commit
    finally:
        killed = proc.poll() is None
        proc.kill()
        proc.wait()
    return killed


def test_landing_sigkill_before_during_after_commit(harness: Harness) -> None:
    progress = Progress(harness.bootstrap, harness.usage)
    base = progress.landed()
    values = [encode(e) for e in harness.events("landing_kill", 30_000)]
    produce(harness.bootstrap, harness.usage, values)
    harness.acked["landing_kill"] = {f"landing_kill-{i:06d}" for i in range(30_000)}
    rng = random.Random(7)
    land = harness.cli("land", "--topic", harness.usage, "--batch-size", "2000")
    kills = sum(_progress_kill(harness, land, progress, base + at, rng) for at in (1, 14_000, 27_000))
    assert kills >= 2
    harness.recover["landing_kill"] = harness.run("land")


def test_duplicated_deliveries_late_events_and_skewed_clocks(harness: Harness) -> None:
    events = harness.events("duplicates", 2000)
    harness.emit("duplicates", events)
    # Every event delivered twice more: a producer retry and a replay of the same bytes.
    produce(harness.bootstrap, harness.usage, [encode(e) for e in events] * 2)
    harness.emit("late_7d", harness.events("late_7d", 1400, when=lambda i: NOW - timedelta(days=1 + i % 7, seconds=i)))
    skew = harness.events("clock_skew", 1000, when=lambda i: NOW + timedelta(minutes=10 if i % 2 else -10, seconds=-(i % 30)))
    harness.emit("clock_skew", skew)
    # One landing recovers all three.
    harness.recover["duplicates"] = harness.recover["late_7d"] = harness.recover["clock_skew"] = harness.run("land")


def test_long_read_only_reader_holds_the_file(harness: Harness) -> None:
    harness.emit("long_reader", harness.events("long_reader", 2000))
    hold = (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1], read_only=True); "
        "con.execute('SELECT count(*) FROM raw.usage_events').fetchall(); print('open', flush=True); time.sleep(8)"
    )
    reader = subprocess.Popen([sys.executable, "-c", hold, str(harness.warehouse)], stdout=subprocess.PIPE, text=True)
    assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
    seconds = harness.run("land")
    reader.wait(30)
    assert seconds >= 5  # it waited for the reader instead of failing
    harness.recover["long_reader"] = seconds


def test_lake_worker_killed_mid_file(harness: Harness) -> None:
    harness.emit("lake_kill", harness.events("lake_kill", 6000))
    lake = Path(harness.env["TIERWISE_HOME"]) / "lake" / harness.usage
    worker = harness.cli("worker", "--topic", harness.usage, "--batch-size", "500", "--group", "faults-lake")
    proc = subprocess.Popen(worker, env=harness.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(list(lake.rglob("*.parquet"))) >= 3, timeout=90, what="lake files")
    finally:
        proc.kill()
        proc.wait()
    began = time.monotonic()
    harness.run("worker", "--topic", harness.usage, "--batch-size", "500", "--group", "faults-lake", "--idle-exit", "3")
    harness.run("land")
    harness.recover["lake_kill"] = time.monotonic() - began


def test_tierwise_run_and_dbt_killed_then_rerun(harness: Harness) -> None:
    harness.emit("run_kill", harness.events("run_kill", 2000))
    proc = subprocess.Popen(harness.cli("run"), env=harness.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(6.0)
    proc.kill()
    proc.wait()

    harness.emit("dbt_kill", harness.events("dbt_kill", 2000))
    proc = subprocess.Popen(harness.cli("run"), env=harness.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def dbt_child() -> psutil.Process | None:
        for child in psutil.Process(proc.pid).children(recursive=True):
            try:
                if "build" in child.cmdline() and any("dbt" in part for part in child.cmdline()):
                    return child
            except psutil.Error:
                continue
        return None

    wait_for(lambda: dbt_child() is not None or proc.poll() is not None, timeout=120, what="dbt started")
    child = dbt_child()
    assert child is not None, proc.communicate()
    time.sleep(random.Random(3).uniform(3.0, 8.0))  # mid-model
    child.kill()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "tierwise: error: " in err and "Traceback" not in err, err
    # The next plain run recovers both the killed run and the killed dbt.
    harness.recover["dbt_kill"] = harness.recover["run_kill"] = harness.run("run")


def test_fault_table_zero_lost_zero_duplicated_and_the_checker_catches_both(harness: Harness) -> None:
    harness.run("run")  # whatever is still dirty
    every = set().union(*harness.acked.values())
    assert tally(harness.warehouse, every).exact
    rows = []
    for scenario, ids in harness.acked.items():
        result = tally(harness.warehouse, every, scope=ids)
        rows.append(Row(scenario, len(ids), result.lost, result.duplicated, harness.recover.get(scenario, 0.0)))
        assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), (scenario, result)
    FAULT_TABLE.extend(rows)

    # Negative control: a copy of the warehouse with one acknowledged row removed and one doubled.
    copy = harness.root / "control.duckdb"
    shutil.copy(harness.warehouse, copy)
    lost_id, doubled_id = sorted(harness.acked["duplicates"])[:2]
    with duckdb.connect(str(copy)) as con:
        con.execute("DELETE FROM main.priced_requests WHERE event_id = ?", [lost_id])
        con.execute("INSERT INTO main.priced_requests SELECT * FROM main.priced_requests WHERE event_id = ?", [doubled_id])
    broken = tally(copy, every)
    assert (broken.lost, broken.duplicated) == (1, 1) and not broken.exact
    with duckdb.connect(str(copy)) as con:
        con.execute("INSERT INTO raw.usage_events SELECT * FROM raw.usage_events WHERE event_id = ?", [lost_id])
        con.execute(
            "UPDATE main.spend_daily SET requests = requests + 1 "
            "WHERE rowid = (SELECT min(rowid) FROM main.spend_daily WHERE requests > 0)"
        )
    assert tally(copy, every).duplicated == 3  # the doubled mart row, the doubled raw row, the overcount
