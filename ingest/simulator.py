"""The demo's traffic: a seeded, reproducible month of LLM usage across all three tiers.

Twelve workloads owned by eight teams call closed APIs, hosted open-model APIs and two self-hosted GPU
deployments. Traffic follows a business-day cycle, a weekly cycle, per-workload growth (``support-chat``
starts below ~40M tokens/day on a closed model and crosses it mid-month: the self-hosting break-even of
the reference article), random bursts with rate-limit errors, cached prompt prefixes, nightly batch
jobs, and shadow traffic with eval scores (the migration playbook: a candidate model on the hosted and
on the self-hosted tier scored beside the incumbent; support-chat's candidate passes the 5% quality gate,
doc-summarizer's does not, so the demo's recommendations include a switch and a refusal). Deployments
send a GPU heartbeat every few minutes. On top, configurable rates of duplicates (an event resent with the
same ``event_id``), late events (sent hours to days after ``event_time``) and malformed messages (bad JSON, contract
violations, oversized, and request content that landing must strip) exercise the pipeline's edges.

Same seed, start date and end -> byte-identical output. Generation is plain Python, hour by hour, a few
microseconds per event, with constant memory (only late and duplicate events wait in a heap).

Nothing is ever simulated after "now": ``SimConfig.resolved(now)`` pins the period so that it ends at
``now`` at the latest (the CLI and the demo pass the wall clock, tests a fixed instant), and the
simulator drops every event, shadow copy and GPU interval that would end at or after that cut.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

import orjson

from streaming.clients import reliable_producer

# --- the model catalogue ------------------------------------------------------------------------
# Catalogue key -> (tier, provider, model, output tokens/s, time to first token in ms). Providers are
# tierwise's names (PROVIDER_TIERS in ingest/adapters/providers.py), as the adapters write them, so the
# demo's traffic looks like real ingested usage. Priced ids are exactly the (provider, model) pairs of
# dbt_project/seeds/model_prices.csv; self-hosted models are costed by GPU-hour, so only their model
# name matters.
CATALOGUE: dict[str, tuple[str, str, str, float, float]] = {
    "gpt-5.4": ("closed_api", "openai", "gpt-5.4", 85, 450),
    "gpt-5.4-mini": ("closed_api", "openai", "gpt-5.4-mini", 140, 300),
    "claude-sonnet-4-6": ("closed_api", "anthropic", "claude-sonnet-4-6", 75, 550),
    "claude-opus-4-7": ("closed_api", "anthropic", "claude-opus-4-7", 45, 900),
    "gemini-3.1-pro": ("closed_api", "google", "gemini-3.1-pro", 90, 600),
    "gemini-3.1-flash-lite": ("closed_api", "google", "gemini-3.1-flash-lite", 250, 180),
    "together/llama-4-maverick": ("hosted_open_api", "together", "llama-4-maverick", 120, 350),
    "fireworks/qwen3.5-72b": ("hosted_open_api", "fireworks", "qwen3.5-72b", 110, 300),
    "fireworks/deepseek-v3.2": ("hosted_open_api", "fireworks", "deepseek-v3.2", 70, 500),
    "groq/llama-4-scout": ("hosted_open_api", "groq", "llama-4-scout", 600, 120),
    "vllm/qwen3.5-72b": ("self_hosted", "vllm", "qwen3.5-72b", 60, 250),
    "sglang/gemma-4-27b": ("self_hosted", "sglang", "gemma-4-27b", 95, 150),
    # Deliberately absent from the price seeds, at a low rate: shows the "unpriced" path.
    "mistral-large-3": ("closed_api", "mistral", "mistral-large-3", 70, 500),
}
UNPRICED = frozenset({"mistral-large-3"})

# Self-hosted deployments: name -> (gpu_type, gpu_count, engine, model, quantization, hourly price or None).
DEPLOYMENTS: dict[str, tuple[str, int, str, str, str, str | None]] = {
    "gpu-east-1": ("H100-80GB", 2, "vllm", "qwen3.5-72b", "fp8", None),  # priced from the GPU catalogue
    "gpu-east-2": ("H100-80GB", 2, "sglang", "gemma-4-27b", "int8", "2.20"),  # a reserved rate
}

# The break-even the demo is built around: self-hosting beats a closed API at ~40M tokens/day.
BREAK_EVEN_TOKENS_PER_DAY = 40_000_000


@dataclass(frozen=True)
class Workload:
    name: str
    team: str
    model: str  # CATALOGUE key
    share: float  # share of the fleet's tokens on the first day
    growth: float  # volume multiplier over 30 days
    input_mean: int
    output_mean: int
    deployment: str | None = None
    cache_hit: float = 0.0  # probability that the prompt prefix was cached
    cached_frac: float = 0.0  # cached share of the input on a hit
    reasoning: float = 0.0  # share of output spent reasoning
    error_rate: float = 0.01
    weekend: float = 0.5  # weekend volume relative to weekdays
    peak_hour: int = 15  # UTC hour of the daily peak
    diurnal: float = 0.6  # amplitude of the daily cycle
    batch_share: float = 0.0  # requests sent through the batch API, in the nightly window
    batch_weekday: int | None = None  # batch runs only on this weekday (0 = Monday)
    operation: str = "chat"
    # How providers bill beyond plain tokens: (tier, share of interactive requests) sent at a service tier,
    # the share of prompts above the model's long-context threshold, the share of cache writes kept an hour.
    service_tiers: tuple[tuple[str, float], ...] = ()
    long_context: float = 0.0
    cache_1h: float = 0.0
    shadow: str | None = None  # CATALOGUE key of a shadow candidate
    shadow_deployment: str | None = None
    shadow_from: float = 0.4  # shadowing starts after this share of the period
    shadow_rate: float = 0.08  # share of requests mirrored to the candidate
    shadow_score: float = 0.86  # mean eval score of the candidate (the incumbent scores 0.90)
    tags: dict[str, str] = field(default_factory=dict)


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "support-chat",
        "customer-experience",
        "claude-sonnet-4-6",
        0.30,
        2.0,
        9000,
        450,
        cache_hit=0.8,
        cached_frac=0.6,
        weekend=0.85,
        long_context=0.002,
        cache_1h=0.5,
        shadow="fireworks/qwen3.5-72b",
        tags={"app": "helpdesk", "channel": "web"},
    ),
    Workload(
        "code-review-agent",
        "platform",
        "claude-opus-4-7",
        0.09,
        1.2,
        40000,
        3000,
        cache_hit=0.5,
        cached_frac=0.5,
        reasoning=0.5,
        weekend=0.15,
        peak_hour=14,
        tags={"app": "ci"},
    ),
    Workload(
        "doc-summarizer",
        "knowledge",
        "gpt-5.4",
        0.12,
        1.1,
        18000,
        800,
        cache_hit=0.3,
        cached_frac=0.2,
        batch_share=0.5,
        service_tiers=(("priority", 0.1), ("flex", 0.15)),
        shadow="vllm/qwen3.5-72b",
        shadow_deployment="gpu-east-1",
        shadow_from=0.5,
        shadow_rate=0.05,
        shadow_score=0.80,  # about 11% under the incumbent: past the playbook's 5% gate
        tags={"app": "wiki"},
    ),
    Workload(
        "query-classifier",
        "search",
        "gemini-3.1-flash-lite",
        0.02,
        1.3,
        800,
        8,
        cache_hit=0.9,
        cached_frac=0.7,
        diurnal=0.7,
        operation="classify",
        tags={"app": "search"},
    ),
    Workload(
        "email-drafts", "growth", "gpt-5.4-mini", 0.04, 1.5, 3000, 400, cache_hit=0.4, cached_frac=0.5, tags={"app": "crm"}
    ),
    Workload(
        "insights-report",
        "analytics",
        "gemini-3.1-pro",
        0.03,
        1.0,
        60000,
        4000,
        reasoning=0.3,
        batch_share=0.7,
        batch_weekday=0,
        long_context=0.05,
        weekend=0.1,
        tags={"app": "bi"},
    ),
    Workload(
        "product-tagging", "catalog", "together/llama-4-maverick", 0.07, 1.1, 2500, 150, weekend=0.7, tags={"app": "catalog"}
    ),
    Workload(
        "ticket-triage",
        "customer-experience",
        "groq/llama-4-scout",
        0.03,
        1.2,
        1800,
        60,
        weekend=0.8,
        operation="classify",
        tags={"app": "helpdesk"},
    ),
    Workload(
        "rag-answers",
        "knowledge",
        "fireworks/deepseek-v3.2",
        0.10,
        1.4,
        14000,
        600,
        cache_hit=0.5,
        cached_frac=0.4,
        tags={"app": "wiki"},
    ),
    Workload(
        "log-analyzer",
        "sre",
        "vllm/qwen3.5-72b",
        0.14,
        1.1,
        12000,
        400,
        deployment="gpu-east-1",
        cache_hit=0.6,
        cached_frac=0.5,
        weekend=0.9,
        diurnal=0.3,
        tags={"app": "observability"},
    ),
    Workload(
        "pii-redactor",
        "security",
        "sglang/gemma-4-27b",
        0.05,
        1.0,
        3000,
        2900,
        deployment="gpu-east-2",
        cache_hit=0.7,
        cached_frac=0.3,
        weekend=0.6,
        tags={"app": "data-platform"},
    ),
    Workload("legal-drafts", "legal", "mistral-large-3", 0.01, 1.0, 8000, 1500, weekend=0.05, tags={"app": "contracts"}),
)

_ERRORS = ("rate_limit_exceeded", "timeout", "server_error", "context_length_exceeded")
_BAD_KINDS = ("bad_json", "contract", "oversized", "content")
_LOREM = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor"


class SimRecord(NamedTuple):
    """One message in send order. ``kind``: usage, gpu or bad (bad ones bypass validation)."""

    kind: str
    key: bytes | None
    value: bytes
    note: str = ""  # dup, late, or the bad kind


@dataclass(frozen=True)
class SimConfig:
    days: int = 30
    start: date | None = None  # first UTC day; default: the last ``days`` days up to ``end`` (see ``resolved``)
    end: datetime | None = None  # exclusive cut-off (aware); default: the end of the last day
    rate: float | None = None  # average requests/s on the first day
    tokens_per_day: float | None = None  # fleet tokens on the first day
    seed: int = 42
    dup_rate: float = 0.01
    late_rate: float = 0.02
    bad_rate: float = 0.002
    gpu_interval_min: int = 5
    workloads: tuple[Workload, ...] = WORKLOADS

    def resolved(self, now: datetime | None = None) -> SimConfig:
        """This config with start and end pinned, the end never later than ``now`` (default: the wall clock).

        Without a start, the period is the last ``days`` UTC days up to the cut: whole days, then the
        current day up to the cut. That is how a FinOps dashboard reads "the last 30 days": only today is
        partial (its bar still growing), and the series does not open on a half day that looks like a
        spend dip. With a start, the period runs ``days`` days from it and is cut at ``now``.
        """
        now = now or datetime.now(UTC)
        if now.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise ValueError("simulator times must be timezone-aware (UTC)")
        cut = min(self.end, now) if self.end is not None else now
        start = self.start or last_day(cut) - timedelta(days=self.days - 1)
        first = datetime.combine(start, time.min, UTC)
        end = min(cut, first + timedelta(days=self.days))
        if end <= first:
            raise ValueError(f"the period starting {start} begins after {cut.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
        return replace(self, start=start, end=end.astimezone(UTC))


def last_day(end: datetime) -> date:
    """The UTC day holding the last instant before the exclusive ``end``: a cut at midnight leaves that day out."""
    return (end - timedelta(microseconds=1)).astimezone(UTC).date()


DEFAULT_TOKENS_PER_DAY = 100_000_000


def natural_tokens_per_request(workloads: tuple[Workload, ...]) -> float:
    """Mean tokens per request when each workload keeps its own request size (share-weighted)."""
    share = sum(w.share for w in workloads)
    return share / sum(w.share / (w.input_mean + w.output_mean) for w in workloads)


def resolve_volume(cfg: SimConfig) -> tuple[float, float]:
    """(requests/s, token scale). Give one of rate and tokens/day and the other follows from the
    workloads' natural request sizes; give both to scale request sizes to match."""
    mean = natural_tokens_per_request(cfg.workloads)
    if cfg.rate is None:
        tpd = cfg.tokens_per_day or DEFAULT_TOKENS_PER_DAY
        return tpd / 86400 / mean, 1.0
    if cfg.tokens_per_day is None:
        return cfg.rate, 1.0
    return cfg.rate, cfg.tokens_per_day / (cfg.rate * 86400 * mean)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam < 30:
        limit, k, p = math.exp(-lam), 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))


