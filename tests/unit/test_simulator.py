"""The simulator: reproducible, realistic across tiers, honest about its noise rates, and content-free."""

from __future__ import annotations

import csv
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.simulator import (
    BREAK_EVEN_TOKENS_PER_DAY,
    CATALOGUE,
    DEPLOYMENTS,
    UNPRICED,
    SimConfig,
    Simulator,
    write_jsonl,
)
from schemas import ContractError, is_content_key, parse_gpu, parse_usage
from schemas.providers import PROVIDER_ALIASES, PROVIDER_TIERS, canonical_provider

START = date(2026, 3, 2)  # a Monday
PRICES = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "model_prices.csv"


def run(**overrides: Any) -> list[Any]:
    cfg = SimConfig(**{"days": 2, "start": START, "rate": 0.05, "seed": 7, **overrides})
    return list(Simulator(cfg).records())


def content_keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [k for k in value if is_content_key(k)]
        return found + [k for v in value.values() for k in content_keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in content_keys(v)]
    return []


def test_same_seed_gives_byte_identical_output_and_another_seed_does_not() -> None:
    first, again, other = run(), run(), run(seed=8)
    assert [r.value for r in first] == [r.value for r in again]
    assert [r.value for r in first] != [r.value for r in other]


def test_write_jsonl_writes_the_stream_line_by_line(tmp_path: Path) -> None:
    out = tmp_path / "sim.jsonl"
    summary = write_jsonl(SimConfig(days=1, start=START, rate=0.05, seed=3), str(out))
    written = out.read_bytes().splitlines()
    assert written == [r.value for r in run(days=1, seed=3)]
    assert summary.total == len(written)


