"""The decision rules, one scenario each, run through `tierwise recommend --scenario` (the SQL library in an
in-memory DuckDB, the same macros the tier_recommendation mart calls).

Expected dollars are worked out here from the shipped seed prices and the documented rules
(docs/decisions.md): 30-day months, 720 GPU-hours a month, 0.1 FTE of ops at $150k, setup 0.5 FTE x 3 months
spread over 12 months, 2 GPUs minimum, 70% target utilization.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from decisions.recommend import run_scenario
from schemas.workload_config import Scenario
from tierwise.cli import main

TODAY = date(2026, 5, 4)
M = Decimal(1_000_000)
OPS = Decimal("1250")  # 0.1 x 150,000 / 12
SETUP_MONTHLY = Decimal("1562.5")  # 0.5 x 150,000 / 12 x 3 months / 12 months


def recommend(workloads: list[dict[str, Any]], organization: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    scenario = Scenario.model_validate({"organization": organization or {}, "workloads": workloads})
    return {r["workload"]: r for r in run_scenario(scenario, TODAY)}


def rules(row: dict[str, Any]) -> dict[str, str]:
    return {r["rule"]: r["detail"] for r in row["reasons"]}


def blockers(row: dict[str, Any]) -> dict[str, str]:
    return {b["rule"]: b["detail"] for b in row["blockers"]}


def monthly(tokens_per_day: int, usd_per_million: str) -> Decimal:
    return tokens_per_day * Decimal(usd_per_million) / M * 30


def test_privacy_moves_sensitive_data_onto_own_gpus_even_when_it_costs_more() -> None:
    base = {"tier_now": "closed_api", "model_now": "gpt-5.4-mini", "tokens_per_day": 20_000_000, "ops_fte": 1.0}
    rows = recommend(
        [{**base, "name": "health-notes", "data_class": "health"}, {**base, "name": "blog", "data_class": "public"}]
    )
    health, blog = rows["health-notes"], rows["blog"]
    assert health["recommended_tier"] == "self_hosted"
    assert "health cannot leave your infrastructure" in rules(health)["privacy"]
    assert "closed_api today breaks this rule" in rules(health)["privacy"]
    # self-hosting costs more than the API here: the privacy rule overrides cost
    assert health["monthly_savings_usd"] < 0
    assert blog["recommended_tier"] != "self_hosted" and "privacy" not in rules(blog)


def test_volume_bands_are_reported_and_a_disagreement_with_costs_is_said() -> None:
    rows = recommend(
        [
            {"name": "small", "tier_now": "closed_api", "model_now": "gpt-5.4-mini", "tokens_per_day": 2_000_000},
            {"name": "mid", "tier_now": "closed_api", "model_now": "gpt-5.4-mini", "tokens_per_day": 50_000_000},
            {"name": "huge", "tier_now": "hosted_open_api", "model_now": "gpt-oss-120b", "tokens_per_day": 900_000_000},
        ]
    )
    assert "2.0M tokens/day is in the under 5.0M band, which favors closed_api" in rules(rows["small"])["volume"]
    # the hosted tier is cheaper even under 5M/day: both are said
    assert "the computed costs favor hosted_open_api" in rules(rows["small"])["volume"]
    assert rules(rows["mid"])["volume"].startswith("50.0M tokens/day is in the 5.0M-300.0M band, which favors hosted_open_api")
    assert "computed costs favor" not in rules(rows["mid"])["volume"]
    # past 300M the band favors self-hosting only with an ops team: without one it names the hosted tier
    assert "which favors hosted_open_api" in rules(rows["huge"])["volume"]


def test_no_ops_capacity_rules_out_self_hosting() -> None:
    # financial data must stay in-house; with 0.2 FTE of ops nothing qualifies, with 0.5 FTE self-hosting does
    base = {"tier_now": "closed_api", "model_now": "gpt-5.4", "tokens_per_day": 100_000_000, "data_class": "financial"}
    rows = recommend([{**base, "name": "no-team", "ops_fte": 0.2}, {**base, "name": "team", "ops_fte": 0.5}])
    no_team, team = rows["no-team"], rows["team"]
    assert no_team["action"] == "blocked" and no_team["recommended_tier"] is None
    assert "0.2 FTE of ops capacity, under the 0.5 FTE self-hosting needs" in rules(no_team)["ops"]
    assert {"privacy"} <= set(blockers(no_team))
    assert team["recommended_tier"] == "self_hosted"
    assert "0.5 FTE of ops capacity (at least 0.5 needed" in rules(team)["ops"]


def test_customization_needs_self_hosting() -> None:
    rows = recommend(
        [
            {
                "name": "tuned",
                "tier_now": "closed_api",
                "model_now": "gpt-5.4",
                "tokens_per_day": 10_000_000,
                "customization": True,
                "ops_fte": 1.0,
            }
        ]
    )
    row = rows["tuned"]
    assert row["recommended_tier"] == "self_hosted"
    assert "only self-hosting allows it" in rules(row)["customization"]


def test_license_rules_eu_domicile_mau_limit_and_api_only_models() -> None:
    scout = {"tier_now": "hosted_open_api", "model_now": "llama-4-scout", "provider_now": "groq", "tokens_per_day": 3_000_000}
    eu = recommend([{**scout, "name": "triage"}], {"domicile": "DE"})["triage"]
    us = recommend([{**scout, "name": "triage"}], {"domicile": "US"})["triage"]
    big = recommend([{**scout, "name": "triage"}], {"domicile": "US", "monthly_active_users": 800_000_000})["triage"]
    # EU: Llama 4 is off limits, today's model included, so the workload must move off it
    assert (
        "llama-4-scout (Llama 4 Community License) may not be used by EU-domiciled organizations (domicile DE)"
        in (rules(eu)["license"])
    )
    assert eu["recommended_model"] != "llama-4-scout" and eu["action"] in ("switch", "evaluate_first")
    # US below 700M MAU: groq's scout is already the cheapest mid-range option, nothing to do
    assert us["action"] == "stay" and us["recommended_model"] == "llama-4-scout" and "license" not in rules(us)
    assert "needs the licensor's approval past 700.0M monthly active users (800.0M here)" in rules(big)["license"]
    assert big["recommended_model"] != "llama-4-scout"
    # proprietary models are API only: a pii workload on gpt-5.4 cannot take gpt-5.4 in-house
    pii = recommend(
        [
            {
                "name": "pii",
                "tier_now": "closed_api",
                "model_now": "gpt-5.4",
                "tokens_per_day": 50_000_000,
                "data_class": "pii",
                "ops_fte": 1,
                "candidate_models": ["gpt-5.4", "claude-sonnet-4-6"],
            }
        ]
    )["pii"]
    assert pii["action"] == "blocked" and pii["recommended_tier"] is None
    assert "is proprietary (Proprietary): API only" in rules(pii)["license"]


def test_quality_gate_refuses_a_candidate_more_than_5_percent_worse_and_asks_for_evals_without_data() -> None:
    base = {"tier_now": "closed_api", "model_now": "claude-sonnet-4-6", "tokens_per_day": 40_000_000, "input_share": 0.9}
    rows = recommend(
        [
            {**base, "name": "passes", "candidate_models": ["qwen3.5-72b"], "shadow_eval_vs_baseline": -0.03},
            {**base, "name": "fails", "candidate_models": ["qwen3.5-72b"], "shadow_eval_vs_baseline": -0.08},
            {**base, "name": "unknown", "candidate_models": ["qwen3.5-72b"]},
        ]
    )
    passes, fails, unknown = rows["passes"], rows["fails"], rows["unknown"]
    # 40M/day, 90% input: sonnet 36M x $3 + 4M x $15 = $168/day; together qwen 36M x $0.40 + 4M x $0.80 = $17.60/day
    assert passes["action"] == "switch" and passes["recommended_model"] == "qwen3.5-72b"
    assert passes["recommended_provider"] == "together"
    assert passes["current_monthly_cost_usd"] == Decimal(168 * 30)
    assert passes["monthly_savings_usd"] == Decimal(168 * 30) - Decimal("17.60") * 30
    assert "-3.0% against claude-sonnet-4-6 in shadow traffic, within the 5.0% gate" in rules(passes)["quality"]
    assert fails["action"] == "stay" and fails["recommended_model"] == "claude-sonnet-4-6"
    assert fails["monthly_savings_usd"] == 0
    assert (
        "shadow eval of qwen3.5-72b is -8.0% against claude-sonnet-4-6: past the 5.0% quality gate"
        in blockers(fails)["quality"]
    )
    assert unknown["action"] == "evaluate_first" and unknown["recommended_model"] == "qwen3.5-72b"
    assert "evaluate first (migration playbook step 2" in rules(unknown)["quality"]


def test_int4_counts_its_worst_case_quality_loss() -> None:
    # 150M tokens/day of health data on qwen3.5-72b, which matched today's model in shadow traffic. INT4 fits
    # one H100 per replica: 150M / 24 = 6.25M tokens in the peak hour / 3,024,000 per GPU -> 3 H100s ($4,320
    # a month), cheaper than FP8 on H100 (replicas of 2: 4 GPUs, $5,760). But INT4 can lose up to 7%, past the
    # 5% gate: FP8 on H200 wins (1,450 x 0.7 x 3600 = 3,654,000 an hour -> 2 GPUs at $3/h = $4,320).
    rows = recommend(
        [
            {
                "name": "notes",
                "tier_now": "closed_api",
                "model_now": "gpt-5.4",
                "tokens_per_day": 150_000_000,
                "data_class": "health",
                "ops_fte": 2,
                "candidate_models": ["qwen3.5-72b"],
                "shadow_eval_vs_baseline": 0.0,
            }
        ]
    )
    row = rows["notes"]
    assert row["action"] == "switch" and row["recommended_tier"] == "self_hosted"
    assert (row["recommended_quantization"], row["recommended_gpu_type"], row["recommended_gpus"]) == ("fp8", "H200", 2)
    assert row["recommended_monthly_cost_usd"] == 2 * 3 * Decimal(720) + OPS + SETUP_MONTHLY
    assert "and int4 can lose up to 7.0% more: past the 5.0% quality gate" in blockers(row)["quality"]


def test_a_switch_must_save_enough_to_be_worth_it() -> None:
    # flash-lite at 1M/day: the budget open models are cheaper by a few dollars a month, under the $100 floor
    rows = recommend(
        [{"name": "classify", "tier_now": "closed_api", "model_now": "gemini-3.1-flash-lite", "tokens_per_day": 1_000_000}]
    )
    row = rows["classify"]
    assert row["action"] == "stay" and row["monthly_savings_usd"] == 0
    assert "under the 10.0% and $100.00 a month a switch must save" in rules(row)["cost"]


def test_latency_slo_without_a_measurement_says_to_validate_first() -> None:
    rows = recommend(
        [
            {
                "name": "chat",
                "tier_now": "closed_api",
                "model_now": "claude-sonnet-4-6",
                "tokens_per_day": 40_000_000,
                "latency_slo_ms": 1500,
                "candidate_models": ["qwen3.5-72b"],
                "shadow_eval_vs_baseline": -0.01,
            }
        ]
    )
    assert "validate p50/p90/p99 against the 1,500 ms SLO first (migration playbook step 3)" in rules(rows["chat"])["latency"]


def test_self_hosting_cost_and_gpu_sizing_from_the_peak() -> None:
    # 400M tokens/day, all input (qwen3.5-72b on H100 vLLM FP8: 1,200 tokens/s per GPU, replicas of 2), pii
    # so only self-hosting qualifies. Peak hour 3x the mean: 400M x 3 / 24 = 50M tokens in the peak hour;
    # one GPU does 1,200 x 0.7 x 3600 = 3,024,000 an hour -> 17 GPUs -> 18 in replicas of 2.
    base = {
        "tier_now": "closed_api",
        "model_now": "gpt-5.4",
        "tokens_per_day": 400_000_000,
        "input_share": 1.0,
        "data_class": "pii",
        "ops_fte": 1,
        "candidate_models": ["qwen3.5-72b"],
        "shadow_eval_vs_baseline": 0.0,
    }
    rows = recommend([{**base, "name": "flat"}, {**base, "name": "peaky", "peak_to_mean": 3}])
    flat, peaky = rows["flat"], rows["peaky"]
    # SGLang and vLLM tie without cached prefixes: the flat day needs ceil(16.67M / 3.024M) = 6 GPUs
    assert flat["recommended_gpus"] == 6 and flat["recommended_gpu_type"] == "H100-80GB"
    assert peaky["recommended_gpus"] == 18
    assert peaky["recommended_monthly_cost_usd"] == 18 * 2 * Decimal(720) + OPS + SETUP_MONTHLY
    # gpt-5.4 today: 400M input tokens x $2.50 per 1M x 30 days
    assert peaky["current_monthly_cost_usd"] == monthly(400_000_000, "2.50")


def test_forecast_of_a_growing_and_a_flat_workload() -> None:
    base = {"tier_now": "closed_api", "model_now": "gpt-5.4-mini"}
    rows = recommend(
        [
            {**base, "name": "growing", "weekly_tokens_per_day": [2_000_000, 2_400_000, 2_880_000, 3_456_000]},
            {**base, "name": "flat", "weekly_tokens_per_day": [3_000_000, 3_010_000, 2_995_000, 3_005_000]},
            {**base, "name": "new", "weekly_tokens_per_day": [1_000_000, 2_000_000]},
        ]
    )
    growing, flat, new = rows["growing"], rows["flat"], rows["new"]
    # 20% a week from 3,456,000: the 5M band edge in 7 x ln(5M / 3.456M) / ln(1.2) = 14.2 -> 15 days
    assert growing["forecast_crossing"].startswith("5.0M tokens/day volume band edge")
    assert growing["forecast_date"] == date(2026, 5, 19)
    assert growing["forecast_confidence"] == "high"
    assert "growing 20.0% a week" in growing["forecast_note"]
    assert flat["forecast_date"] is None and flat["forecast_crossing"] is None
    assert flat["forecast_note"].startswith("flat")
    assert new["forecast_confidence"] == "none" and "only 2 full week(s) of history" in new["forecast_note"]


def test_scenario_cli_json_shape_and_money_as_strings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "what-if.yaml"
    scenario.write_text(
        "organization: {domicile: US}\n"
        "workloads:\n"
        "  - {name: chat, tier_now: closed_api, model_now: claude-sonnet-4-6, tokens_per_day: 40000000,\n"
        "     input_share: 0.9, candidate_models: [qwen3.5-72b], shadow_eval_vs_baseline: -0.03}\n"
    )
    assert main(["recommend", "--scenario", str(scenario), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["workload"] for r in rows] == ["chat"]
    row = rows[0]
    assert set(row) >= {
        "workload",
        "tier_now",
        "recommended_tier",
        "recommended_model",
        "monthly_savings_usd",
        "reasons",
        "blockers",
        "costs_by_tier",
        "forecast",
    }
    assert row["monthly_savings_usd"] == "4512.000000000000"  # (168.00 - 17.60) x 30
    assert set(row["forecast"]) >= {"crossing", "date", "confidence"}
    assert row["costs_by_tier"]["closed_api"]["monthly_cost_usd"] == "5040.000000000000"
    assert all(set(r) == {"rule", "detail"} for r in row["reasons"])
    assert {r["rule"] for r in row["reasons"]} <= {
        "privacy",
        "volume",
        "ops",
        "customization",
        "license",
        "quality",
        "cost",
        "latency",
    }


def test_scenario_errors_name_the_file_the_workload_and_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("workloads:\n  - {name: chat, tier_now: closed_api, tokens_per_day: 10, ops_fte: -1}\n")
    assert main(["recommend", "--scenario", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tierwise: error: {bad}: workload chat: ops_fte: ") and "greater than or equal to 0" in err
    assert "Traceback" not in err
