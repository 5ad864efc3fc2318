"""`tierwise breakeven`: the article's table checked against its own assumptions, the crossovers checked
against the cost curves, GPU sizing from a peak, and the JSON shape.

Expected dollars are worked out here from the article's stated assumptions (closed $3/1M, hosted $0.50/1M,
H100 $2/h, 2 GPUs minimum, 0.1 FTE at $150k, 30-day months of 720 hours) and the shipped throughput seed
(a 70B-class model on H100, vLLM, FP8: 1,200 tokens/s per GPU, replicas of 2, at 70% target utilization).
"""

from __future__ import annotations

import json
import math
from decimal import ROUND_CEILING, Decimal

import pytest

from decisions.breakeven import PerToken, WhatIf, article_preset, compute
from tierwise.cli import main

GPU_MONTH = Decimal(2) * 720  # $1,440 per H100 a month
OPS = Decimal("0.1") * 150_000 / 12  # $1,250
GPU_HOUR = 1200 * Decimal("0.7") * 3600  # 3,024,000 tokens one GPU serves in an hour


def gpus_for(
    tokens_per_day: int, peak_to_mean: Decimal = Decimal(1), per_gpu_hour: Decimal = GPU_HOUR, replica: int = 2
) -> int:
    peak_hour = math.ceil(Decimal(tokens_per_day) * peak_to_mean / 24)
    raw = max(2, math.ceil(peak_hour / per_gpu_hour))
    return replica * math.ceil(raw / replica)


def costs(result: dict, tier: str) -> list[Decimal]:
    return [r["tiers"][tier]["monthly_cost_usd"] for r in result["rows"]]


def test_article_preset_table_follows_its_assumptions() -> None:
    result = compute(article_preset())
    volumes = [r["tokens_per_day"] for r in result["rows"]]
    assert volumes == [10_000_000, 50_000_000, 300_000_000, 1_000_000_000]
    assert costs(result, "closed_api") == [v * Decimal(3) / 1_000_000 * 30 for v in volumes]
    assert costs(result, "hosted_open_api") == [v * Decimal("0.5") / 1_000_000 * 30 for v in volumes]
    gpus = [gpus_for(v) for v in volumes]
    assert gpus == [2, 2, 6, 14]
    assert [r["tiers"]["self_hosted"]["gpus"] for r in result["rows"]] == gpus
    # the article's monthly column carries no setup: GPUs + ops only
    assert costs(result, "self_hosted") == [n * GPU_MONTH + OPS for n in gpus]
    assert result["rows"][0]["tiers"]["self_hosted"]["setup_cost_usd"] == Decimal("0.5") * 150_000 / 12 * 3


def test_article_crossovers_are_computed_and_its_claims_checked() -> None:
    result = compute(article_preset())
    # closed vs self-hosted: $90 a month per 1M tokens/day meets 2 GPUs + ops inside the 2-GPU range
    a = Decimal(3) / 1_000_000 * 30
    expected = int(((2 * GPU_MONTH + OPS) / a).to_integral_value(rounding=ROUND_CEILING))
    assert expected == 45_888_889
    assert result["crossovers"]["closed_api_vs_self_hosted"] == expected
    # hosted vs self-hosted: a GPU's 72.6M tokens/day (at 70%) cost $1,088.64 on the hosted API, under its $1,440
    assert result["crossovers"]["hosted_open_api_vs_self_hosted"] is None
    assert result["crossovers"]["closed_api_vs_hosted_open_api"] is None
    notes = "\n".join(result["notes"])
    assert "the article's self-hosted $4,994 (2 x H100 + ops) does not follow from its assumptions" in notes
    assert "$2,880.00, + $1,250.00 ops = $4,130.00" in notes
    assert "10 x $2.00/h x 720 h = $14,400.00, + $1,250.00 ops = $15,650.00" in notes  # its 1B row: $20,200
    assert "hosted API ($15,000) cheaper than self-hosting ($20,200)" in notes
    assert "closed_api_vs_self_hosted: the article says about 40.0M tokens/day; computed: 45,888,889" in notes
    assert "hosted_open_api_vs_self_hosted: the article says about 1.00B tokens/day; computed: never" in notes
    # self-hosting beats $0.50/1M only if one GPU's day at 70% costs more there than $1,440: above
    # 1440 / (0.5e-6 x 30 x 86400 x 0.7) = 1,587 tokens/s per GPU
    assert "only above 1,587 tokens/s per GPU at 70% utilization" in notes


def test_the_hosted_api_stays_cheaper_at_every_volume_when_the_curves_never_cross() -> None:
    volumes = tuple(int(10**e) for e in (6, 7, 7.5, 8, 8.5, 9, 9.5, 10))
    result = compute(article_preset(volumes))
    assert all(h < s for h, s in zip(costs(result, "hosted_open_api"), costs(result, "self_hosted"), strict=True))


