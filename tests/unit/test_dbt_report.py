"""What `tierwise run` says about a dbt run: one line when it worked, the failing nodes when it did not."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from core.home import Home
from pipelines.dbt_cli import DbtRunReport, NodeResult, dbt_run_dir, describe_counts, prune_run_dirs, read_run_results
from pipelines.run import _dbt_console
from pipelines.step_errors import error_lines

FIRST, LAST = date(2026, 11, 26), date(2026, 11, 28)


def nodes(**counts: int) -> list[NodeResult]:
    out = []
    for status, n in counts.items():
        out += [NodeResult(f"model.tierwise.{status}_{i}", status.replace("_", "-"), "OK") for i in range(n)]
    return out


def write_run_results(target: Path, results: list[dict[str, object]]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / "run_results.json").write_text(json.dumps({"metadata": {}, "results": results, "elapsed_time": 1.0}))


def test_counts_read_as_all_ok_or_spell_out_what_was_not() -> None:
    assert describe_counts(nodes(success=21, no_op=1, **{"pass": 111})) == "133 nodes ok"
    assert describe_counts(nodes(success=1)) == "1 node ok"
    assert describe_counts(nodes(success=20, warn=2, fail=1, error=1, skipped=9)) == "20 ok, 2 warn, 1 error, 1 fail, 9 skipped"


def test_a_successful_run_is_one_line_with_its_log() -> None:
    report = DbtRunReport(
        FIRST, LAST, ok=True, seconds=21.44, log_path=Path("/h/dbt/ab12cd34/dbt.log"), nodes=nodes(success=22, **{"pass": 111})
    )
    assert report.line() == "dbt build 2026-11-26..2026-11-28: 133 nodes ok in 21.4s (log: /h/dbt/ab12cd34/dbt.log)"
    assert "\n" not in report.line()


def test_a_failure_names_each_failing_node_with_dbt_error_lines_and_the_log(tmp_path: Path) -> None:
    target = tmp_path / "dbt" / "ab12cd34"
    write_run_results(
        target,
        [
            {"unique_id": "seed.tierwise.model_prices", "status": "success", "message": "INSERT 40"},
            {
                "unique_id": "model.tierwise.spend_daily",
                "status": "error",
                "message": (
                    "Runtime Error in model spend_daily (models/marts/spend_daily.sql)\n  Binder Error: column x not found\n"
                ),
            },
            {
                "unique_id": "test.tierwise.accepted_values_stg_usage_events_status__ok__error.5f1c",
                "status": "fail",
                "message": "Got 1 result, configured to fail if != 0",
            },
            {"unique_id": "model.tierwise.focus_cost_and_usage", "status": "skipped", "message": None},
            {"unique_id": "unit_test.tierwise.stg_usage_events.splits_token_types", "status": "error", "message": "diff"},
        ],
    )
    report = DbtRunReport(FIRST, LAST, ok=False, seconds=3.0, log_path=target / "dbt.log", nodes=read_run_results(target))
    assert report.failure_text().splitlines() == [
        "dbt build for 2026-11-26..2026-11-28 failed (1 ok, 2 error, 1 fail, 1 skipped in 3.0s):",
        "  error: model spend_daily: Runtime Error in model spend_daily (models/marts/spend_daily.sql)",
        "      Binder Error: column x not found",
        "  fail: test accepted_values_stg_usage_events_status__ok__error: Got 1 result, configured to fail if != 0",
        "  error: unit_test stg_usage_events.splits_token_types: diff",
        f"full dbt log: {target / 'dbt.log'}",
    ]
    assert report.line(with_log=False) == "dbt build 2026-11-26..2026-11-28: failed, 1 ok, 2 error, 1 fail, 1 skipped in 3.0s"


def test_many_failures_are_capped_and_a_failure_without_results_shows_the_step_error(tmp_path: Path) -> None:
    many = [NodeResult(f"model.tierwise.m{i}", "error", f"boom {i}") for i in range(14)]
    text = DbtRunReport(FIRST, LAST, ok=False, seconds=1.0, log_path=tmp_path / "dbt.log", nodes=many).failure_text()
    assert "boom 9" in text and "boom 10" not in text and "  ... and 4 more" in text
    # dbt stopped before running any node (a bad profile, a parse error): no run_results.json.
    assert read_run_results(tmp_path / "nothing") is None
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run_results.json").write_text("{not json")
    assert read_run_results(tmp_path / "broken") is None
    report = DbtRunReport(
        FIRST, LAST, ok=False, seconds=1.0, log_path=tmp_path / "dbt.log", error="Could not find profile named 'tierwise'"
    )
    assert report.failure_text().splitlines()[1:] == [
        "  Could not find profile named 'tierwise'",
        f"full dbt log: {tmp_path / 'dbt.log'}",
    ]


def test_step_errors_keep_dbt_lines_that_dagster_dbt_parsed() -> None:
    message = (
        "dagster_dbt.errors.DagsterDbtCliRuntimeError: The dbt CLI process failed with exit code `2`.\n\n"
        "Errors parsed from dbt logs:\n\nEncountered an error:\nParsing Error\n  bad yaml in x.yml\n"
    )
    assert error_lines(message) == "Encountered an error:\nParsing Error\n  bad yaml in x.yml"
    assert error_lines("Traceback...\nKeyError: 'x'\n") == "KeyError: 'x'"
    assert error_lines("Errors parsed from dbt logs:\n" + "\n".join(f"e{i}" for i in range(20)), limit=3) == (
        "e0\ne1\ne2\n... (17 more lines)"
    )


def test_run_folders_live_in_the_home_and_only_the_newest_are_kept(tmp_path: Path) -> None:
    home = Home(tmp_path)
    assert dbt_run_dir(home.dbt, "0123abcd-4567-89ef-0123-456789abcdef") == tmp_path / "dbt" / "0123abcd"
    for i in range(5):
        d = home.dbt / f"run{i}"
        d.mkdir(parents=True)
        (d / "dbt.log").write_text("x")
        os.utime(d, (1_000_000 + i, 1_000_000 + i))  # run4 is the newest
    assert prune_run_dirs(home.dbt, keep=2) == 3
    assert sorted(p.name for p in home.dbt.iterdir()) == ["run3", "run4"]
    assert prune_run_dirs(tmp_path / "missing") == 0


def test_dbt_echo_is_swallowed_unless_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    # dagster-dbt echoes every dbt line with sys.stdout.write; the quiet console must drop it.
    with _dbt_console(verbose=False):
        print("1 of 133 OK created sql incremental model main.spend_daily")
    assert capsys.readouterr().out == ""
    with _dbt_console(verbose=True):
        print("1 of 133 OK created sql incremental model main.spend_daily")
    assert capsys.readouterr().out == "1 of 133 OK created sql incremental model main.spend_daily\n"