def _lognormal(rng: random.Random, mean: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(max(mean, 1e-9)) - sigma * sigma / 2, sigma)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Simulator:
    """Iterate ``records()`` for the whole period in send order."""

    def __init__(self, cfg: SimConfig) -> None:
        # A config without a start is "up to now" on the wall clock; with one, it is used as given.
        cfg = cfg.resolved() if cfg.start is None else cfg
        assert cfg.start is not None
        if cfg.end is not None and cfg.end.tzinfo is None:
            raise ValueError("simulator times must be timezone-aware (UTC)")  # a naive end would read as local time
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.rate, self.token_scale = resolve_volume(cfg)
        self.start = datetime.combine(cfg.start, time.min, UTC).timestamp()
        self._start_weekday = cfg.start.weekday()
        # The period's shape (growth, bursts, shadow start, GPU peaks) follows ``days``; ``end`` only cuts
        # it short, so a cut run is the full run minus what lies after the cut.
        self.hours = cfg.days * 24
        self.end = min(cfg.end.timestamp(), self.start + self.hours * 3600) if cfg.end else self.start + self.hours * 3600
        mean = natural_tokens_per_request(cfg.workloads)
        # Requests per hour on day 0 at an average hour of an average weekday mix.
        total_req_h = self.rate * 3600
        weights = [w.share / (w.input_mean + w.output_mean) * mean for w in cfg.workloads]
        self._base = [total_req_h * wt for wt in weights]
        self._bursts = self._plan_bursts()

    def _plan_bursts(self) -> dict[tuple[int, int], float]:
        """(workload index, hour) -> volume multiplier: a campaign or a retry storm, a few a month."""
        bursts: dict[tuple[int, int], float] = {}
        for day in range(self.cfg.days):
            for i in range(len(self.cfg.workloads)):
                if self.rng.random() < 0.06:
                    first = day * 24 + self.rng.randrange(6, 20)
                    factor = self.rng.uniform(3, 6)
                    for h in range(first, min(first + self.rng.randint(1, 3), self.hours)):
                        bursts[(i, h)] = factor
        return bursts

    def _intensity(self, i: int, w: Workload, hour: int) -> tuple[float, float]:
        """(interactive, batch) expected requests in this hour."""
        days = hour / 24
        hod = hour % 24
        weekday = (self._start_weekday + hour // 24) % 7
        growth = w.growth ** (days / 30)
        # Weekly shape normalised to mean 1, so ``rate`` is the average over a week.
        week = (w.weekend if weekday >= 5 else 1.0) * 7 / (5 + 2 * w.weekend)
        daily = 1 + w.diurnal * math.cos(2 * math.pi * (hod - w.peak_hour) / 24)
        base = self._base[i] * growth * self._bursts.get((i, hour), 1.0)
        interactive = base * (1 - w.batch_share) * week * daily
        batch = 0.0
        if w.batch_share and 1 <= hod < 5:
            if w.batch_weekday is None:
                batch = base * w.batch_share * 24 / 4
            elif weekday == w.batch_weekday:
                batch = base * w.batch_share * 24 * 7 / 4
        return interactive, batch

    def _event_id(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:32]}"

    def _usage(
        self, ts: float, w: Workload, model_key: str, *, batch: bool, burst: bool, shadow: bool, deployment: str | None
    ) -> dict[str, Any]:
        rng = self.rng
        tier, provider, model, tps, ttft0 = CATALOGUE[model_key]
        k = self.token_scale
        inp = max(1, int(_lognormal(rng, w.input_mean * k, 0.6)))
        if w.long_context and rng.random() < w.long_context:
            # a whole document in the prompt: past the 200k-token tier of the models that have one
            inp = int(rng.uniform(210_000, 320_000))
        out = max(1, int(_lognormal(rng, w.output_mean * k, 0.7)))
        cached = int(inp * w.cached_frac * rng.uniform(0.7, 1.0)) if rng.random() < w.cache_hit else 0
        creation = creation_1h = 0
        if provider == "anthropic" and rng.random() < 0.05:
            creation = min(inp - cached, int(inp * 0.3))
            if w.cache_1h and rng.random() < w.cache_1h:
                creation_1h = creation  # written with a 1-hour lifetime
        service_tier = None
        if not batch and not shadow and w.service_tiers:  # a shadow copy is our own call, at no tier
            draw = rng.random()
            for name, share in w.service_tiers:
                if draw < share:
                    service_tier = name
                    break
                draw -= share
        reasoning = int(out * w.reasoning * rng.uniform(0.6, 1.0)) if w.reasoning else 0
        status, error = "ok", None
        err_p = w.error_rate * (4 if burst else 1)
        if rng.random() < err_p:
            status = "error"
            error = "rate_limit_exceeded" if burst and rng.random() < 0.7 else rng.choice(_ERRORS)
            if error != "timeout":
                inp = cached = creation = creation_1h = 0
            out = reasoning = 0
        ev: dict[str, Any] = {
            "event_id": self._event_id(),
            "event_time": _iso(ts),
            "tier": tier,
            "provider": provider,
            "model": model,
            "workload": w.name,
            "input_tokens": inp,
            "output_tokens": out,
            "cached_input_tokens": cached,
            "cache_creation_input_tokens": creation,
            "reasoning_tokens": reasoning,
            "team": w.team,
            "environment": "staging" if rng.random() < 0.03 else "prod",
            "tags": w.tags,
            "operation": w.operation,
            "status": status,
        }
        if error:
            ev["error_type"] = error
        if creation_1h:
            ev["cache_creation_1h_input_tokens"] = creation_1h
        if service_tier:
            ev["service_tier"] = service_tier
        if batch:
            ev["batch"] = True
        else:
            ttft = ttft0 * (1 + inp / 60000) * _lognormal(rng, 1.0, 0.3)
            if error == "rate_limit_exceeded":
                duration = rng.uniform(40, 250)
            elif error == "timeout":
                duration = 60000.0
            else:
                duration = ttft + out / tps * 1000 * _lognormal(rng, 1.0, 0.2)
            ev["duration_ms"] = round(duration, 1)
            if status == "ok":
                ev["ttft_ms"] = round(min(ttft, duration), 1)
        if deployment:
            ev["deployment"] = deployment
        if shadow:
            ev["shadow"] = True
        if status == "ok" and (shadow or rng.random() < 0.05):
            # Candidates score below the incumbent: support-chat's within the playbook's 3-5%, doc-summarizer's not.
            mean = w.shadow_score if shadow else 0.90
            ev["eval_score"] = round(min(1.0, max(0.0, rng.gauss(mean, 0.05))), 3)
        if tier == "closed_api":
            ev["request_id"] = f"req_{rng.getrandbits(64):016x}"
        return ev

    def _bad(self, ev: dict[str, Any]) -> tuple[bytes, str]:
        """A malformed message derived from a real event."""
        rng = self.rng
        kind = rng.choice(_BAD_KINDS)
        ev = dict(ev, event_id=self._event_id())
        if kind == "bad_json":
            raw = orjson.dumps(ev)
            return raw[: rng.randrange(10, len(raw) - 5)], kind
        if kind == "contract":
            broken = rng.randrange(6)
            if broken == 0:
                ev["output_tokens"] = -ev["output_tokens"] - 1
            elif broken == 1:
                del ev["event_id"]
            elif broken == 2:
                ev["event_time"] = ev["event_time"].rstrip("Z")  # no UTC offset
            elif broken == 3:
                ev["cached_input_tokens"] = ev["input_tokens"] + 1
            elif broken == 4:
                ev["tier"], ev["provider"] = "self_hosted", "vllm"
                ev.pop("deployment", None)
            else:
                ev["input_tokens"] = str(ev["input_tokens"])
            return orjson.dumps(ev), kind
        if kind == "oversized":
            ev["debug_blob"] = "x" * 100_000  # over landing's 64 KiB event limit
            return orjson.dumps(ev), kind
        # Request content that must be stripped (synthetic filler, never real text).
        ev["messages"] = [{"role": "user", "content": _LOREM}]
        ev["completion"] = _LOREM[::-1]
        return orjson.dumps(ev), kind

    def _gpu(self, name: str, start: float, end: float, load: float) -> SimRecord:
        gpu_type, count, engine, model, quant, price = DEPLOYMENTS[name]
        util = min(1.0, max(0.02, 0.12 + 0.8 * load + self.rng.gauss(0, 0.04)))
        ev: dict[str, Any] = {
            "event_id": f"{name}-{_iso(start)}",
            "interval_start": _iso(start),
            "interval_end": _iso(end),
            "deployment": name,
            "gpu_type": gpu_type,
            "gpu_count": count,
            "utilization": round(util, 3),
            "engine": engine,
            "model": model,
            "quantization": quant,
        }
        if price is not None:
            ev["hourly_price_usd"] = price
        return SimRecord("gpu", name.encode(), orjson.dumps(ev))

    def hours_to_simulate(self) -> int:
        """Simulated hours before the cut (what a progress bar counts)."""
        return min(self.hours, max(0, math.ceil((self.end - self.start) / 3600)))

    def records(self, on_hour: Callable[[int, int], None] | None = None) -> Iterator[SimRecord]:
        """The period's messages in send order; `on_hour(n, total)` after the n-th simulated hour was yielded."""
        total_hours = self.hours_to_simulate()
        delayed: list[tuple[float, int, SimRecord]] = []  # late and duplicate sends
        self._seq = 0
        deployment_peak = self._deployment_peaks()
        for hour in range(self.hours):
            t0 = self.start + hour * 3600
            if t0 >= self.end:
                break
            batch: list[tuple[float, int, SimRecord]] = []
            load = self._hour_of_requests(hour, t0, batch, delayed)
            self._heartbeats(t0, load, deployment_peak, batch)
            hour_end = t0 + 3600
            while delayed and delayed[0][0] < hour_end:
                batch.append(heapq.heappop(delayed))
            batch.sort(key=lambda item: (item[0], item[1]))
            for _, _, rec in batch:
                yield rec
            if on_hour is not None:
                on_hour(hour + 1, total_hours)
        while delayed:
            yield heapq.heappop(delayed)[2]

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _hour_of_requests(
        self, hour: int, t0: float, batch: list[tuple[float, int, SimRecord]], delayed: list[tuple[float, int, SimRecord]]
    ) -> dict[str, float]:
        """Every workload's requests of one hour (and their shadow copies) into `batch`/`delayed`; the load per deployment."""
        cfg, rng = self.cfg, self.rng
        load: dict[str, float] = dict.fromkeys(DEPLOYMENTS, 0.0)
        for i, w in enumerate(cfg.workloads):
            interactive, nightly = self._intensity(i, w, hour)
            burst = (i, hour) in self._bursts
            shadow_on = w.shadow is not None and hour >= self.hours * w.shadow_from
            if w.deployment:
                load[w.deployment] += interactive + nightly
            for is_batch, lam in ((False, interactive), (True, nightly)):
                for _ in range(_poisson(rng, lam)):
                    ts = t0 + rng.random() * 3600
                    ev = self._usage(ts, w, w.model, batch=is_batch, burst=burst, shadow=False, deployment=w.deployment)
                    records = [(ts, ev)]
                    if shadow_on and not is_batch and rng.random() < w.shadow_rate:
                        assert w.shadow is not None
                        lag = rng.uniform(0.5, 5.0)
                        shadow = self._usage(
                            ts + lag, w, w.shadow, batch=False, burst=burst, shadow=True, deployment=w.shadow_deployment
                        )
                        records.append((ts + lag, shadow))
                    for when, event in records:
                        self._schedule(w.name, when, event, batch, delayed)
        return load

    def _schedule(
        self,
        workload: str,
        when: float,
        event: dict[str, Any],
        batch: list[tuple[float, int, SimRecord]],
        delayed: list[tuple[float, int, SimRecord]],
    ) -> None:
        """One event's sends: on time or late, maybe a duplicate, maybe a malformed copy."""
        cfg, rng = self.cfg, self.rng
        # Events at or after the cut are drawn (the random stream stays the same as without a cut) but never sent.
        keep = when < self.end
        seq = self._next_seq()
        # Keyed as the emitter keys usage: by event id (a duplicate shares its original's partition).
        rec = SimRecord("usage", str(event["event_id"]).encode(), orjson.dumps(event))
        if rng.random() < cfg.late_rate:
            delay = min(rng.expovariate(1 / (6 * 3600)), 3 * 86400) + 900  # past any resend
            if keep:
                heapq.heappush(delayed, (when + delay, seq, rec._replace(note="late")))
        elif keep:
            batch.append((when, seq, rec))
        if rng.random() < cfg.dup_rate:
            seq = self._next_seq()
            again = when + rng.uniform(0.05, 600)
            if keep:
                heapq.heappush(delayed, (again, seq, rec._replace(note="dup")))
        if rng.random() < cfg.bad_rate:
            seq = self._next_seq()
            raw, kind = self._bad(event)
            if keep:
                batch.append((when, seq, SimRecord("bad", str(event["event_id"]).encode(), raw, kind)))

    def _heartbeats(
        self, t0: float, load: dict[str, float], peak: dict[str, float], batch: list[tuple[float, int, SimRecord]]
    ) -> None:
        """The GPU heartbeats of one hour, each reporting a finished interval with the hour's utilization."""
        step = self.cfg.gpu_interval_min * 60
        if not step:
            return
        for start in range(int(t0), int(t0) + 3600, step):
            for name in DEPLOYMENTS:
                seq = self._next_seq()
                heartbeat = self._gpu(name, start, start + step, load[name] / (peak.get(name) or 1.0))
                if start + step <= self.end:  # a heartbeat reports a finished interval
                    batch.append((start + step, seq, heartbeat))

    def _deployment_peaks(self) -> dict[str, float]:
        """Highest hourly load of each deployment, so utilization peaks near (not above) 92%."""
        peaks: dict[str, float] = {}
        for i, w in enumerate(self.cfg.workloads):
            if not w.deployment:
                continue
            top = max(sum(self._intensity(i, w, h)) for h in range(self.hours))
            peaks[w.deployment] = peaks.get(w.deployment, 0.0) + top
        return peaks


