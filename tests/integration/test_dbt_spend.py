"""The dbt spend models on a real DuckDB warehouse, checked against dollars worked out by hand.

Every expected amount below is computed in this file from the shipped catalog prices (USD per 1M
tokens, as written in dbt_project/seeds) and the documented rules (docs/costs.md); none is read back
from the models.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.adapters import from_gemini, from_litellm_spend_log, from_openai_compatible
from landing import prices
from landing.warehouse import connect
from pipelines.dbt_cli import run_dbt, window_vars
from schemas import UsageEvent
from tests.focus_spec import FOCUS_1_0_COLUMNS, check_header, check_row, identity_gap
from tierwise.cli import main

pytestmark = pytest.mark.slow

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
Q = Decimal("0.000000000001")  # DECIMAL(38,12)
M = Decimal(1_000_000)
DAY = date(2026, 4, 14)  # April: 30 days, 720 hours
ANNUAL_OPS = Decimal("0.1") * Decimal(150_000)  # 0.1 FTE at a $150k loaded salary


def per_m(usd_per_million: str) -> Decimal:
    return Decimal(usd_per_million) / M


def rnd(x: Decimal) -> Decimal:
    return x.quantize(Q, rounding=ROUND_HALF_UP)


# Shipped seed prices (USD per token).
SONNET = {"in": per_m("3.00"), "cache_read": per_m("0.30"), "cache_write": per_m("3.75"), "out": per_m("15.00")}
GPT54 = {
    "in": per_m("2.50"),
    "cache_read": per_m("0.25"),
    "out": per_m("15.00"),
    "batch_in": per_m("1.25"),
    "batch_out": per_m("7.50"),
}
GROQ_MAVERICK = {"in": per_m("0.20"), "out": per_m("0.60")}
TOGETHER_SCOUT_BATCH = {"in": per_m("0.09"), "out": per_m("0.295")}
# no reasoning price: reasoning tokens pay the output rate
GEMINI_PRO = {"in": per_m("2.00"), "cache_read": per_m("0.20"), "out": per_m("12.00")}
TOGETHER_MAVERICK = {"in": per_m("0.27"), "out": per_m("0.85")}
FIREWORKS_QWEN = {"in": per_m("0.45"), "cache_read": per_m("0.225"), "out": per_m("0.90")}
DEEPSEEK_BEFORE_CUT = {"in": per_m("0.56"), "out": per_m("1.68")}
DEEPSEEK_AFTER_CUT = {"in": per_m("0.28"), "out": per_m("0.42")}
H100_PER_HOUR = Decimal("2.00")


def ops_cost(active_hours: Decimal, fleet_hours: Decimal, hours_in_month: int = 720) -> Decimal:
    """docs/costs.md: annual x active / (12 x hours_in_month x max(1h, fleet)), half up to 1e-12."""
    return rnd(ANNUAL_OPS * active_hours / (12 * hours_in_month * max(Decimal(1), fleet_hours)))


def shares(total: Decimal, weights: dict[str, int]) -> dict[str, Decimal]:
    """docs/costs.md: each share rounded half up, the largest weight takes the remainder."""
    order = sorted(weights, key=lambda k: (-weights[k], k))
    whole = sum(weights.values())
    out = {k: rnd(total * weights[k] / whole) for k in order[1:]}
    out[order[0]] = total - sum(out.values(), Decimal(0))
    return out


# --- raw rows ------------------------------------------------------------------------------------

_offset = iter(range(1_000_000))


def add_event(
    con: duckdb.DuckDBPyConnection,
    event_id: str,
    when: str,
    tier: str,
    provider: str,
    model: str,
    workload: str,
    team: str | None,
    *,
    input_tokens: int,
    output_tokens: int,
    cached: int = 0,
    cache_creation: int = 0,
    reasoning: int = 0,
    batch: bool = False,
    status: str = "ok",
    deployment: str | None = None,
    duration_ms: float = 800.0,
    ttft_ms: float = 120.0,
) -> None:
    ts = datetime.fromisoformat(when)
    con.execute(
        """insert into raw.usage_events (event_id, event_time, event_date, tier, provider, model, workload, team,
             environment, operation, input_tokens, output_tokens, cached_input_tokens, cache_creation_input_tokens,
             reasoning_tokens, duration_ms, ttft_ms, status, error_type, batch, deployment, shadow, schema_version,
             content_fields_dropped, kafka_topic, kafka_partition, kafka_offset, landed_at)
           values (?, ?, ?, ?, ?, ?, ?, ?, 'prod', 'chat', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false, '1', 0,
                   'llm.usage.v1', 0, ?, now()::timestamp)""",
        [
            event_id,
            ts,
            ts.date(),
            tier,
            provider,
            model,
            workload,
            team,
            input_tokens,
            output_tokens,
            cached,
            cache_creation,
            reasoning,
            duration_ms,
            ttft_ms,
            status,
            "server_error" if status == "error" else None,
            batch,
            deployment,
            next(_offset),
        ],
    )


def add_built(con: duckdb.DuckDBPyConnection, event: UsageEvent) -> None:
    """An event as an adapter built it: provider, tier, model and tokens exactly as the adapter set them."""
    add_event(
        con,
        event.event_id,
        event.event_time.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "),
        event.tier.value,
        event.provider,
        event.model,
        event.workload,
        event.team,
        input_tokens=event.input_tokens,
        output_tokens=event.output_tokens,
        cached=event.cached_input_tokens,
        cache_creation=event.cache_creation_input_tokens,
        reasoning=event.reasoning_tokens,
        batch=event.batch,
        status=event.status,
    )


def add_gpu(
    con: duckdb.DuckDBPyConnection,
    event_id: str,
    start: str,
    end: str,
    deployment: str,
    gpu_type: str,
    gpu_count: int,
    *,
    engine: str,
    model: str,
    hourly_price: str | None = None,
) -> None:
    s = datetime.fromisoformat(start)
    con.execute(
        """insert into raw.gpu_usage (event_id, interval_start, interval_end, event_date, deployment, gpu_type,
             gpu_count, utilization, hourly_price_usd, engine, model, quantization, schema_version, kafka_topic,
             kafka_partition, kafka_offset, landed_at)
           values (?, ?, ?, ?, ?, ?, ?, 0.5, ?, ?, ?, 'fp8', '1', 'llm.gpu.v1', 0, ?, now()::timestamp)""",
        [
            event_id,
            s,
            datetime.fromisoformat(end),
            s.date(),
            deployment,
            gpu_type,
            gpu_count,
            hourly_price,
            engine,
            model,
            next(_offset),
        ],
    )


@dataclass(frozen=True)
class Built:
    warehouse: Path


def build(warehouse: Path, work: Path, dbt_vars: dict[str, str] | None = None) -> None:
    """A real `dbt build` (seeds, models, data tests and unit tests); any failure fails the test."""
    run_dbt(["build"], warehouse, dbt_vars=dbt_vars, target_path=work / "target", log_path=work / "logs")


def query(warehouse: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# --- the main scenario: one April day of every kind of usage, built once ---------------------------------


# The world the spend marts are built from: one row per raw request (closed and hosted-open API requests,
# LiteLLM-spelled aliases, DeepSeek's mid-month price cut, self-hosted requests) and per GPU interval.
D = DAY.isoformat()


@dataclass(frozen=True)
class Req:
    event_id: str
    when: str  # HH:MM:SS on DAY, or a whole timestamp
    tier: str
    provider: str
    model: str
    workload: str
    team: str | None
    input_tokens: int
    output_tokens: int
    cached: int = 0
    cache_creation: int = 0
    reasoning: int = 0
    batch: bool = False
    status: str = "ok"
    deployment: str | None = None


@dataclass(frozen=True)
class Gpu:
    event_id: str
    start: str
    end: str
    deployment: str
    gpu_type: str
    gpu_count: int
    engine: str
    model: str
    hourly_price: str | None = None


# A data table, one row a line: the formatter leaves it as written.
# fmt: off
REQUESTS = [
    Req("c1-cached", "08:00:00", "closed_api", "anthropic", "claude-sonnet-4-6", "support", "cx", 120_000, 4_000, cached=80_000, cache_creation=10_000),
    Req("c2-reasoning", "08:05:00", "closed_api", "openai", "gpt-5.4", "agent", "platform", 2_000, 9_000, reasoning=8_000),
    Req("c3-batch", "08:10:00", "closed_api", "openai", "gpt-5.4", "agent", "platform", 1_000_000, 200_000, batch=True),
    Req("c4-error", "08:15:00", "closed_api", "openai", "gpt-5.4", "agent", "platform", 5_000, 0, status="error"),
    Req("c5-hosted", "08:20:00", "hosted_open_api", "groq", "llama-4-maverick", "search", "search", 400_000, 100_000),
    Req("c6-hosted-batch", "08:25:00", "hosted_open_api", "together", "llama-4-scout", "etl", "data", 100_000, 100_000, batch=True),
    Req("c7-unpriced", "08:30:00", "closed_api", "openai", "gpt-9-preview", "agent", "platform", 50_000, 1_000),
    Req("c8-cache-fallback", "08:35:00", "closed_api", "openai", "gpt-5.4", "agent", "platform", 10_000, 0, cached=4_000, cache_creation=1_000),
    Req("a2-gemini-alias", "12:00:01", "closed_api", "gemini", "gemini-3.1-pro", "adapters", "integrations", 10_000, 2_000, cached=4_000, reasoning=1_500),
    Req("a4-together-alias", "12:00:01", "hosted_open_api", " Together_AI ", "llama-4-maverick", "adapters", "integrations", 20_000, 4_000),
    Req("a5-fireworks", "12:00:02", "hosted_open_api", "fireworks", "qwen3.5-72b", "adapters", "integrations", 30_000, 1_000, cached=10_000),
    Req("a6-fireworks-alias", "12:00:02", "hosted_open_api", "fireworks_ai", "qwen3.5-72b", "adapters", "integrations", 30_000, 1_000, cached=10_000),
    Req("ds-before", "2025-09-28 23:59:59", "closed_api", "deepseek", "deepseek-v3.2", "ds", "research", 1_000_000, 1_000_000),
    Req("ds-after", "2025-09-29 00:00:00", "closed_api", "deepseek", "deepseek-v3.2", "ds", "research", 1_000_000, 1_000_000),
    Req("s1", "09:10:00", "self_hosted", "vllm", "llama-4-scout", "rag", "search", 2_500, 500, deployment="scout-prod"),
    Req("s2", "09:40:00", "self_hosted", "vllm", "llama-4-scout", "chat", "cx", 800, 200, deployment="scout-prod"),
    Req("s3", "11:05:00", "self_hosted", "vllm", "llama-4-scout", "rag", "search", 400, 100, deployment="scout-prod"),
    Req("s4", "09:30:00", "self_hosted", "sglang", "qwen3.5-72b", "etl", "data", 90, 10, deployment="qwen-batch"),
    Req("s5-no-capacity", "09:15:00", "self_hosted", "vllm", "llama-4-scout", "rag", "search", 40, 10, deployment="ghost"),
]
# self-hosted: scout-prod 2 x H100 09:00-11:30 at the seed price; qwen-batch 1 x L40S 09:00-10:00 at its own
GPU_INTERVALS = [
    Gpu("g1", "09:00:00", "11:30:00", "scout-prod", "H100-80GB", 2, engine="vllm", model="llama-4-scout"),
    Gpu("g2", "09:00:00", "10:00:00", "qwen-batch", "L40S", 1, engine="sglang", model="qwen3.5-72b", hourly_price="1.20"),
]
# fmt: on


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    work = tmp_path_factory.mktemp("dbt-spend")
    warehouse = work / "warehouse.duckdb"
    con = connect(warehouse)
    for r in REQUESTS:
        add_event(
            con,
            r.event_id,
            r.when if len(r.when) > 8 else f"{D} {r.when}",
            r.tier,
            r.provider,
            r.model,
            r.workload,
            r.team,
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            cached=r.cached,
            cache_creation=r.cache_creation,
            reasoning=r.reasoning,
            batch=r.batch,
            status=r.status,
            deployment=r.deployment,
        )
    # The same usage as built by the adapters, which write tierwise's provider ids (google, together).
    for event in adapter_events():
        add_built(con, event)
    for g in GPU_INTERVALS:
        add_gpu(
            con,
            g.event_id,
            f"{D} {g.start}",
            f"{D} {g.end}",
            g.deployment,
            g.gpu_type,
            g.gpu_count,
            engine=g.engine,
            model=g.model,
            hourly_price=g.hourly_price,
        )
    con.close()  # dbt needs the file lock
    build(warehouse, work)
    yield Built(warehouse)


def adapter_events() -> list[UsageEvent]:
    noon = datetime(DAY.year, DAY.month, DAY.day, 12, tzinfo=UTC)
    gemini_usage = {
        "promptTokenCount": 10_000,
        "cachedContentTokenCount": 4_000,
        "candidatesTokenCount": 500,
        "thoughtsTokenCount": 1_500,
        "totalTokenCount": 12_000,
    }
    gemini = from_gemini(
        {"responseId": "a1-gemini-adapter", "modelVersion": "gemini-3.1-pro", "usageMetadata": gemini_usage},
        workload="adapters",
        team="integrations",
        event_time=noon,
    )
    together = from_openai_compatible(
        {
            "id": "a3-together-adapter",
            "model": "llama-4-maverick",
            "usage": {"prompt_tokens": 20_000, "completion_tokens": 4_000},
        },
        workload="adapters",
        team="integrations",
        provider="together_ai",  # LiteLLM's spelling in, tierwise's out
        event_time=noon,
    )
    assert (gemini.provider, gemini.tier.value) == ("google", "closed_api")
    assert (together.provider, together.tier.value) == ("together", "hosted_open_api")
    return [gemini, together]


# Token-priced requests, by hand: exclusive token types x the rates of docs/costs.md.
EXPECTED_REQUEST_COST = {
    # 30k uncached + 80k cache reads + 10k cache writes + 4k output
    "c1-cached": 30_000 * SONNET["in"] + 80_000 * SONNET["cache_read"] + 10_000 * SONNET["cache_write"] + 4_000 * SONNET["out"],
    # reasoning has no own price: output rate
    "c2-reasoning": 2_000 * GPT54["in"] + 1_000 * GPT54["out"] + 8_000 * GPT54["out"],
    "c3-batch": 1_000_000 * GPT54["batch_in"] + 200_000 * GPT54["batch_out"],
    "c4-error": 5_000 * GPT54["in"],
    "c5-hosted": 400_000 * GROQ_MAVERICK["in"] + 100_000 * GROQ_MAVERICK["out"],
    "c6-hosted-batch": 100_000 * TOGETHER_SCOUT_BATCH["in"] + 100_000 * TOGETHER_SCOUT_BATCH["out"],
    # openai has no cache-write price: the input rate
    "c8-cache-fallback": 5_000 * GPT54["in"] + 4_000 * GPT54["cache_read"] + 1_000 * GPT54["in"],
    "ds-before": 1_000_000 * DEEPSEEK_BEFORE_CUT["in"] + 1_000_000 * DEEPSEEK_BEFORE_CUT["out"],
    "ds-after": 1_000_000 * DEEPSEEK_AFTER_CUT["in"] + 1_000_000 * DEEPSEEK_AFTER_CUT["out"],
    # 6k uncached + 4k cache reads, 500 output + 1.5k thoughts (reasoning at the output rate)
    "a1-gemini-adapter": 6_000 * GEMINI_PRO["in"]
    + 4_000 * GEMINI_PRO["cache_read"]
    + 500 * GEMINI_PRO["out"]
    + 1_500 * GEMINI_PRO["out"],
    "a3-together-adapter": 20_000 * TOGETHER_MAVERICK["in"] + 4_000 * TOGETHER_MAVERICK["out"],
    # 20k uncached + 10k cache reads + 1k output
    "a5-fireworks": 20_000 * FIREWORKS_QWEN["in"] + 10_000 * FIREWORKS_QWEN["cache_read"] + 1_000 * FIREWORKS_QWEN["out"],
}
# An alias-spelled request costs what the same request under tierwise's id costs.
EXPECTED_REQUEST_COST["a2-gemini-alias"] = EXPECTED_REQUEST_COST["a1-gemini-adapter"]
EXPECTED_REQUEST_COST["a4-together-alias"] = EXPECTED_REQUEST_COST["a3-together-adapter"]
EXPECTED_REQUEST_COST["a6-fireworks-alias"] = EXPECTED_REQUEST_COST["a5-fireworks"]


def test_each_cost_rule_prices_requests_exactly(world: Built) -> None:
    got = dict(query(world.warehouse, "select event_id, token_cost_usd from priced_requests"))
    for event_id, expected in EXPECTED_REQUEST_COST.items():
        assert got[event_id] == expected, event_id
    # spot values in plain dollars, so a wrong seed or rule cannot hide behind the helpers above
    assert got["c1-cached"] == Decimal("0.2115")
    assert got["c2-reasoning"] == Decimal("0.14")
    assert got["c3-batch"] == Decimal("2.75")
    assert got["c8-cache-fallback"] == Decimal("0.016")
    # 0.012 + 0.0008 + 0.006 + 0.018; 0.0054 + 0.0034; 0.009 + 0.00225 + 0.0009
    assert got["a1-gemini-adapter"] == got["a2-gemini-alias"] == Decimal("0.0368")
    assert got["a3-together-adapter"] == got["a4-together-alias"] == Decimal("0.0088")
    assert got["a5-fireworks"] == got["a6-fireworks-alias"] == Decimal("0.01215")


def test_adapter_and_alias_spelled_usage_is_priced_from_the_seeds_under_tierwise_ids(world: Built) -> None:
    rows = query(
        world.warehouse,
        "select event_id, provider, pricing_basis, is_unpriced, price_source from priced_requests "
        "where workload = 'adapters' order by event_id",
    )
    assert rows == [
        ("a1-gemini-adapter", "google", "token_price", False, "seed"),
        ("a2-gemini-alias", "google", "token_price", False, "seed"),
        ("a3-together-adapter", "together", "token_price", False, "seed"),
        ("a4-together-alias", "together", "token_price", False, "seed"),
        ("a5-fireworks", "fireworks", "token_price", False, "seed"),
        ("a6-fireworks-alias", "fireworks", "token_price", False, "seed"),
    ]
    # one spend row per provider, whatever the spelling that was sent; none of it unpriced
    spend = query(
        world.warehouse,
        "select provider, model, requests, unpriced_requests, cost_usd from spend_daily "
        "where workload = 'adapters' order by provider",
    )
    assert spend == [
        ("fireworks", "qwen3.5-72b", 2, 0, Decimal("0.0243")),
        ("google", "gemini-3.1-pro", 2, 0, Decimal("0.0736")),
        ("together", "llama-4-maverick", 2, 0, Decimal("0.0176")),
    ]
    assert query(world.warehouse, "select count(*) from unpriced_usage where workload = 'adapters'") == [(0,)]
    # landing's table is not rewritten: the spelling that was sent stays there
    raw = dict(query(world.warehouse, "select event_id, provider from raw.usage_events where workload = 'adapters'"))
    assert (raw["a2-gemini-alias"], raw["a4-together-alias"], raw["a6-fireworks-alias"]) == (
        "gemini",
        " Together_AI ",
        "fireworks_ai",
    )


def test_price_change_mid_month_applies_from_its_effective_instant(world: Built) -> None:
    got = dict(query(world.warehouse, "select event_id, token_cost_usd from priced_requests where workload = 'ds'"))
    assert got == {"ds-before": Decimal("2.24"), "ds-after": Decimal("0.70")}


def test_unpriced_usage_is_null_and_listed_never_zero(world: Built) -> None:
    assert query(
        world.warehouse,
        "select is_unpriced, pricing_basis, token_cost_usd from priced_requests where event_id = 'c7-unpriced'",
    ) == [(True, "unpriced", None)]
    assert query(world.warehouse, "select cost_usd, unpriced_requests from spend_daily where model = 'gpt-9-preview'") == [
        (None, 1)
    ]
    rows = query(
        world.warehouse, "select reason, model, deployment, requests, tokens_total from unpriced_usage order by reason"
    )
    assert rows == [
        ("no_gpu_capacity", "llama-4-scout", "ghost", 1, 50),
        ("no_token_price", "gpt-9-preview", None, 1, 51_000),
    ]
    # self-hosted requests are not token-priced and not unpriced
    assert query(
        world.warehouse,
        "select distinct is_unpriced, pricing_basis, token_cost_usd from priced_requests where tier = 'self_hosted'",
    ) == [(False, "gpu_hours", None)]


def selfhost_expectation() -> dict[str, Any]:
    """Worked by hand for the scenario: GPU-hours x price, ops spread per docs/costs.md, token shares."""
    one, half, two = Decimal(1), Decimal("0.5"), Decimal(2)
    scout = {  # hour -> (gpu cost, ops cost); both deployments run the whole 09:00 hour
        9: (2 * one * H100_PER_HOUR, ops_cost(one, two)),
        10: (2 * one * H100_PER_HOUR, ops_cost(one, one)),
        11: (2 * half * H100_PER_HOUR, ops_cost(half, half)),
    }
    qwen9 = (one * Decimal("1.20"), ops_cost(one, two))
    gpu9 = shares(scout[9][0], {"rag": 3_000, "chat": 1_000})
    ops9 = shares(scout[9][1], {"rag": 3_000, "chat": 1_000})
    return {
        "scout_total": sum((g + o for g, o in scout.values()), Decimal(0)),
        "scout_idle": scout[10][0] + scout[10][1],
        "qwen_total": qwen9[0] + qwen9[1],
        "rag": gpu9["rag"] + ops9["rag"] + scout[11][0] + scout[11][1],
        "chat": gpu9["chat"] + ops9["chat"],
        "etl": qwen9[0] + qwen9[1],
    }


def test_selfhost_attribution_and_idle_add_up_to_the_deployment_cost(world: Built) -> None:
    exp = selfhost_expectation()
    # the hand-worked numbers, spelled out once: $4 + $4 + $2 of GPU and 0.868055555556 + 1.736111111111 +
    # 0.868055555556 of ops
    assert exp["scout_total"] == Decimal("13.472222222223")
    assert exp["scout_idle"] == Decimal("5.736111111111")
    idle = query(
        world.warehouse,
        "select deployment, capacity_hours, idle_hours, total_cost_usd, attributed_cost_usd, "
        "idle_cost_usd from selfhost_idle_cost order by deployment",
    )
    # attributed = the consumers' hand-worked shares, not total - idle, so the sum below is a real check
    assert idle == [
        ("qwen-batch", 1, 0, exp["qwen_total"], exp["etl"], Decimal(0)),
        ("scout-prod", 3, 1, exp["scout_total"], exp["rag"] + exp["chat"], exp["scout_idle"]),
    ]
    for _, _, _, total, attributed, idle_cost in idle:
        assert attributed + idle_cost == total  # exactly, to 1e-12
    spend = {
        (w, t, p, m, i): (c, r)
        for w, t, p, m, i, c, r in query(
            world.warehouse,
            "select workload, team, provider, model, is_idle, cost_usd, requests from spend_daily where tier = 'self_hosted'",
        )
    }
    assert spend == {
        ("rag", "search", "vllm", "llama-4-scout", False): (exp["rag"], 3),  # s1, s3 and the uncovered s5
        ("chat", "cx", "vllm", "llama-4-scout", False): (exp["chat"], 1),
        ("etl", "data", "sglang", "qwen3.5-72b", False): (exp["etl"], 1),
        ("(idle)", None, "vllm", "llama-4-scout", True): (exp["scout_idle"], 0),
    }
    assert sum(c for c, _ in spend.values()) == exp["scout_total"] + exp["qwen_total"]


def expected_day_total() -> Decimal:
    api = sum((v for k, v in EXPECTED_REQUEST_COST.items() if not k.startswith("ds-")), Decimal(0))
    exp = selfhost_expectation()
    return api + exp["scout_total"] + exp["qwen_total"]


FOCUS_MANDATORY = [
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
]
SERVICE_CATEGORIES = {
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
}


def test_focus_export_has_every_mandatory_column_with_valid_values(
    world: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(world.warehouse))
    out = tmp_path / "focus.csv"
    nxt = (DAY + timedelta(days=1)).isoformat()
    assert main(["export", "focus", "--out", str(out), "--from", DAY.isoformat(), "--to", nxt]) == 0
    assert "FOCUS rows" in capsys.readouterr().out
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    assert set(FOCUS_MANDATORY) <= set(rows[0])
    assert {"x_Tier", "x_Model", "x_TokenType", "x_Workload"} <= set(rows[0])
    for row in rows:
        for col in (
            "BilledCost",
            "BillingAccountId",
            "BillingCurrency",
            "ChargeCategory",
            "ChargePeriodStart",
            "ChargePeriodEnd",
            "BillingPeriodStart",
            "BillingPeriodEnd",
            "EffectiveCost",
            "ListCost",
            "ContractedCost",
            "InvoiceIssuerName",
            "ProviderName",
            "PublisherName",
            "ServiceCategory",
            "ServiceName",
            "PricingUnit",
            "PricingQuantity",
        ):
            assert row[col] != "", (col, row)
        assert row["ChargeCategory"] in {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
        assert row["ChargeClass"] in {"", "Correction"}
        assert row["BillingCurrency"] == "USD"
        assert row["ServiceCategory"] in SERVICE_CATEGORIES
        assert row["ChargeFrequency"] in {"One-Time", "Recurring", "Usage-Based"}
        assert row["ChargePeriodStart"] == "2026-04-14T00:00:00Z" and row["ChargePeriodEnd"] == "2026-04-15T00:00:00Z"
        assert row["BillingPeriodStart"] == "2026-04-01T00:00:00Z" and row["BillingPeriodEnd"] == "2026-05-01T00:00:00Z"
        assert Decimal(row["BilledCost"]) == Decimal(row["EffectiveCost"]) == Decimal(row["ListCost"])
        assert row["x_Tier"] in {"closed_api", "hosted_open_api", "self_hosted"}
        assert row["x_TokenType"] in {"", "input", "cache_read", "cache_creation", "cache_creation_1h", "output", "reasoning"}
    assert sum(Decimal(r["BilledCost"]) for r in rows) == expected_day_total()
    assert not [r for r in rows if r["x_Model"] == "gpt-9-preview"]  # unpriced: no cost to report
    reasoning = [r for r in rows if r["x_Model"] == "gpt-5.4" and r["x_TokenType"] == "reasoning"]
    assert [(Decimal(r["PricingQuantity"]), Decimal(r["BilledCost"]), r["PricingUnit"]) for r in reasoning] == [
        (Decimal(8_000), 8_000 * GPT54["out"], "Tokens")
    ]
    idle_gpu = [r for r in rows if r["x_Workload"] == "(idle)" and r["x_CostType"] == "gpu"]
    assert [(Decimal(r["PricingQuantity"]), Decimal(r["BilledCost"]), r["PricingUnit"], r["ResourceId"]) for r in idle_gpu] == [
        (Decimal(2), Decimal(4), "GPU-Hours", "scout-prod")
    ]
    assert {r["PublisherName"] for r in rows if r["x_Model"] == "claude-sonnet-4-6"} == {"Anthropic"}


def test_focus_export_meets_the_focus_1_0_specification(
    world: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every column of FOCUS 1.0 with its type, allowed values and nullability, and the cost identities."""
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(world.warehouse))
    out = tmp_path / "focus.csv"
    nxt = (DAY + timedelta(days=1)).isoformat()
    assert main(["export", "focus", "--out", str(out), "--from", DAY.isoformat(), "--to", nxt]) == 0
    capsys.readouterr()
    with out.open(newline="") as fh:
        reader = csv.DictReader(fh)
        check_header(list(reader.fieldnames or []))
        rows = list(reader)
    assert {c for c in rows[0] if c.startswith("x_")} >= {"x_Tier", "x_Model", "x_TokenType", "x_Workload", "x_CostType"}
    for row in rows:
        check_row(row)
        # no commitment discounts, no regions: those conditional columns are null
        assert all(row[c] == "" for c in FOCUS_1_0_COLUMNS if c.startswith("CommitmentDiscount"))
        assert row["RegionId"] == row["RegionName"] == row["AvailabilityZone"] == ""
        tags = json.loads(row["Tags"])
        assert tags["tierwise/workload"] == row["x_Workload"]
        if row["x_CostType"] == "tokens":
            # one unit price per line: the identities hold exactly
            assert identity_gap(row, "ListUnitPrice", "ListCost") == 0, row
            assert identity_gap(row, "ContractedUnitPrice", "ContractedCost") == 0, row
            assert row["SkuPriceId"].endswith("/" + row["x_TokenType"])
            assert tags["tierwise/environment"] == "prod"
        else:
            # an allocation's average unit price, to 1e-12, times a quantity written to a millionth
            bound = Decimal(row["ListUnitPrice"]) * Decimal("0.0000005") + Decimal(row["PricingQuantity"]) * Decimal("1e-12")
            assert identity_gap(row, "ListUnitPrice", "ListCost") <= bound, row
            assert tags["tierwise/deployment"] == row["ResourceId"]
    # the unit prices are the catalog rates that priced the tokens
    c1_cache_read = [
        r
        for r in rows
        if r["x_Model"] == "claude-sonnet-4-6" and r["x_TokenType"] == "cache_read" and r["x_Workload"] == "support"
    ]
    assert [(Decimal(r["ListUnitPrice"]), Decimal(r["PricingQuantity"])) for r in c1_cache_read] == [
        (SONNET["cache_read"], Decimal(80_000))
    ]
    assert c1_cache_read[0]["SkuPriceId"] == "seed:anthropic/claude-sonnet-4-6@2025-01-01T00:00:00/cache_read"
    # a batch and a standard request of one model are two lines of one token type, each at its rate
    gpt_input = sorted(
        (Decimal(r["ListUnitPrice"]), Decimal(r["PricingQuantity"]))
        for r in rows
        if r["x_Model"] == "gpt-5.4" and r["x_TokenType"] == "input" and r["x_Workload"] == "agent"
    )
    # c2 2k, c4 5k, c8 5k uncached (c8's cache write is its own cache_creation line, at the input rate)
    assert gpt_input == [(GPT54["batch_in"], Decimal(1_000_000)), (GPT54["in"], Decimal(2_000 + 5_000 + 5_000))]
    assert sum(Decimal(r["BilledCost"]) for r in rows) == expected_day_total()