def test_every_tier_is_present_with_catalogue_models_shadow_traffic_and_gpu_heartbeats() -> None:
    records = run(days=3)
    usage = [parse_usage(r.value) for r in records if r.kind == "usage"]
    tiers = Counter(e.tier.value for e in usage)
    assert set(tiers) == {"closed_api", "hosted_open_api", "self_hosted"}
    catalogue = {(tier, provider, model) for tier, provider, model, _, _ in CATALOGUE.values()}
    assert {(e.tier.value, e.provider, e.model) for e in usage} <= catalogue
    shadow_tiers = {e.tier.value for e in usage if e.shadow}
    assert shadow_tiers == {"hosted_open_api", "self_hosted"}  # candidates on both open tiers
    assert all(e.eval_score is not None for e in usage if e.shadow and e.status == "ok")
    assert any(e.batch for e in usage) and any(e.status == "error" for e in usage)
    assert any(e.cached_input_tokens for e in usage) and any(e.reasoning_tokens for e in usage)
    self_hosted = {e.deployment for e in usage if e.tier.value == "self_hosted"}
    gpu = [parse_gpu(r.value) for r in records if r.kind == "gpu"]
    assert {g.deployment for g in gpu} == set(DEPLOYMENTS) >= self_hosted
    per_deployment = Counter(g.deployment for g in gpu)
    assert set(per_deployment.values()) == {3 * 24 * 60 // 5}  # one heartbeat every 5 minutes


def test_priced_models_use_the_price_seed_ids_and_exactly_one_is_unpriced() -> None:
    with open(PRICES, newline="") as fh:
        # the demo runs up to today: only rows without an end date price it
        priced = {(row["provider"], row["model"]) for row in csv.DictReader(fh) if not row["valid_to"]}
    api_models = {(p, m) for key, (tier, p, m, _, _) in CATALOGUE.items() if tier != "self_hosted"}
    missing = {pm for pm in api_models if pm not in priced}
    assert missing == {(CATALOGUE[k][1], CATALOGUE[k][2]) for k in UNPRICED}
    assert len(UNPRICED) == 1
    # every hosted and closed model the demo sends is priced, Google, Together and Fireworks included
    assert {("google", "gemini-3.1-pro"), ("together", "llama-4-maverick"), ("fireworks", "qwen3.5-72b")} <= priced


def test_providers_are_spelled_as_the_adapters_write_them() -> None:
    for key, (tier, provider, _, _, _) in CATALOGUE.items():
        # tierwise's name, not LiteLLM's (gemini, together_ai, fireworks_ai are aliases)
        assert canonical_provider(provider) == provider, key
        assert provider not in PROVIDER_ALIASES, key
        if provider in PROVIDER_TIERS:
            assert PROVIDER_TIERS[provider].value == tier, key


def test_support_chat_crosses_the_break_even_volume_within_the_month() -> None:
    cfg = SimConfig(days=30, start=START, rate=0.03, tokens_per_day=100e6, seed=11, dup_rate=0, late_rate=0, bad_rate=0)
    daily: dict[date, int] = defaultdict(int)
    for rec in Simulator(cfg).records():
        if rec.kind != "usage":
            continue
        ev = orjson.loads(rec.value)
        if ev["workload"] == "support-chat" and not ev.get("shadow"):
            day = datetime.fromisoformat(ev["event_time"]).date()
            daily[day] += ev["input_tokens"] + ev["output_tokens"]
    days = [daily[d] for d in sorted(daily)]
    assert len(days) == 30
    assert CATALOGUE["claude-sonnet-4-6"][0] == "closed_api"
    assert statistics.median(days[:7]) < BREAK_EVEN_TOKENS_PER_DAY < statistics.median(days[-7:])


def test_duplicate_late_and_bad_rates_are_roughly_honoured() -> None:
    records = run(days=7, rate=0.05, dup_rate=0.05, late_rate=0.1, bad_rate=0.02)
    usage = [r for r in records if r.kind == "usage"]
    ids = Counter(orjson.loads(r.value)["event_id"] for r in usage)
    originals = len(ids)
    resent = sum(n - 1 for n in ids.values())
    # Late: sent more than 12 minutes after something newer was already sent.
    clock, late = 0.0, 0
    for r in usage:
        when = datetime.fromisoformat(orjson.loads(r.value)["event_time"]).timestamp()
        late += when < clock - 720
        clock = max(clock, when)
    bad = 0
    for r in records:
        if r.kind != "bad":
            continue
        try:
            ev = parse_usage(r.value)
        except ContractError:
            bad += 1
            continue
        assert len(r.value) > 64 * 1024 or ev.content_fields_dropped > 0  # oversized or carrying content
        bad += 1
    assert originals > 5000
    assert resent / originals == pytest.approx(0.05, rel=0.25)
    assert late / originals == pytest.approx(0.10, rel=0.25)
    assert bad / originals == pytest.approx(0.02, rel=0.3)
    assert len({r.note for r in records if r.kind == "bad"}) == 4  # bad JSON, contract, oversized, content


def test_generated_usage_carries_no_content_and_content_variants_are_stripped() -> None:
    records = run(days=2, bad_rate=0.05)
    for rec in records:
        if rec.kind == "usage":
            assert content_keys(orjson.loads(rec.value)) == []
            assert parse_usage(rec.value).content_fields_dropped == 0
    with_content = [r for r in records if r.note == "content"]
    assert with_content
    for rec in with_content:
        event = parse_usage(rec.value)
        assert event.content_fields_dropped > 0
        assert content_keys(orjson.loads(event.model_dump_json())) == []


# --- the period never reaches past "now" (an injected clock, never the wall clock) -----------------

NOW = datetime(2026, 3, 4, 13, 37, 21, tzinfo=UTC)  # a Wednesday afternoon


def event_times(records: list[Any]) -> list[datetime]:
    """event_time of every well-formed usage record (resends included)."""
    out = []
    for r in records:
        if r.kind != "usage":
            continue
        out.append(datetime.fromisoformat(orjson.loads(r.value)["event_time"]))
    return out


def test_without_a_start_the_period_is_whole_days_then_today_up_to_now() -> None:
    cfg = SimConfig(days=3, rate=0.05, seed=7).resolved(NOW)
    assert (cfg.start, cfg.end) == (date(2026, 3, 2), NOW)
    records = list(Simulator(cfg).records())
    times = event_times(records)
    assert max(times) < NOW
    assert {t.date() for t in times} == {date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)}
    assert min(times) < datetime(2026, 3, 2, 1, tzinfo=UTC)  # the first day is whole, from midnight
    assert max(times) > NOW - timedelta(hours=1)  # today runs right up to now
    ends = [parse_gpu(r.value).interval_end for r in records if r.kind == "gpu"]
    assert max(ends) <= NOW  # heartbeats only for finished intervals
    assert len(ends) == 2 * ((2 * 24 + 13) * 12 + 7)  # 2 deployments, 5-minute intervals up to 13:35


