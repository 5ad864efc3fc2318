"""The projection marts on a real DuckDB warehouse built by real dbt, checked against dollars worked out by
hand, and the CLI (`tierwise breakeven`, `tierwise recommend --scenario`) equal to the marts to the cent.

One day of traffic for `chat` on claude-sonnet-4-6: 48 requests, two an hour, each 200,000 input tokens (50,000
read from the prompt cache) and 50,000 output tokens: 12M tokens/day, 80% input, a quarter of the input cached,
the same every hour (peak-to-mean 1). A shadow candidate (qwen3.5-72b on fireworks) scores 0.873 against 0.900:
3% worse, within the 5% gate. `probe` has latencies over two days that averaged daily percentiles would get wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from decisions.config import load_into_warehouse
from decisions.recommend import project_scenario
from landing.warehouse import connect
from pipelines.dbt_cli import run_dbt
from schemas.workload_config import Scenario
from tierwise.cli import main

pytestmark = pytest.mark.slow

DAY = date(2026, 4, 14)
M = Decimal(1_000_000)
# claude-sonnet-4-6 a day: 7.2M input x $3 + 2.4M cache reads x $0.30 + 2.4M output x $15 per 1M
SONNET_DAY = Decimal("7.2") * 3 + Decimal("2.4") * Decimal("0.30") + Decimal("2.4") * 15
# qwen3.5-72b on together (no cache price: cache reads pay input): 9.6M x $0.40 + 2.4M x $0.80
TOGETHER_QWEN_DAY = Decimal("9.6") * Decimal("0.40") + Decimal("2.4") * Decimal("0.80")

_offset = iter(range(10_000_000))


def add(
    con: duckdb.DuckDBPyConnection, event_id: str, when: datetime, provider: str, model: str, workload: str, **kw: Any
) -> None:
    row = {
        "event_id": event_id,
        "event_time": when,
        "event_date": when.date(),
        "tier": kw.pop("tier", "closed_api"),
        "provider": provider,
        "model": model,
        "workload": workload,
        "team": "t",
        "environment": "prod",
        "operation": "chat",
        "input_tokens": kw.pop("input_tokens", 1000),
        "output_tokens": kw.pop("output_tokens", 100),
        "cached_input_tokens": kw.pop("cached", 0),
        "cache_creation_input_tokens": 0,
        "reasoning_tokens": 0,
        "duration_ms": kw.pop("duration_ms", 800.0),
        "ttft_ms": 100.0,
        "status": "ok",
        "batch": False,
        "shadow": kw.pop("shadow", False),
        "eval_score": kw.pop("eval_score", None),
        "schema_version": "1",
        "content_fields_dropped": 0,
        "kafka_topic": "llm.usage.v1",
        "kafka_partition": 0,
        "kafka_offset": next(_offset),
        "landed_at": datetime(2026, 4, 15),
    }
    assert not kw, kw
    cols = ", ".join(row)
    con.execute(f"insert into raw.usage_events ({cols}) values ({', '.join('?' for _ in row)})", list(row.values()))


@dataclass(frozen=True)
class Built:
    warehouse: Path


def query(warehouse: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    work = tmp_path_factory.mktemp("decisions")
    warehouse = work / "warehouse.duckdb"
    con = connect(warehouse)
    start = datetime.combine(DAY, datetime.min.time())
    for i in range(48):
        when = start + timedelta(minutes=30 * i + 10)
        add(
            con,
            f"chat-{i}",
            when,
            "anthropic",
            "claude-sonnet-4-6",
            "chat",
            input_tokens=200_000,
            cached=50_000,
            output_tokens=50_000,
            eval_score=0.9,
        )
    for i in range(40):
        add(
            con,
            f"shadow-{i}",
            start + timedelta(minutes=30 * i + 12),
            "fireworks",
            "qwen3.5-72b",
            "chat",
            tier="hosted_open_api",
            shadow=True,
            eval_score=0.873,
        )
    # probe: 90 fast requests the day before, 10 slow ones on the day
    for i in range(90):
        add(
            con,
            f"probe-a{i}",
            start - timedelta(hours=12) + timedelta(seconds=i),
            "openai",
            "gpt-5.4-nano",
            "probe",
            duration_ms=100.0 + i,
        )
    for i in range(10):
        add(con, f"probe-b{i}", start + timedelta(hours=3, seconds=i), "openai", "gpt-5.4-nano", "probe", duration_ms=5000.0)
    config = work / "tierwise.yaml"
    config.write_text("organization: {domicile: US}\nworkloads:\n  - {name: chat, data_class: internal, ops_fte: 1.0}\n")
    load_into_warehouse(con, config)
    con.close()
    run_dbt(["build"], warehouse, target_path=work / "target", log_path=work / "logs")
    yield Built(warehouse)


def test_profile_reads_the_mix_the_shape_and_todays_cost(built: Built) -> None:
    [p] = query(built.warehouse, "select * from int_workload_profile where workload = 'chat'")
    assert (p["tier_now"], p["provider_now"], p["model_now"]) == ("closed_api", "anthropic", "claude-sonnet-4-6")
    assert p["volume"] == 12_000_000 and p["days_observed"] == 1
    assert (p["tpd_input"], p["tpd_cache_read"], p["tpd_output"]) == (7_200_000, 2_400_000, 2_400_000)
    assert p["cached_share"] == 0.25 and p["peak_to_mean"] == 1.0 and p["peak_tokens_per_second"] == 500_000 / 3600
    assert p["observed_monthly_cost_usd"] == SONNET_DAY * 30
    assert p["ops_fte"] == 1 and p["data_class"] == "internal" and p["is_configured"]
    [e] = query(built.warehouse, "select * from int_workload_evals where workload = 'chat'")
    assert (e["model"], e["eval_n"], e["baseline_n"]) == ("qwen3.5-72b", 40, 48)
    assert e["eval_gap"] == pytest.approx(0.873 / 0.9 - 1)


def test_latency_percentiles_merge_days_from_the_sketch(built: Built) -> None:
    [lat] = query(built.warehouse, "select * from int_workload_latency where workload = 'probe'")
    # exact, over both days' 100 requests (rank q x (n - 1)): p50 = 149 ms, p90 = 189 ms, p99 = 5000 ms
    assert lat["latency_n"] == 100
    assert lat["p50_ms"] == pytest.approx(149, rel=0.02)
    assert lat["p90_ms"] == pytest.approx(189, rel=0.02)
    assert lat["p99_ms"] == pytest.approx(5000, rel=0.02)
    # the average of the two daily p99s would be about (188 + 5000) / 2: the sketch is not that
    daily = query(built.warehouse, "select day, duration_ms_p99 from latency_daily where model = 'gpt-5.4-nano' order by day")
    assert abs(sum(r["duration_ms_p99"] for r in daily) / 2 - lat["p99_ms"]) > 2000


def test_projection_and_recommendation_dollars(built: Built) -> None:
    rows = {r["option_id"]: r for r in query(built.warehouse, "select * from tier_projection where workload = 'chat'")}
    current = rows["closed_api|anthropic|claude-sonnet-4-6"]
    assert current["is_current"] and current["monthly_cost_usd"] == SONNET_DAY * 30
    qwen = rows["hosted_open_api|together|qwen3.5-72b"]
    assert qwen["monthly_cost_usd"] == TOGETHER_QWEN_DAY * 30
    assert qwen["monthly_savings_usd"] == (SONNET_DAY - TOGETHER_QWEN_DAY) * 30
    assert qwen["quality_status"] == "passed" and qwen["allowed"] and qwen["breakeven_tokens_per_day"] is None
    self_fp8 = rows["self_hosted|qwen3.5-72b|H100-80GB|vllm|fp8"]
    # 2 GPUs (500k tokens in the peak hour, far under one GPU) x $2 x 720 h + $1,250 ops + $18,750 setup / 12
    assert self_fp8["gpus"] == 2
    assert self_fp8["monthly_cost_usd"] == 2 * 2 * Decimal(720) + Decimal(1250) + Decimal("1562.5")
    # break-even against sonnet: sonnet costs $1,749.60 a month at 12M/day; self-hosting $5,692.50 flat to 2 GPUs
    assert self_fp8["breakeven_tokens_per_day"] == 39_043_210  # ceil(5692.5 / (1749.6 / 12M))
    assert "no throughput assumption for qwen3.5-72b (medium) on L40S vllm int4" in {
        r["unavailable_reason"] for r in rows.values()
    }
    [rec] = query(built.warehouse, "select * from tier_recommendation where workload = 'chat'")
    assert (rec["action"], rec["recommended_tier"], rec["recommended_provider"], rec["recommended_model"]) == (
        "switch",
        "hosted_open_api",
        "together",
        "qwen3.5-72b",
    )
    assert rec["monthly_savings_usd"] == (SONNET_DAY - TOGETHER_QWEN_DAY) * 30
    rules = {r["rule"] for r in rec["reasons"]}
    assert {"volume", "quality", "cost"} <= rules


def test_breakeven_curves_pass_through_todays_volume(built: Built) -> None:
    curve = query(
        built.warehouse,
        "select * from breakeven_curves where workload = 'chat' and tier = 'hosted_open_api' order by point",
    )
    assert len(curve) == 21 and curve[10]["tokens_per_day"] == 12_000_000 and curve[10]["is_current_volume"]
    assert curve[0]["tokens_per_day"] == 120_000 and curve[20]["tokens_per_day"] == 1_200_000_000
    # maverick on together is the cheapest allowed hosted option; at 100x the volume, 100x the cost
    assert curve[20]["monthly_cost_usd"] == curve[10]["monthly_cost_usd"] * 100


def test_forecast_says_one_day_is_too_little_history(built: Built) -> None:
    [f] = query(built.warehouse, "select * from volume_forecast where workload = 'chat'")
    assert f["weeks"] == 0 and f["confidence"] == "none" and f["crossing_date"] is None
    assert "at least 3 are needed" in f["note"]


def test_cli_equals_the_marts_to_the_cent(
    built: Built, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    marts = {r["option_id"]: r for r in query(built.warehouse, "select * from tier_projection where workload = 'chat'")}
    # the same workload as a scenario: same volume, mix, shape and config
    scenario = Scenario.model_validate(
        {
            "organization": {"domicile": "US"},
            "workloads": [
                {
                    "name": "chat",
                    "tier_now": "closed_api",
                    "model_now": "claude-sonnet-4-6",
                    "provider_now": "anthropic",
                    "tokens_per_day": 12_000_000,
                    "input_share": 0.8,
                    "cached_share": 0.25,
                    "peak_to_mean": 1,
                    "data_class": "internal",
                    "ops_fte": 1.0,
                }
            ],
        }
    )
    projection, [rec] = project_scenario(scenario)
    cli = {r["option_id"]: r for r in projection}
    assert set(cli) == set(marts)
    for option_id, row in cli.items():
        for column in ("monthly_cost_usd", "gpus", "breakeven_tokens_per_day", "payback_months", "unavailable_reason"):
            assert row[column] == marts[option_id][column], (option_id, column)
    [mart_rec] = query(built.warehouse, "select * from tier_recommendation where workload = 'chat'")
    assert rec["current_monthly_cost_usd"] == mart_rec["current_monthly_cost_usd"]
    assert rec["costs_by_tier"] == mart_rec["costs_by_tier"]

    # tierwise breakeven with the workload's mix and catalog prices
    assert (
        main(
            [
                "breakeven",
                "--tokens-per-day",
                "12000000",
                "--input-share",
                "0.8",
                "--cached-share",
                "0.25",
                "--peak-to-mean",
                "1",
                "--closed-model",
                "anthropic/claude-sonnet-4-6",
                "--hosted-model",
                "together/qwen3.5-72b",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    self_fp8 = marts["self_hosted|qwen3.5-72b|H100-80GB|vllm|fp8"]
    assert (
        Decimal(out["tiers"]["closed_api"]["monthly_cost_usd"])
        == marts["closed_api|anthropic|claude-sonnet-4-6"]["monthly_cost_usd"]
    )
    assert (
        Decimal(out["tiers"]["hosted_open_api"]["monthly_cost_usd"])
        == marts["hosted_open_api|together|qwen3.5-72b"]["monthly_cost_usd"]
    )
    assert Decimal(out["tiers"]["self_hosted"]["monthly_cost_usd"]) == self_fp8["monthly_cost_usd"]
    assert out["crossovers"]["closed_api_vs_self_hosted"] == self_fp8["breakeven_tokens_per_day"]

    # tierwise recommend over the warehouse prints the mart's numbers as exact strings
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(built.warehouse))
    assert main(["recommend", "--workload", "chat", "--json"]) == 0
    [shown] = json.loads(capsys.readouterr().out)
    assert shown["monthly_savings_usd"] == format(mart_rec["monthly_savings_usd"], "f")
    assert shown["recommended_model"] == "qwen3.5-72b"
    assert main(["recommend", "--workload", "nope"]) == 2
    assert "no workload 'nope' in tier_recommendation; known: chat, probe" in capsys.readouterr().err


def test_alert_rules_after_a_build_read_the_marts_and_the_breakeven_of_part_5(built: Built, tmp_path: Path) -> None:
    from alerts.config import parse_config
    from alerts.evaluate import settle
    from alerts.observe import after_build
    from alerts.store import open_store, store_path
    from core.home import Home

    config = parse_config(
        """
