"""Progress a person sees: `tierwise run` follows the dbt log to show nodes done of total, and `simulate`
counts simulated hours."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console

from ingest.simulator import SimConfig, write_jsonl
from pipelines.run_progress import BuildState, RunProgress


def dbt_line(name: str, **data: object) -> str:
    return json.dumps({"data": data, "info": {"name": name, "level": "info", "msg": ""}})


def test_build_state_counts_finished_nodes_of_the_total_dbt_announces() -> None:
    state = BuildState()
    assert state.describe() == "parsing the project"
    state.read(dbt_line("FoundStats", stat_line="16 models, 104 data tests, 5 seeds, 3 sources, 532 macros, 16 unit tests"))
    assert state.read(dbt_line("ConcurrencyLine", node_count=125, num_threads=1))
    assert state.describe() == "0/141 nodes"  # dbt build runs the unit tests as nodes too
    assert state.read(dbt_line("NodeFinished", node_info={"unique_id": "model.tierwise.spend_daily"}))
    assert not state.read(dbt_line("SQLQuery", sql="select 1")) and not state.read("not json")
    assert state.describe() == "1/141 nodes, model spend_daily"


def test_the_live_line_follows_a_growing_dbt_log(tmp_path: Path) -> None:
    log = tmp_path / "dbt.log"
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with (
        RunProgress(enabled=True, console=console) as progress,
        progress.dbt_build("dbt build 2026-03-02..2026-03-03", log) as state,
    ):
        time.sleep(0.3)  # dbt has not written its log yet: the line says it is parsing
        with log.open("w") as fh:
            fh.write(dbt_line("FoundStats", stat_line="2 models, 1 unit test") + "\n")
            fh.write(dbt_line("ConcurrencyLine", node_count=2) + "\n")
            fh.write(dbt_line("NodeFinished", node_info={"unique_id": "model.tierwise.stg_usage_events"}) + "\n")
            fh.write(dbt_line("NodeFinished", node_info={"unique_id": "model.tierwise.spend_daily"}))  # no newline yet
        deadline = time.monotonic() + 5
        while state.done < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (state.done, state.total) == (1, 3)  # the half-written line waits for its newline
        with log.open("a") as fh:
            fh.write("\n")
        while state.done < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state.done == 2
        time.sleep(0.3)  # let the bar redraw
    shown = out.getvalue()
    assert "dbt build 2026-03-02..2026-03-03: parsing the project" in shown
    assert "dbt build 2026-03-02..2026-03-03: 2/3 nodes, model spend_daily" in shown


def test_disabled_progress_prints_nothing(tmp_path: Path) -> None:
    out = io.StringIO()
    with (
        RunProgress(enabled=False, console=Console(file=out, force_terminal=True)) as progress,
        progress.landing(),
        progress.dbt_build("dbt build", tmp_path / "dbt.log") as state,
    ):
        assert state.total is None
    assert out.getvalue() == ""


def test_simulate_reports_each_simulated_hour_up_to_the_cut(tmp_path: Path) -> None:
    cfg = SimConfig(days=2, start=date(2026, 3, 1), end=datetime(2026, 3, 2, 12, 30, tzinfo=UTC), rate=0.001, seed=1)
    seen: list[tuple[int, int]] = []
    write_jsonl(cfg.resolved(datetime(2026, 3, 5, tzinfo=UTC)), str(tmp_path / "sim.jsonl"), lambda n, t: seen.append((n, t)))
    assert seen == [(n, 37) for n in range(1, 38)]  # 24 h of March 1st, then 00:00..12:30 of March 2nd
