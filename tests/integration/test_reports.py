"""`tierwise latency | unpriced | idle | shadow` on a small warehouse built by real dbt, with numbers worked out
by hand: exact counts, exact dollars, percentiles over the requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from landing.warehouse import connect
from tests.integration.test_dbt_spend import DAY, add_event, add_gpu, build
from tierwise.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("reports")
    path = work / "warehouse.duckdb"
    con = connect(path)
    d = DAY.isoformat()
    # support: live traffic on Claude (two scored), a shadow candidate on Together's Qwen (both scored)
    for n, (ms, status, score) in enumerate([(100, "ok", 0.9), (200, "ok", 0.8), (300, "ok", None), (5000, "error", None)]):
        add_event(
            con,
            f"b{n}",
            f"{d} 10:0{n}:00",
            "closed_api",
            "anthropic",
            "claude-sonnet-4-6",
            "support",
            "cx",
            input_tokens=1000,
            output_tokens=100,
            duration_ms=ms,
            status=status,
        )
        if score is not None:
            con.execute("update raw.usage_events set eval_score = ? where event_id = ?", [score, f"b{n}"])
    for n, (ms, score) in enumerate([(400, 0.85), (600, 0.75)]):
        add_event(
            con,
            f"s{n}",
            f"{d} 11:0{n}:00",
            "hosted_open_api",
            "together",
            "qwen3.5-72b",
            "support",
            "cx",
            input_tokens=1000,
            output_tokens=100,
            duration_ms=ms,
        )
        con.execute("update raw.usage_events set shadow = true, eval_score = ? where event_id = ?", [score, f"s{n}"])
    # a model nobody priced, and a GPU that ran two hours without serving anything
    add_event(
        con,
        "u1",
        f"{d} 12:00:00",
        "closed_api",
        "mistral",
        "mistral-unknown",
        "legal",
        "legal",
        input_tokens=5000,
        output_tokens=500,
    )
    add_gpu(
        con,
        "g1",
        f"{d} 09:00:00",
        f"{d} 11:00:00",
        "spare",
        "H100-80GB",
        1,
        engine="vllm",
        model="llama-4-scout",
        hourly_price="2.00",
    )
    con.close()
    build(path, work)
    yield path


def run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict]:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(autouse=True)
def use(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("COLUMNS", "120")


def test_latency_percentiles_come_from_the_requests(capsys: pytest.CaptureFixture[str]) -> None:
    rows = {r["model"]: r for r in run_json(["latency", "--by", "model,tier"], capsys)}
    claude = rows["claude-sonnet-4-6"]
    assert (claude["tier"], claude["requests"], claude["error_requests"], claude["error_rate"]) == ("closed_api", 4, 1, 0.25)
    # 100, 200, 300, 5000 ms: interpolated at positions 1.5 and 2.7 of 0..3
    assert claude["duration_ms_p50"] == 250.0 and claude["duration_ms_p90"] == pytest.approx(3590.0, abs=1e-9)
    assert main(["latency", "--by", "workload", "--from", DAY.isoformat()]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["workload", "requests", "p50_ms", "p90_ms"]
    assert table[-1].split()[:2] == ["total", "7"]


def test_unpriced_lists_what_has_no_price(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(["unpriced"], capsys)
    assert [(r["reason"], r["provider"], r["model"], r["requests"], r["tokens_total"]) for r in rows] == [
        ("no_token_price", "mistral", "mistral-unknown", 1, 5500)
    ]
    assert main(["unpriced", "--by", "reason,colour"]) == 2
    assert "--by 'colour' is not a unpriced key" in capsys.readouterr().err


def test_idle_gpu_cost_is_the_whole_cost_of_a_gpu_that_served_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    rows = {r["deployment"]: r for r in run_json(["idle", "--by", "deployment"], capsys)}
    spare = rows["spare"]
    assert (spare["capacity_hours"], spare["idle_hours"], spare["idle_share"]) == (2, 2, 1.0)
    assert spare["idle_gpu_cost_usd"] == "4.000000000000"  # 2 h x 1 GPU x $2.00
    assert spare["idle_cost_usd"] == spare["total_cost_usd"] and spare["attributed_cost_usd"] == "0.000000000000"
    assert Decimal(spare["idle_cost_usd"]) == Decimal(spare["idle_gpu_cost_usd"]) + Decimal(spare["idle_ops_cost_usd"])


def test_shadow_puts_the_candidate_next_to_its_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(["shadow"], capsys)
    got = [
        (
            r["workload"],
            r["role"],
            r["model"],
            r["requests"],
            r["scored_requests"],
            round(r["eval_score_mean"], 6),
            round(r["score_vs_baseline"], 6),
            r["token_cost_usd"],
        )
        for r in rows
    ]
    assert got == [
        ("support", "baseline", "claude-sonnet-4-6", 4, 2, 0.85, 0.0, "0.018000000000"),  # 4 x (1000 x $3 + 100 x $15)/1M
        ("support", "shadow", "qwen3.5-72b", 2, 2, 0.8, -0.05, "0.000960000000"),  # 2 x (1000 x $0.4 + 100 x $0.8)/1M
    ]
    assert main(["shadow"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:6] == ["workload", "role", "provider", "model", "requests", "eval_mean"]
    assert table[2].split()[:7] == ["support", "shadow", "together", "qwen3.5-72b", "2", "0.8", "-0.05"]
