"""`tierwise run` SIGKILLed at random points (as an OOM kill or a lost terminal would) never blocks the
next run, and every acknowledged event ends in the marts exactly once. SIGTERM stops a run cleanly.

Real broker, emitter, landing, dbt and Dagster instance; the runs are separate processes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from pipelines.run_guard import UNFINISHED
from tests.exactly_once import emit_acknowledged, tally
from tests.factories import usage_event

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.faults]

START = datetime(2026, 3, 1, tzinfo=UTC)


def _events(first: int, n: int) -> list[dict[str, object]]:
    # Spread over three days so each run builds a range of partitions.
    return [
        usage_event(i, event_time=(START + timedelta(seconds=i * 97 % (3 * 86400))).isoformat())
        for i in range(first, first + n)
    ]


def _env(tmp_path: Path, bootstrap: str, prefix: str) -> dict[str, str]:
    home = tmp_path / "home"
    env = dict(
        os.environ,
        TIERWISE_HOME=str(home),
        TIERWISE_WAREHOUSE=str(home / "warehouse.duckdb"),
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        TIERWISE_TOPIC_PREFIX=prefix,
        TIERWISE_POOL_WAIT_S="120",
    )
    env.pop("DAGSTER_HOME", None)
    return env


def _unfinished_runs(home: Path) -> list[str]:
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    try:
        with dg.DagsterInstance.get() as instance:
            return [r.dagster_run.run_id for r in instance.get_run_records(filters=dg.RunsFilter(statuses=UNFINISHED))]
    finally:
        del os.environ["DAGSTER_HOME"]


RUN = [sys.executable, "-m", "tierwise.cli", "run"]


def test_killed_runs_never_block_the_next_and_nothing_is_lost_or_doubled(
    kafka_bootstrap: str, fresh_topics: dict[str, str], topic_prefix: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, kafka_bootstrap, topic_prefix)
    spill = tmp_path / "spill"
    acknowledged: set[str] = set()
    rng = random.Random(20261202)
    kills = []
    for attempt in range(4):
        acknowledged |= emit_acknowledged(
            kafka_bootstrap, fresh_topics["usage"], _events(attempt * 1500, 1500), spill, gpu_topic=fresh_topics["gpu"]
        )
        proc = subprocess.Popen(RUN, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Anywhere from start-up through landing into the dbt build (a plain run takes about 35 s here).
        delay = rng.uniform(4.0, 30.0)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills.append(round(delay, 1))
    assert len(kills) >= 3, kills

    began = time.monotonic()
    done = subprocess.run(RUN, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - began < 200
    assert _unfinished_runs(Path(env["TIERWISE_HOME"])) == []
    result = tally(Path(env["TIERWISE_WAREHOUSE"]), acknowledged)
    assert (result.events, result.lost, result.duplicated, result.unexpected) == (6000, 0, 0, 0), (result, kills)


def test_sigterm_stops_a_run_cleanly_and_leaves_no_started_run(
    kafka_bootstrap: str, fresh_topics: dict[str, str], topic_prefix: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, kafka_bootstrap, topic_prefix)
    acknowledged = emit_acknowledged(
        kafka_bootstrap, fresh_topics["usage"], _events(0, 3000), tmp_path / "spill", gpu_topic=fresh_topics["gpu"]
    )
    for delay in (8.0, 18.0):  # during landing or the dbt build
        proc = subprocess.Popen(RUN, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, 130), err
        if proc.returncode == 130:
            assert err.strip().endswith("tierwise: interrupted") and "Traceback" not in err, err
        assert _unfinished_runs(Path(env["TIERWISE_HOME"])) == []
    done = subprocess.run(RUN, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = tally(Path(env["TIERWISE_WAREHOUSE"]), acknowledged)
    assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), result


def test_sigterm_stops_land_and_worker_cleanly(
    kafka_bootstrap: str, fresh_topics: dict[str, str], topic_prefix: str, tmp_path: Path
) -> None:
    from tests.factories import encode, produce, wait_for
    from tests.integration.test_landing_crash import Progress

    env = _env(tmp_path, kafka_bootstrap, topic_prefix)
    topic = fresh_topics["usage"]
    produce(kafka_bootstrap, topic, [encode(usage_event(i)) for i in range(60_000)])
    land = [sys.executable, "-m", "tierwise.cli", "land", "--topic", topic, "--batch-size", "2000"]
    progress = Progress(kafka_bootstrap, topic)
    proc = subprocess.Popen(land, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: progress.landed() >= 4000, timeout=60, what="first batches landed")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.strip().endswith("tierwise: interrupted") and "Traceback" not in err, err
    done = subprocess.run(land, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import duckdb

    with duckdb.connect(env["TIERWISE_WAREHOUSE"], read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT event_id) FROM raw.usage_events").fetchone() == (60_000, 60_000)

    worker = [sys.executable, "-m", "tierwise.cli", "worker", "--topic", topic, "--batch-size", "5000"]
    proc = subprocess.Popen(worker, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.strip().endswith("tierwise: interrupted"), err
    lake = Path(env["TIERWISE_HOME"]) / "lake"
    assert not [p for p in lake.rglob("*") if p.name.endswith(".tmp")]