def test_a_crossover_is_where_self_hosting_becomes_and_stays_cheaper() -> None:
    # faster GPUs (3,000 tokens/s): self-hosting now beats the hosted API from some volume on
    base = WhatIf(
        volumes=(100_000_000,),
        hosted=article_preset().hosted,
        gpu_hourly_price=Decimal(2),
        tokens_per_second=Decimal(3000),
        peak_to_mean=1.0,
        amortization_months=12,
    )
    crossover = compute(base)["crossovers"]["hosted_open_api_vs_self_hosted"]
    assert crossover is not None
    below = compute(WhatIf(**{**base.__dict__, "volumes": (crossover - 1,)}))
    assert costs(below, "hosted_open_api")[0] < costs(below, "self_hosted")[0]
    above = compute(
        WhatIf(**{**base.__dict__, "volumes": tuple(crossover + d for d in (0, 10**6, 10**7, 10**8, 10**9, 10**10))})
    )
    assert all(s <= h for h, s in zip(costs(above, "hosted_open_api"), costs(above, "self_hosted"), strict=True))


def test_gpus_are_sized_for_the_peak_hour_and_sglang_gains_on_cached_prefixes() -> None:
    flat = compute(WhatIf(volumes=(100_000_000,), peak_to_mean=1.0))
    peaky = compute(WhatIf(volumes=(100_000_000,), peak_to_mean=3.0))
    assert flat["rows"][0]["tiers"]["self_hosted"]["gpus"] == gpus_for(100_000_000) == 2
    assert peaky["rows"][0]["tiers"]["self_hosted"]["gpus"] == gpus_for(100_000_000, Decimal(3)) == 6
    # SGLang: +29% x the cached-prefix share of the traffic: 1,200 x (1 + 0.29 x 0.5) x 0.7 x 3600 an hour
    sglang = compute(WhatIf(volumes=(100_000_000,), peak_to_mean=3.0, engine="sglang", cached_share=0.5))
    per_hour = Decimal(1200) * (1 + Decimal("0.29") * Decimal("0.5")) * Decimal("0.7") * 3600
    assert sglang["rows"][0]["tiers"]["self_hosted"]["gpus"] == gpus_for(100_000_000, Decimal(3), per_hour) == 4


def test_catalog_prices_use_the_cost_formula_on_the_token_mix() -> None:
    # claude-sonnet-4-6 at 40M/day, 90% input of which a quarter is read from cache:
    # 27M x $3 + 9M x $0.30 + 4M x $15 per 1M = $143.70 a day
    result = compute(
        WhatIf(
            volumes=(40_000_000,),
            input_share=0.9,
            cached_share=0.25,
            closed=PerToken(provider="anthropic", model="claude-sonnet-4-6"),
        )
    )
    assert costs(result, "closed_api") == [Decimal("143.70") * 30]


def test_json_shape_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["breakeven", "--preset", "article", "--tokens-per-day", "50M", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tokens_per_day"] == 50_000_000
    assert set(out["tiers"]) == {"closed_api", "hosted_open_api", "self_hosted"}
    assert out["tiers"]["closed_api"]["monthly_cost_usd"] == "4500.000000000000"
    assert out["tiers"]["self_hosted"]["monthly_cost_usd"] == "4130.000000000000"
    assert out["tiers"]["self_hosted"]["gpus"] == 2
    assert set(out["crossovers"]) == {
        "closed_api_vs_self_hosted",
        "hosted_open_api_vs_self_hosted",
        "closed_api_vs_hosted_open_api",
    }
    assert out["crossovers"]["hosted_open_api_vs_self_hosted"] is None
    assert isinstance(out["notes"], list) and out["notes"]

    assert main(["breakeven", "--tokens-per-day", "1M", "--gpu-type", "L40S", "--quantization", "int4"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tierwise: error: no throughput assumption for a medium model on L40S vllm int4")
    assert main(["breakeven", "--tokens-per-day", "lots"]) == 2
    assert "is not a number of tokens" in capsys.readouterr().err


def test_text_table_is_aligned(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["breakeven", "--preset", "article"]) == 0
    out = capsys.readouterr().out.splitlines()
    header = out[1]
    assert header.split() == ["tokens/day", "closed_api", "hosted_open_api", "self_hosted", "GPUs"]
    rows = out[3:7]
    assert [r.split()[0] for r in rows] == ["10.0M", "50.0M", "300.0M", "1.00B"]
    # right-aligned money columns end at the same position as their headers
    end = header.index("closed_api") + len("closed_api")
    assert all(r[end - 1] == "0" and r[end] == " " for r in rows)