rules:
  - {name: closed-50, kind: closed_api_spend, threshold: 50}
  - {name: own-breakeven, kind: breakeven}
  - {name: team-budget, kind: budget, scope: team, budgets: {t: 100}, projected: true}
  - {name: forecast-4w, kind: forecast, weeks: 4}
""",
        "alerts.yaml",
    )
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        pairs = after_build(con, config, today=DAY)
        [month_cost] = con.execute("select sum(cost_usd) from spend_monthly where team = 't'").fetchone()
    seen = {(rule.name, o.subject): (o.value, o.threshold) for rule, o in pairs}
    # the workload's own break-even is tier_projection's (the fp8 self-hosted option, 39,043,210 tokens/day);
    # today's 12M in the trailing 24 hours is under it
    assert seen[("own-breakeven", "chat")] == (Decimal(12_000_000), Decimal(39_043_210))
    # chat's closed-API spend over the 30 days to the newest day is its one day of sonnet, exactly
    assert seen[("closed-50", "chat")] == (SONNET_DAY, Decimal(50))
    # the team's month so far (14 of 30 days) projected to the month's end
    assert month_cost > 0 and seen[("team-budget", "team:t")] == ((month_cost * 30 / 14).quantize(Decimal("0.01")), 100)
    # one day of history: no forecast, so no forecast observation
    assert not any(rule.kind == "forecast" for rule, _ in pairs)
    home = Home(tmp_path)
    done = settle(home, config, tmp_path / "alerts.yaml", pairs, "dbt build", background=False)
    # probe's cents of closed-API spend stay under $50: only chat and the team's projection fire
    assert sorted((a.rule, a.subject, a.transition) for a in done.alerts) == [
        ("closed-50", "chat", "fired"),
        ("team-budget", "team:t", "fired"),
    ]
    with open_store(store_path(home), read_only=True) as con:
        assert con.execute("select count(*) from alert_deliveries where status = 'sent'").fetchone()[0] == len(done.alerts)
