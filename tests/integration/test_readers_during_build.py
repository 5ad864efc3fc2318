"""Readers never break a build: `tierwise spend`/`status` style reads in a loop while `tierwise run` lands and
builds, one of them holding the file for seconds just as dbt starts. DuckDB lets one process hold the file
while it writes; every writer (landing, dbt, the dirty-day marks) waits out a reader's lock instead of failing.

Real broker, real landing, real dbt in its own process, readers in another process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.home import Home
from tierwise.cli import main

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

# A separate process: DuckDB's lock is per process. It holds the file for 4 s as soon as the build's dbt has
# written its graph (it opens the warehouse right after), then reads in a loop until told to stop; each read
# waits out the build's lock the way `tierwise spend` does.
READER = """
import sys, time
from pathlib import Path
from core.warehouse_lock import read_only

warehouse, dbt_dir, stop = map(Path, sys.argv[1:4])
held, reads = 0.0, 0
while not stop.exists():
    if not held and any(dbt_dir.glob("*/graph_summary.json")):
        with read_only(warehouse) as con:
            con.execute("select count(*) from raw.usage_events").fetchone()
            started = time.monotonic()
            time.sleep(4)
            held = time.monotonic() - started
    with read_only(warehouse) as con:
        con.execute("select count(*) from raw.usage_events").fetchone()
    reads += 1
    time.sleep(0.05)
print(reads, round(held, 1))
"""


def test_a_build_waits_out_readers_holding_the_warehouse(
    kafka_bootstrap: str,
    fresh_topics: dict[str, str],
    topic_prefix: str,
    tw_home: Home,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("TIERWISE_TOPIC_PREFIX", topic_prefix)
    monkeypatch.setenv("TIERWISE_LOCK_TIMEOUT", "300")  # readers wait out a whole build on a slow machine
    sim = ["simulate", "--days", "2", "--end", "2026-03-03T12:00", "--rate", "0.005", "--seed", "3", "--bad-rate", "0"]
    assert main([*sim, "--topic", fresh_topics["usage"], "--gpu-topic", fresh_topics["gpu"]]) == 0
    assert main(["run", "--land-only"]) == 0  # the warehouse exists; its days wait for a build
    capfd.readouterr()

    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(tw_home.warehouse), str(tw_home.dbt), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        code = main(["run"])
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=120)
    run_out, run_err = capfd.readouterr()
    assert code == 0, run_out + run_err
    assert "dbt build 2026-03-02..2026-03-03: " in run_out and " nodes ok " in run_out, run_out
    # The reader never failed either: it held the file as dbt started, then kept reading through the build.
    assert reader.returncode == 0, err
    reads, held = out.split()
    assert float(held) >= 4.0 and int(reads) >= 3, out