@dataclass
class SimSummary:
    usage: int = 0
    gpu: int = 0
    bad: int = 0
    dup: int = 0
    late: int = 0
    seconds: float = 0.0
    bytes: int = 0

    @property
    def total(self) -> int:
        return self.usage + self.gpu + self.bad

    def count(self, rec: SimRecord) -> None:
        if rec.kind == "usage":
            self.usage += 1
            if rec.note == "dup":
                self.dup += 1
            elif rec.note == "late":
                self.late += 1
        elif rec.kind == "gpu":
            self.gpu += 1
        else:
            self.bad += 1
        self.bytes += len(rec.value)


def write_jsonl(cfg: SimConfig, path: str, on_hour: Callable[[int, int], None] | None = None) -> SimSummary:
    """Write the period's messages, one per line in send order (GPU heartbeats and bad ones included)."""
    import time

    summary = SimSummary()
    began = time.perf_counter()
    with open(path, "wb") as fh:
        buf: list[bytes] = []
        for rec in Simulator(cfg).records(on_hour):
            summary.count(rec)
            buf.append(rec.value)
            if len(buf) >= 4096:
                fh.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            fh.write(b"\n".join(buf) + b"\n")
    summary.seconds = time.perf_counter() - began
    return summary


def send_to_kafka(
    cfg: SimConfig,
    bootstrap: str,
    topic: str,
    gpu_topic: str,
    compression: str | None = "gzip",
    on_hour: Callable[[int, int], None] | None = None,
) -> SimSummary:
    """Produce the period as fast as the client allows: large batches, a short linger, no per-event
    validation (bad messages go as raw bytes on purpose, for landing's dead-letter path)."""
    import time

    producer = reliable_producer(
        bootstrap, client_id="tierwise-simulator", linger_ms=50, batch_size=512 * 1024, compression_type=compression
    )
    summary = SimSummary()
    began = time.perf_counter()
    try:
        send = producer.send
        for rec in Simulator(cfg).records(on_hour):
            summary.count(rec)
            send(gpu_topic if rec.kind == "gpu" else topic, value=rec.value, key=rec.key)
        producer.flush()
    finally:
        producer.close(timeout=30)
    summary.seconds = time.perf_counter() - began
    return summary
