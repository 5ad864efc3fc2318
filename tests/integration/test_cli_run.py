"""`tierwise run` end to end: one line per dbt build with the full log in the home, failures that name
the failing nodes, and simulated traffic that never reaches past the run's clock.

Real broker, real landing job, real dbt build through the same Dagster jobs the UI runs.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from core.home import Home
from landing.warehouse import connect, mark_dirty_days
from pipelines.dbt_cli import read_run_results
from tierwise.cli import main

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

END = "2026-03-03T12:00"  # the simulator's "now": 2026-03-02 whole, 2026-03-03 until noon
LINE = re.compile(r"dbt build 2026-03-02\.\.2026-03-03: (\d+) nodes ok in [\d.]+s \(log: (\S+)\)")
BASE_LINE = re.compile(r"dbt build seeds\+staging: (\d+) nodes ok in [\d.]+s \(log: (\S+)\)")


def assert_sensors_start_nothing(home: Home) -> None:
    """Opening the UI after a run: both sensors agree with `tierwise status` that nothing is pending."""
    import dagster as dg

    from core.settings import Settings
    from pipelines.defs.dbt.sensors import dirty_days_sensor
    from pipelines.defs.landing.sensors import kafka_lag_sensor
    from pipelines.defs.resources import build_resources
    from reports.status import collect_status

    lags = [t["consumer_lag"] for t in collect_status()["topics"].values()]
    assert lags == [0, 0]
    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        for sensor in (kafka_lag_sensor, dirty_days_sensor):
            # The resources the definitions give the sensors (the lag sensor reads Kafka through one).
            context = dg.build_sensor_context(instance=instance, resources=build_resources(Settings.from_env()))
            tick = sensor.evaluate_tick(context)
            assert not tick.run_requests, (sensor.name, tick.run_requests)
            assert tick.skip_message, sensor.name


def test_run_prints_one_line_per_dbt_build_and_a_failure_names_the_failing_node(
    kafka_bootstrap: str,
    fresh_topics: dict[str, str],
    topic_prefix: str,
    tw_home: Home,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("TIERWISE_TOPIC_PREFIX", topic_prefix)
    assert (
        main(
            [
                "simulate",
                "--days",
                "2",
                "--end",
                END,
                "--rate",
                "0.005",
                "--seed",
                "5",
                "--bad-rate",
                "0",
                "--topic",
                fresh_topics["usage"],
                "--gpu-topic",
                fresh_topics["gpu"],
            ]
        )
        == 0
    )
    assert "2026-03-02 00:00 .. 2026-03-03 12:00 UTC (2 days)" in capfd.readouterr().out

    # the workload config reaches the warehouse with every dbt build
    (tw_home.root / "tierwise.yaml").write_text(
        "organization: {domicile: DE}\nworkloads:\n  - {name: pii-redactor, data_class: pii}\n"
    )
    assert main(["run"]) == 0
    out, err = capfd.readouterr()
    assert f"{fresh_topics['usage']}: landed " in out
    built = [m for m in map(LINE.fullmatch, out.splitlines()) if m]
    assert len(built) == 1, out
    log = Path(built[0].group(2))
    assert log.parent.parent == tw_home.dbt and log.is_file()
    # A fresh home builds the seeds and staging views first, once, then the marts of the dirty range.
    base = [m for m in map(BASE_LINE.fullmatch, out.splitlines()) if m]
    assert len(base) == 1, out
    assert int(built[0].group(1)) == len(read_run_results(log.parent) or [])
    assert int(base[0].group(1)) + int(built[0].group(1)) > 100
    # dbt's node-by-node output is in the log file, not on the console.
    assert "OK created sql incremental model" in log.read_text()
    assert "OK created" not in out + err and "START sql" not in out + err
    with duckdb.connect(str(tw_home.warehouse), read_only=True) as con:
        newest = con.execute("SELECT max(event_time), max(event_date) FROM raw.usage_events").fetchone()
    assert newest is not None and newest[0] < datetime(2026, 3, 3, 12) and newest[1] == date(2026, 3, 3)
    with duckdb.connect(str(tw_home.warehouse), read_only=True) as con:
        assert con.execute("SELECT workload, data_class FROM raw.workload_config").fetchall() == [("pii-redactor", "pii")]
        served = {w for (w,) in con.execute("SELECT DISTINCT workload FROM raw.usage_events WHERE NOT shadow").fetchall()}
    # `tierwise recommend` reads the tier_recommendation mart the run built: one row per workload with traffic
    assert main(["recommend", "--json"]) == 0
    recommended = json.loads(capfd.readouterr().out)
    assert {r["workload"] for r in recommended} == served
    pii = next(r for r in recommended if r["workload"] == "pii-redactor")
    assert pii["reasons"][0]["rule"] == "privacy"  # pii stays on our own GPUs (no ops team: the reason says so)
    # an EU organization: llama-4 models are out for everyone
    assert all(r["recommended_model"] not in ("llama-4-scout", "llama-4-maverick") for r in recommended)
    assert_sensors_start_nothing(tw_home)

    # A row that breaks a staging data test (landing would never let it in) fails the next build.
    con = connect(tw_home.warehouse)
    con.execute(
        "UPDATE raw.usage_events SET status = 'bogus' WHERE event_id = "
        "(SELECT min(event_id) FROM raw.usage_events WHERE event_date = DATE '2026-03-03')"
    )
    mark_dirty_days(con, "test", "SELECT DATE '2026-03-03', 1", datetime.now(UTC).replace(tzinfo=None))
    con.close()
    assert main(["run"]) == 2
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "OK created" not in out + err
    assert re.search(
        r"^tierwise: error: dbt build for 2026-03-03\.\.2026-03-03 failed \(\d+ ok, 1 fail(, \d+ skipped)? in ", err, re.M
    ), err
    assert re.search(r"^  fail: test accepted_values_stg_usage_events_status\w*: Got 1 result", err, re.M), err
    failed_log = re.search(r"^full dbt log: (\S+)$", err, re.M)
    assert failed_log and Path(failed_log.group(1)).is_file() and Path(failed_log.group(1)) != log