def test_a_start_that_runs_into_the_future_is_cut_at_now_and_only_the_future_is_dropped() -> None:
    uncut = list(Simulator(SimConfig(days=5, start=START, rate=0.05, seed=7)).records())
    cut_cfg = SimConfig(days=5, start=START, rate=0.05, seed=7).resolved(NOW)
    assert (cut_cfg.start, cut_cfg.end) == (START, NOW)
    cut = list(Simulator(cut_cfg).records())
    assert max(event_times(cut)) < NOW
    # The same random stream: the cut run is exactly the uncut run's usage before now.
    before = [r.value for r in uncut if r.kind == "usage" and event_times([r])[0] < NOW]
    assert Counter(r.value for r in cut if r.kind == "usage") == Counter(before)
    assert len(before) < sum(r.kind == "usage" for r in uncut)
    assert [r.value for r in cut] == [r.value for r in Simulator(cut_cfg).records()]  # deterministic


def test_a_period_in_the_past_does_not_depend_on_the_clock() -> None:
    past = SimConfig(days=2, start=START, rate=0.05, seed=7)
    assert past.resolved(NOW) == past.resolved(NOW + timedelta(days=400))
    assert [r.value for r in Simulator(past.resolved(NOW)).records()] == [r.value for r in run()]


def test_an_explicit_end_and_a_midnight_cut() -> None:
    # --end pins "now" for reproducible output; a cut at midnight leaves no empty last day.
    cfg = SimConfig(days=2, end=datetime(2026, 3, 4, tzinfo=UTC)).resolved(NOW + timedelta(days=30))
    assert (cfg.start, cfg.end) == (date(2026, 3, 2), datetime(2026, 3, 4, tzinfo=UTC))
    # An end later than now is still cut at now.
    assert SimConfig(days=2, end=NOW + timedelta(hours=5)).resolved(NOW).end == NOW


def test_a_start_after_now_or_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="begins after 2026-03-04 13:37 UTC"):
        SimConfig(days=2, start=date(2026, 3, 5)).resolved(NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        SimConfig(days=2).resolved(NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        Simulator(SimConfig(days=2, start=START, end=NOW.replace(tzinfo=None)))


def test_shadow_candidates_straddle_the_quality_gate() -> None:
    """support-chat's candidate scores within 5% of the incumbent, doc-summarizer's does not (the demo's switch
    and its refusal)."""
    records = run(days=6, rate=0.1, seed=3)
    scores: dict[tuple[str, bool], list[float]] = defaultdict(list)
    for r in records:
        if r.kind == "usage":
            e = parse_usage(r.value)
            if e.eval_score is not None:
                scores[(e.workload, e.shadow)].append(e.eval_score)
    for workload, within in (("support-chat", True), ("doc-summarizer", False)):
        gap = statistics.mean(scores[(workload, True)]) / statistics.mean(scores[(workload, False)]) - 1
        assert (gap > -0.05) is within, (workload, gap)


def test_traffic_is_billed_every_way_providers_bill() -> None:
    """The demo must exercise each billing rule: batch, cache reads and writes (also for an hour), prompts
    above a long-context tier of the seed, and the priority and flex tiers of a model the seed prices so."""
    records = run(days=8)  # a Monday is in any 8 days: insights-report's weekly batch runs
    usage = [parse_usage(r.value) for r in records if r.kind == "usage" and r.note != "dup"]
    seed = {
        (row["provider"], row["model"]): row
        for row in csv.DictReader((Path(__file__).resolve().parents[2] / "dbt_project/seeds/model_prices.csv").open())
    }
    ok = [e for e in usage if e.status == "ok" and (e.provider, e.model) in seed]
    assert any(e.batch and e.cached_input_tokens for e in ok)
    assert any(e.cache_creation_1h_input_tokens for e in ok)
    assert any(e.cache_creation_input_tokens > e.cache_creation_1h_input_tokens for e in ok)  # 5-minute writes too
    long = [
        e
        for e in ok
        if seed[(e.provider, e.model)]["long_context_threshold_tokens"]
        and e.input_tokens > int(seed[(e.provider, e.model)]["long_context_threshold_tokens"])
        and not e.batch
    ]
    assert long
    for tier in ("priority", "flex"):
        priced = [e for e in ok if e.service_tier == tier and seed[(e.provider, e.model)][f"{tier}_input_cost_per_token"]]
        assert priced, tier