def test_spend_json_rows_are_exact(world: Built, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(world.warehouse))
    nxt = (DAY + timedelta(days=1)).isoformat()
    assert main(["spend", "--by", "workload,day", "--from", DAY.isoformat(), "--to", nxt, "--json"]) == 0
    rows = {r["workload"]: r for r in json.loads(capsys.readouterr().out)}
    exp = selfhost_expectation()
    agent = sum((EXPECTED_REQUEST_COST[k] for k in ("c2-reasoning", "c3-batch", "c4-error", "c8-cache-fallback")), Decimal(0))
    assert set(rows) == {"support", "agent", "search", "etl", "rag", "chat", "adapters", "(idle)"}
    assert rows["adapters"]["cost_usd"] == "0.115500000000"  # 0.0736 + 0.0176 + 0.0243
    assert rows["agent"]["cost_usd"] == "2.918500000000" == format(rnd(agent), "f")
    assert rows["agent"]["unpriced_requests"] == 1 and rows["agent"]["requests"] == 5
    assert rows["agent"]["tokens_reasoning"] == 8_000 and rows["agent"]["day"] == "2026-04-14"
    assert rows["(idle)"]["cost_usd"] == format(exp["scout_idle"], "f")
    assert rows["rag"]["cost_usd"] == format(exp["rag"], "f")
    assert rows["etl"]["cost_usd"] == format(rnd(EXPECTED_REQUEST_COST["c6-hosted-batch"] + exp["etl"]), "f")
    assert sum(Decimal(r["cost_usd"]) for r in rows.values()) == expected_day_total()

    assert main(["spend", "--by", "tier,month", "--json"]) == 0
    by_tier = {(r["tier"], r["month"]): r["cost_usd"] for r in json.loads(capsys.readouterr().out)}
    assert by_tier[("self_hosted", "2026-04-01")] == format(exp["scout_total"] + exp["qwen_total"], "f")
    assert by_tier[("closed_api", "2025-09-01")] == format(rnd(Decimal("2.94")), "f")

    assert main(["spend", "--by", "workload,colour"]) == 2
    assert "workload, team, tier, provider, model, day, month" in capsys.readouterr().err
    assert main(["spend", "--from", "14/04/2026"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_spend_without_a_warehouse_says_to_run_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(tmp_path / "absent.duckdb"))
    assert main(["spend"]) == 2
    assert "run `tierwise run` first" in capsys.readouterr().err


# --- partitions and a LiteLLM import on a small warehouse ----------------------------------------


def test_partition_window_replaces_exactly_its_days_and_imports_reprice_from_their_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "w.duckdb"
    d1, d2 = date(2026, 6, 10), date(2026, 6, 11)

    def gpt(con: duckdb.DuckDBPyConnection, event_id: str, when: str, inp: int, out: int) -> None:
        add_event(
            con,
            event_id,
            when,
            "closed_api",
            "openai",
            "gpt-5.4",
            "agent",
            "platform",
            input_tokens=inp,
            output_tokens=out,
        )

    def daily() -> dict[date, Decimal]:
        return dict(query(warehouse, "select day, sum(cost_usd) from spend_daily group by day"))

    con = connect(warehouse)
    gpt(con, "e1", "2026-06-10 23:59:59", 1_000, 1_000)
    gpt(con, "e2", "2026-06-11 00:00:00", 1_000, 1_000)
    con.close()
    seed_1k_1k = 1_000 * GPT54["in"] + 1_000 * GPT54["out"]
    assert seed_1k_1k == Decimal("0.0175")

    build(warehouse, tmp_path)
    assert daily() == {d1: seed_1k_1k, d2: seed_1k_1k}
    build(warehouse, tmp_path)  # a second full build replaces, never duplicates
    assert daily() == {d1: seed_1k_1k, d2: seed_1k_1k}
    assert query(warehouse, "select count(*) from priced_requests") == [(2,)]

    # late rows for both days; rebuild only June 10th
    con = connect(warehouse)
    gpt(con, "e3-late", "2026-06-10 12:00:00", 2_000, 0)
    gpt(con, "e4-not-rebuilt", "2026-06-11 12:00:00", 4_000, 0)
    con.close()
    build(warehouse, tmp_path, window_vars(d1, d2))
    late = 2_000 * GPT54["in"]
    assert daily() == {d1: seed_1k_1k + late, d2: seed_1k_1k}  # June 11th untouched
    assert query(warehouse, "select event_id from priced_requests order by 1") == [("e1",), ("e2",), ("e3-late",)]
    # the month is recomputed whole from the daily rows
    assert query(warehouse, "select month, cost_usd from spend_monthly") == [(date(2026, 6, 1), 2 * seed_1k_1k + late)]

    # LiteLLM prices gpt-5.4 at $4 / $20 per 1M from June 11th: the seed's older row loses from then on
    litellm = tmp_path / "litellm.json"
    litellm.write_text(
        json.dumps(
            {
                "sample_spec": {"mode": "one of: chat, embedding"},
                "gpt-5.4": {
                    "litellm_provider": "openai",
                    "mode": "chat",
                    "input_cost_per_token": 4e-06,
                    "output_cost_per_token": 2e-05,
                },
                "text-embedding-3-small": {
                    "litellm_provider": "openai",
                    "mode": "embedding",
                    "input_cost_per_token": 2e-08,
                    "output_cost_per_token": 0,
                },
            }
        )
    )
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TIERWISE_HOME", str(tmp_path / "home"))  # no Dagster instance to tell
    assert main(["prices", "import", "litellm", str(litellm), "--effective-from", d2.isoformat()]) == 0
    printed = capsys.readouterr().out
    assert "imported 2 prices" in printed and "skipped 1 entries" in printed  # the embedding model is priced too
    assert "marked 1 day for re-pricing from 2026-06-11 to 2026-06-11" in printed
    build(warehouse, tmp_path)
    imported_in, imported_out = per_m("4"), per_m("20")
    assert daily() == {
        d1: seed_1k_1k + late,  # before the effective date: still the seed
        d2: (1_000 * imported_in + 1_000 * imported_out) + 4_000 * imported_in,
    }
    assert dict(query(warehouse, "select event_id, price_source from priced_requests")) == {
        "e1": "seed",
        "e2": "litellm_import",
        "e3-late": "seed",
        "e4-not-rebuilt": "litellm_import",
    }


# --- LiteLLM's provider ids, imported and sent, meet tierwise's ------------------------------------


def test_litellm_import_prices_adapter_built_and_alias_spelled_events_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "w.duckdb"
    model = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
    fw_model = "accounts/fireworks/models/deepseek-v3p2"
    spend_log = json.loads((PAYLOADS / "litellm_spend_log_row.json").read_text(encoding="utf-8"))
    event = from_litellm_spend_log(spend_log)  # custom_llm_provider together_ai, model together_ai/<model>
    assert (event.provider, event.model, event.input_tokens, event.output_tokens) == ("together", model, 1_200, 90)

    con = connect(warehouse)
    add_built(con, event)
    add_event(
        con,
        "alias-1",
        "2025-06-02 11:00:00",
        "hosted_open_api",
        "together_ai",
        model,
        "rag-service",
        "team-42",
        input_tokens=1_200,
        output_tokens=90,
    )
    add_event(
        con,
        "fw-1",
        "2025-06-02 12:00:00",
        "hosted_open_api",
        "fireworks",
        fw_model,
        "rag-service",
        "team-42",
        input_tokens=2_000,
        output_tokens=100,
    )
    # a row imported before the importer renamed providers still says fireworks_ai
    prices.ensure_table(con)
    con.execute(
        "insert into raw.imported_prices (provider, model, valid_from, input_cost_per_token, output_cost_per_token, "
        "source_key, litellm_mode, imported_at) values ('fireworks_ai', ?, '2025-05-01', "
        "cast(? as decimal(38, 12)), cast(? as decimal(38, 12)), ?, 'chat', now()::timestamp)",
        [fw_model, "0.0000009", "0.0000009", f"fireworks_ai/{fw_model}"],
    )
    con.close()

    litellm = tmp_path / "litellm.json"
    litellm.write_text(
        json.dumps(
            {
                f"together_ai/{model}": {
                    "litellm_provider": "together_ai",
                    "mode": "chat",
                    "input_cost_per_token": 8.8e-07,
                    "output_cost_per_token": 8.8e-07,
                }
            }
        )
    )
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(warehouse))
    assert main(["prices", "import", "litellm", str(litellm), "--effective-from", "2025-06-01"]) == 0
    assert "imported 1 prices" in capsys.readouterr().out
    assert query(warehouse, "select provider, model from raw.imported_prices where valid_from = '2025-06-01'") == [
        ("together", model)
    ]
    build(warehouse, tmp_path)

    together_cost = 1_200 * per_m("0.88") + 90 * per_m("0.88")
    fireworks_cost = 2_000 * per_m("0.90") + 100 * per_m("0.90")
    assert (together_cost, fireworks_cost) == (Decimal("0.0011352"), Decimal("0.00189"))
    got = {
        row[0]: row[1:]
        for row in query(warehouse, "select event_id, provider, price_source, token_cost_usd from priced_requests")
    }
    assert got == {
        event.event_id: ("together", "litellm_import", together_cost),
        "alias-1": ("together", "litellm_import", together_cost),
        "fw-1": ("fireworks", "litellm_import", fireworks_cost),
    }
    assert query(
        warehouse, "select provider, model from stg_model_prices where price_source = 'litellm_import' order by 1"
    ) == [
        ("fireworks", fw_model),
        ("together", model),
    ]
