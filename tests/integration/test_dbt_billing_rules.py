"""Prices as providers bill them: batch cache rates, long-context tiers, service tiers, 1-hour cache writes
and embeddings, priced by a real dbt build and checked to the cent against dollars worked out by hand.

Every rate below is a published per-million-token price (Anthropic's Claude Sonnet 4.5 and Opus 4.5
price lists, OpenAI's gpt-5 Standard/Priority/Flex tables, OpenAI's text-embedding-3-small), the same
numbers the seed dbt_project/seeds/model_prices.csv carries for the models tierwise prices with them.
The expected dollars are computed here from those rates and the rules of docs/costs.md, never read back.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.adapters import from_openai
from landing import prices
from landing.warehouse import connect
from pipelines.dbt_cli import run_dbt
from tests.focus_spec import check_header, check_row, identity_gap
from tierwise.cli import main

pytestmark = pytest.mark.slow

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
M = Decimal(1_000_000)
DAY = "2026-04-14"


def per_m(usd_per_million: str) -> Decimal:
    return Decimal(usd_per_million) / M


# Claude Sonnet 4.5 (seed: claude-sonnet-4-6): $3 in, $15 out, cache read $0.30, 5-minute write $3.75,
# 1-hour write $6; Batch API half of each; prompts above 200k tokens: $6 in, $22.50 out, $0.60 read, $7.50 write.
SONNET = {
    "in": per_m("3"), "out": per_m("15"), "read": per_m("0.30"), "write_5m": per_m("3.75"), "write_1h": per_m("6"),
    "batch_in": per_m("1.50"), "batch_out": per_m("7.50"), "batch_read": per_m("0.15"), "batch_write_5m": per_m("1.875"),
    "long_in": per_m("6"), "long_out": per_m("22.50"), "long_read": per_m("0.60"), "long_write_5m": per_m("7.50"),
}  # fmt: skip
# Claude Opus 4.5 (seed: claude-opus-4-7): $5 in, $25 out, 5-minute write $6.25, 1-hour write $10.
OPUS = {"in": per_m("5"), "out": per_m("25"), "write_5m": per_m("6.25"), "write_1h": per_m("10")}
# gpt-5: Standard $1.25 / $0.125 cached / $10 out; Priority $2.50 / $0.25 / $20; Flex $0.625 / $0.0625 / $5.
GPT5 = {
    "standard": (per_m("1.25"), per_m("0.125"), per_m("10")),
    "priority": (per_m("2.50"), per_m("0.25"), per_m("20")),
    "flex": (per_m("0.625"), per_m("0.0625"), per_m("5")),
}
EMBEDDING_SMALL = per_m("0.02")  # text-embedding-3-small, input only


@dataclass(frozen=True)
class Req:
    event_id: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cached: int = 0
    cache_creation: int = 0
    cache_creation_1h: int = 0
    batch: bool = False
    service_tier: str | None = None
    operation: str = "chat"


REQUESTS = [
    # batch + cache read + 5-minute cache write on one request
    Req("batch-cached", "anthropic", "claude-sonnet-4-6", 100_000, 10_000, cached=60_000, cache_creation=20_000, batch=True),
    # a 250k-token prompt on a model with a 200k tier: the whole request at the long-context rates
    Req("long-250k", "anthropic", "claude-sonnet-4-6", 250_000, 5_000),
    Req("long-250k-cached", "anthropic", "claude-sonnet-4-6", 250_000, 5_000, cached=100_000, cache_creation=10_000),
    Req("at-200k", "anthropic", "claude-sonnet-4-6", 200_000, 5_000),  # "above 200k" means more than 200k
    Req("standard-150k", "anthropic", "claude-sonnet-4-6", 150_000, 5_000),
    # service tiers
    Req("gpt5-standard", "openai", "gpt-5", 10_000, 2_000, cached=4_000, service_tier="standard"),
    Req("gpt5-default", "openai", "gpt-5", 10_000, 2_000, cached=4_000, service_tier="default"),
    Req("gpt5-priority", "openai", "gpt-5", 10_000, 2_000, cached=4_000, service_tier="priority"),
    Req("gpt5-flex", "openai", "gpt-5", 10_000, 2_000, cached=4_000, service_tier="flex"),
    Req("mini-priority-no-rate", "openai", "gpt-5.4-mini", 10_000, 2_000, service_tier="priority"),
    Req("opus-fast", "anthropic", "claude-opus-4-7", 10_000, 2_000, service_tier="fast"),
    # 1-hour cache writes
    Req("opus-1h", "anthropic", "claude-opus-4-7", 50_000, 1_000, cache_creation=40_000, cache_creation_1h=30_000),
    Req("sonnet-batch-1h", "anthropic", "claude-sonnet-4-6", 20_000, 0, cache_creation=10_000, cache_creation_1h=10_000,
        batch=True),
    Req("gpt54-1h-fallback", "openai", "gpt-5.4", 10_000, 0, cache_creation=2_000, cache_creation_1h=2_000),
    # an embedding request the OpenAI adapter parses, priced from a LiteLLM import
    Req("embed-1m", "openai", "text-embedding-3-small", 1_000_000, 0, operation="embeddings"),
]  # fmt: skip

GPT54_IN = per_m("2.50")  # seed gpt-5.4 input (no cache-write price: writes pay the input rate)


def gpt5(tier: str) -> Decimal:
    i, c, o = GPT5[tier]
    return 6_000 * i + 4_000 * c + 2_000 * o


EXPECTED = {
    "batch-cached": 20_000 * SONNET["batch_in"]
    + 60_000 * SONNET["batch_read"]
    + 20_000 * SONNET["batch_write_5m"]
    + 10_000 * SONNET["batch_out"],
    "long-250k": 250_000 * SONNET["long_in"] + 5_000 * SONNET["long_out"],
    "long-250k-cached": 140_000 * SONNET["long_in"]
    + 100_000 * SONNET["long_read"]
    + 10_000 * SONNET["long_write_5m"]
    + 5_000 * SONNET["long_out"],
    "at-200k": 200_000 * SONNET["in"] + 5_000 * SONNET["out"],
    "standard-150k": 150_000 * SONNET["in"] + 5_000 * SONNET["out"],
    "gpt5-standard": gpt5("standard"),
    "gpt5-default": gpt5("standard"),
    "gpt5-priority": gpt5("priority"),
    "gpt5-flex": gpt5("flex"),
    # the seed has no priority rate for gpt-5.4-mini: the standard rates ($0.75 in, $4.50 out)
    "mini-priority-no-rate": 10_000 * per_m("0.75") + 2_000 * per_m("4.50"),
    "opus-1h": 10_000 * OPUS["in"] + 10_000 * OPUS["write_5m"] + 30_000 * OPUS["write_1h"] + 1_000 * OPUS["out"],
    # a batch 1-hour write has no batch rate of its own: the non-batch 1-hour rate, never a made-up discount
    "sonnet-batch-1h": 10_000 * SONNET["batch_in"] + 10_000 * SONNET["write_1h"],
    # no 1-hour (nor 5-minute) write rate: the 5-minute rule's fallback, the input rate
    "gpt54-1h-fallback": 10_000 * GPT54_IN,
    "embed-1m": 1_000_000 * EMBEDDING_SMALL,
}
# The same dollars written out, so a wrong helper above cannot hide a wrong rule.
IN_DOLLARS = {
    "batch-cached": "0.1515",  # 0.03 + 0.009 + 0.0375 + 0.075
    "long-250k": "1.6125",  # 1.5 + 0.1125
    "long-250k-cached": "1.0875",  # 0.84 + 0.06 + 0.075 + 0.1125
    "at-200k": "0.675",
    "standard-150k": "0.525",
    "gpt5-standard": "0.028",  # 0.0075 + 0.0005 + 0.02
    "gpt5-priority": "0.056",  # 0.015 + 0.001 + 0.04
    "gpt5-flex": "0.014",  # 0.00375 + 0.00025 + 0.01
    "opus-1h": "0.4375",  # 0.05 + 0.0625 + 0.3 + 0.025
    "sonnet-batch-1h": "0.075",  # 0.015 + 0.06
    "embed-1m": "0.02",
    "mini-priority-no-rate": "0.0165",  # 0.0075 + 0.009
}


def add_request(con: duckdb.DuckDBPyConnection, r: Req, offset: int) -> None:
    ts = datetime.fromisoformat(f"{DAY} 10:00:00")
    tier = "closed_api"
    con.execute(
        """insert into raw.usage_events (event_id, event_time, event_date, tier, provider, model, workload, team,
             environment, operation, input_tokens, output_tokens, cached_input_tokens, cache_creation_input_tokens,
             cache_creation_1h_input_tokens, reasoning_tokens, status, batch, service_tier, shadow, schema_version,
             content_fields_dropped, kafka_topic, kafka_partition, kafka_offset, landed_at)
           values (?, ?, ?, ?, ?, ?, 'billing', 'finops', 'prod', ?, ?, ?, ?, ?, ?, 0, 'ok', ?, ?, false, '1', 0,
                   'llm.usage.v1', 0, ?, now()::timestamp)""",
        [r.event_id, ts, ts.date(), tier, r.provider, r.model, r.operation, r.input_tokens, r.output_tokens, r.cached,
         r.cache_creation, r.cache_creation_1h, r.batch, r.service_tier, offset],
    )  # fmt: skip


@dataclass(frozen=True)
class Built:
    warehouse: Path
    work: Path


def query(warehouse: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def billed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    work = tmp_path_factory.mktemp("dbt-billing")
    warehouse = work / "warehouse.duckdb"
    # The embedding request is what the OpenAI adapter makes of an Embeddings response.
    embedding = from_openai(json.loads((PAYLOADS / "openai_embeddings.json").read_text()), workload="billing")
    assert (embedding.model, embedding.operation, embedding.output_tokens) == ("text-embedding-3-small", "embeddings", 0)
    con = connect(warehouse)
    for offset, r in enumerate(REQUESTS):
        add_request(con, r, offset)
    litellm = {
        "text-embedding-3-small": {
            "litellm_provider": "openai",
            "mode": "embedding",
            "input_cost_per_token": 2e-08,
            "output_cost_per_token": 0.0,
        }
    }
    prices.write_imported_prices(con, prices.parse_litellm(litellm), date(2026, 1, 1), "embeddings.json")
    con.execute("update raw.usage_events set tags = map(['app', 'note'], ['ci', '=1+1']) where event_id = 'opus-1h'")
    con.close()  # dbt needs the file lock
    run_dbt(["build"], warehouse, target_path=work / "target", log_path=work / "logs")
    yield Built(warehouse, work)


def test_each_billing_rule_prices_to_the_cent(billed: Built) -> None:
    got = dict(query(billed.warehouse, "select event_id, token_cost_usd from priced_requests"))
    for event_id, expected in EXPECTED.items():
        assert got[event_id] == expected, event_id
    for event_id, dollars in IN_DOLLARS.items():
        assert got[event_id] == Decimal(dollars), event_id


def test_rates_applied_are_reported_per_request(billed: Built) -> None:
    rows = {
        r[0]: r[1:]
        for r in query(
            billed.warehouse,
            """select event_id, rate_input, rate_cache_read, rate_cache_creation, rate_cache_creation_1h, rate_output,
                      is_long_context, cost_cache_creation_usd, price_row_id
               from priced_requests""",
        )
    }
    assert rows["long-250k"][0] == SONNET["long_in"] and rows["long-250k"][4] == SONNET["long_out"]
    assert rows["long-250k"][5] is True and rows["at-200k"][5] is False
    assert rows["batch-cached"][1:3] == (SONNET["batch_read"], SONNET["batch_write_5m"])
    assert rows["opus-1h"][2:4] == (OPUS["write_5m"], OPUS["write_1h"])
    # cost_cache_creation covers both lifetimes, each at its rate
    assert rows["opus-1h"][6] == 10_000 * OPUS["write_5m"] + 30_000 * OPUS["write_1h"] == Decimal("0.3625")
    assert rows["gpt5-flex"][0] == GPT5["flex"][0]
    assert rows["embed-1m"][7] == "litellm_import:openai/text-embedding-3-small@2026-01-01T00:00:00"
    assert rows["opus-1h"][7] == "seed:anthropic/claude-opus-4-7@2025-01-01T00:00:00"


def test_a_service_tier_the_catalog_cannot_price_is_unpriced_not_standard(billed: Built) -> None:
    ((cost, unpriced, basis),) = query(
        billed.warehouse,
        "select token_cost_usd, is_unpriced, pricing_basis from priced_requests where event_id = 'opus-fast'",
    )
    assert (cost, unpriced, basis) == (None, True, "unpriced")
    listed = query(
        billed.warehouse,
        "select reason, model from unpriced_usage where model = 'claude-opus-4-7' and workload = 'billing'",
    )
    assert listed == [("no_token_price", "claude-opus-4-7")]


def test_focus_lines_carry_each_rate_with_its_tokens(
    billed: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(billed.warehouse))
    out = tmp_path / "focus.csv"
    assert main(["export", "focus", "--out", str(out), "--from", DAY, "--to", "2026-04-15"]) == 0
    capsys.readouterr()
    with out.open(newline="") as fh:
        reader = csv.DictReader(fh)
        check_header(list(reader.fieldnames or []))
        rows = list(reader)
    for row in rows:
        check_row(row)
        assert identity_gap(row, "ListUnitPrice", "ListCost") == 0, row

    def lines(model: str, token_type: str) -> list[tuple[Decimal, Decimal]]:
        found = [r for r in rows if r["x_Model"] == model and r["x_TokenType"] == token_type]
        return sorted((Decimal(r["ListUnitPrice"]), Decimal(r["PricingQuantity"])) for r in found)

    # 1-hour writes are their own line at their own rate; 5-minute writes another
    assert lines("claude-opus-4-7", "cache_creation_1h") == [(OPUS["write_1h"], Decimal(30_000))]
    assert lines("claude-opus-4-7", "cache_creation") == [(OPUS["write_5m"], Decimal(10_000))]
    # standard, batch and long-context input of one model: one line per rate
    assert lines("claude-sonnet-4-6", "input") == sorted(
        [
            (SONNET["batch_in"], Decimal(20_000 + 10_000)),
            (SONNET["in"], Decimal(200_000 + 150_000)),
            (SONNET["long_in"], Decimal(250_000 + 140_000)),
        ]
    )
    assert lines("gpt-5", "output") == sorted(
        [(GPT5["standard"][2], Decimal(4_000)), (GPT5["priority"][2], Decimal(2_000)), (GPT5["flex"][2], Decimal(2_000))]
    )
    assert lines("text-embedding-3-small", "input") == [(EMBEDDING_SMALL, Decimal(1_000_000))]
    assert not [r for r in rows if r["x_Model"] == "claude-opus-4-7" and r["x_TokenType"] == "output" and "fast" in r["Tags"]]
    # Tags: tierwise's keys with their prefix, the event's tags as sent (inside JSON, never run as a formula)
    opus_tags = {r["Tags"] for r in rows if r["x_Model"] == "claude-opus-4-7" and r["x_TokenType"] == "cache_creation_1h"}
    assert [json.loads(t) for t in opus_tags] == [
        {
            "tierwise/workload": "billing",
            "tierwise/team": "finops",
            "tierwise/environment": "prod",
            "app": "ci",
            "note": "=1+1",
        }
    ]
    assert sum(Decimal(r["BilledCost"]) for r in rows) == sum(EXPECTED.values(), Decimal(0))
