"""`tierwise ingest scrape`: GPU heartbeats and aggregate usage from the Prometheus pages self-hosted servers expose.

Every ``interval_s`` (on wall-clock multiples of it, like Prometheus) each deployment's engine page (vLLM or
SGLang ``/metrics``) and, when configured, its DCGM exporter page are scraped. Each tick emits:

- a ``GpuUsage`` heartbeat for the interval since the previous tick: GPU type, count, engine, model and
  quantization from the config, utilization from DCGM (the mean of the deployment's GPUs), the price from the
  config when it sets one (else landing leaves it empty and dbt prices it from the ``gpu_prices`` catalog);
- where ``usage`` is configured, one usage event with the prompt and generation tokens counted since the last
  successful scrape (tagged ``tierwise_aggregate``), attributed to the configured workload.

Heartbeats tile time: each starts where the previous ended, so GPU-hours are neither counted twice nor lost.
A scrape that fails or times out is logged and retried next tick; its interval is marked, not invented: its
heartbeat carries no utilization (``missed: bill``, the default) or is left out (``missed: skip``), and no tokens
are guessed for it: the next successful scrape's counters include them. Counter resets are handled per series
(``ingest.scrape_metrics``). With a state file, a restarted scraper continues from the last tick and counter values
it saved (the time it was down is a missed interval); a state older than ``MAX_RESUME_INTERVALS`` starts afresh.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ingest.scrape_config import Deployment, ScrapeConfig
from ingest.scrape_metrics import DCGM_GPU_UTIL, ENGINES, CounterTracker, Page
from schemas import GpuUsage, Tier, UsageEvent

log = logging.getLogger("tierwise.scrape")
# A saved state older than this many intervals is not resumed: so long a gap is better left out than billed whole.
MAX_RESUME_INTERVALS = 60
_MAX_PAGE_BYTES = 32 * 1024 * 1024


class ScrapeFailed(Exception):
    """A page that could not be read: unreachable, timed out, an HTTP error or not Prometheus text."""


def fetch_page(url: str, timeout_s: float) -> Page:
    request = urllib.request.Request(url, headers={"Accept": "text/plain;version=0.0.4", "User-Agent": "tierwise-scraper"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = response.read(_MAX_PAGE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ScrapeFailed(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ScrapeFailed(f"{url}: {'timed out' if isinstance(reason, TimeoutError) else reason}") from None
    if len(body) > _MAX_PAGE_BYTES:
        raise ScrapeFailed(f"{url}: page larger than {_MAX_PAGE_BYTES} bytes")
    try:
        return Page(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ScrapeFailed(f"{url}: not Prometheus text ({exc})") from None


@dataclass
class TickResult:
    """What one tick did for one deployment (the CLI prints it; tests read it)."""

    deployment: str
    at: datetime
    ok: bool
    heartbeat: GpuUsage | None = None
    usage: UsageEvent | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    resets: int = 0
    running: float | None = None
    kv_cache_usage: float | None = None
    error: str | None = None


@dataclass
class ScrapeCounters:
    scrapes: int = 0
    missed: int = 0
    heartbeats: int = 0
    usage_events: int = 0
    resets: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


class DeploymentScraper:
    """The state of one deployment between ticks: its last tick, its counters' last values."""

    def __init__(self, deployment: Deployment, timeout_s: float, fetch: Callable[[str, float], Page] = fetch_page) -> None:
        self.deployment = deployment
        self.metrics = ENGINES[deployment.engine]
        self._timeout_s = timeout_s
        self._fetch = fetch
        self._prompt = CounterTracker()
        self._generation = CounterTracker()
        self._requests = CounterTracker()
        self._last_tick: datetime | None = None
        self._last_ok: datetime | None = None
        self._failing = False
        self._resumed = False  # the next interval spans time the scraper was not running

    def state(self) -> dict[str, Any]:
        """What a restarted scraper needs to continue: the last tick and the counters' last values."""
        d = self.deployment
        return {
            "engine": d.engine,
            "metrics_url": d.metrics_url,
            "last_tick": self._last_tick.isoformat() if self._last_tick else None,
            "last_ok": self._last_ok.isoformat() if self._last_ok else None,
            "counters": {
                "prompt": self._prompt.dump(),
                "generation": self._generation.dump(),
                "requests": self._requests.dump(),
            },
        }

    def resume(self, state: dict[str, Any], at: datetime, max_gap: timedelta) -> bool:
        """Continue from a saved state of the same endpoint, unless it is older than ``max_gap``."""
        d = self.deployment
        if state.get("engine") != d.engine or state.get("metrics_url") != d.metrics_url or not state.get("last_tick"):
            return False
        last_tick = datetime.fromisoformat(state["last_tick"])
        if not timedelta(0) <= at - last_tick <= max_gap:
            log.info("%s: saved scrape state from %s not used (older than %s)", d.name, last_tick.isoformat(), max_gap)
            return False
        counters = state.get("counters") or {}
        self._prompt.load(counters.get("prompt"))
        self._generation.load(counters.get("generation"))
        self._requests.load(counters.get("requests"))
        self._last_tick = last_tick
        self._last_ok = datetime.fromisoformat(state["last_ok"]) if state.get("last_ok") else None
        self._resumed = True
        return True

    def tick(self, at: datetime) -> TickResult:
        d = self.deployment
        try:
            engine = self._fetch(d.metrics_url, self._timeout_s)
        except ScrapeFailed as exc:
            return self._missed(at, str(exc))
        utilization = None
        if d.dcgm_url is not None:
            try:
                utilization = self._utilization(self._fetch(d.dcgm_url, self._timeout_s))
            except ScrapeFailed as exc:
                log.warning("%s: DCGM scrape failed (%s); utilization unknown for this interval", d.name, exc)
        if self._failing:
            log.info("%s: scrapes succeed again", d.name)
            self._failing = False
        match = d.match_labels or None
        prompt = self._prompt.advance(engine.counter(self.metrics.prompt_tokens, match))
        generation = self._generation.advance(engine.counter(self.metrics.generation_tokens, match))
        requests = self._requests.advance(engine.counter(self.metrics.requests, match))
        resets = max(prompt.resets if prompt else 0, generation.resets if generation else 0)
        if resets:
            log.warning(
                "%s: token counters restarted since %s (a server restart); counting from the restart",
                d.name,
                self._last_ok.isoformat() if self._last_ok else "?",
            )
        result = TickResult(
            d.name,
            at,
            ok=True,
            input_tokens=prompt.amount if prompt else None,
            output_tokens=generation.amount if generation else None,
            resets=resets,
            running=engine.gauge_sum(self.metrics.running, match),
            kv_cache_usage=engine.gauge_mean(self.metrics.kv_cache_usage, match),
        )
        if self._resumed:
            # The time the scraper was down is a missed interval: billed with its utilization unknown, or skipped.
            self._resumed = False
            result.heartbeat = self._heartbeat(at, None) if d.missed == "bill" else None
        else:
            result.heartbeat = self._heartbeat(at, utilization)
        if d.usage is not None and prompt is not None and generation is not None and self._last_ok is not None:
            result.usage = self._usage_event(at, prompt.amount, generation.amount, requests.amount if requests else None)
        self._last_tick = at
        self._last_ok = at
        return result

    def _missed(self, at: datetime, reason: str) -> TickResult:
        d = self.deployment
        if not self._failing:
            log.warning("%s: scrape failed (%s); retrying every tick, the interval is marked missed", d.name, reason)
            self._failing = True
        heartbeat = self._heartbeat(at, None) if d.missed == "bill" else None
        self._resumed = False
        self._last_tick = at  # the GPUs' clock starts at the first tick, answered or not
        return TickResult(d.name, at, ok=False, heartbeat=heartbeat, error=reason)

    def _utilization(self, page: Page) -> float | None:
        gpus = page.series(DCGM_GPU_UTIL)
        if self.deployment.dcgm_gpus is not None:
            gpus = [s for s in gpus if s.labels.get("gpu") in self.deployment.dcgm_gpus]
        if not gpus:
            return None
        mean = sum(s.value for s in gpus) / len(gpus) / 100.0
        return min(max(mean, 0.0), 1.0)

    def _heartbeat(self, at: datetime, utilization: float | None) -> GpuUsage | None:
        """The heartbeat of [previous tick, this tick); none before the first tick (its start is unknown)."""
        start = self._last_tick
        if start is None or start >= at:
            return None
        d = self.deployment
        return GpuUsage(
            event_id=f"scrape:{d.name}:{start.isoformat()}",
            interval_start=start,
            interval_end=at,
            deployment=d.name,
            gpu_type=d.gpu_type,
            gpu_count=d.gpu_count,
            utilization=utilization,
            hourly_price_usd=d.hourly_price_usd,
            engine=d.engine,
            model=d.model,
            quantization=d.quantization,
        )

    def _usage_event(self, at: datetime, input_tokens: int, output_tokens: int, requests: int | None) -> UsageEvent | None:
        if input_tokens == 0 and output_tokens == 0:
            return None  # nothing served: no usage to attribute
        d = self.deployment
        assert d.usage is not None and d.model is not None and self._last_ok is not None
        tags = {"tierwise_aggregate": "true", "aggregate_from": self._last_ok.isoformat()}
        if requests is not None:
            tags["aggregate_requests"] = str(requests)
        return UsageEvent(
            event_id=f"scrape:{d.name}:{self._last_ok.isoformat()}:{at.isoformat()}",
            event_time=at,
            tier=Tier.SELF_HOSTED,
            provider=d.engine,
            model=d.model,
            workload=d.usage.workload,
            team=d.usage.team,
            environment=d.usage.environment,
            deployment=d.name,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            tags=tags,
        )


def _safe_tick(scraper: DeploymentScraper, at: datetime) -> TickResult:
    # One deployment's surprise (a page the contract refuses, a bug) must not stop the others or the service.
    try:
        return scraper.tick(at)
    except Exception as exc:
        log.exception("%s: tick at %s failed", scraper.deployment.name, at.isoformat())
        return TickResult(scraper.deployment.name, at, ok=False, error=f"{type(exc).__name__}: {exc}")


class Scraper:
    """Every deployment of a config, ticked together; events go to ``emit`` (the emitter's)."""

    def __init__(
        self,
        config: ScrapeConfig,
        emit: Callable[[Any], bool],
        fetch: Callable[[str, float], Page] = fetch_page,
        state_file: Path | None = None,
    ) -> None:
        self.config = config
        self._emit = emit
        self.counters = ScrapeCounters()
        self.deployments = [DeploymentScraper(d, config.timeout_s, fetch) for d in config.deployments]
        self._state_file = state_file
        self._saved = self._read_state()
        self._pool = ThreadPoolExecutor(max_workers=min(16, len(self.deployments)), thread_name_prefix="tierwise-scrape")

    def _read_state(self) -> dict[str, Any]:
        if self._state_file is None or not self._state_file.exists():
            return {}
        try:
            saved = orjson.loads(self._state_file.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            log.warning("scrape state %s unreadable (%s); starting from new baselines", self._state_file, exc)
            return {}
        return saved if isinstance(saved, dict) else {}

    def _write_state(self) -> None:
        if self._state_file is None:
            return
        state = {s.deployment.name: s.state() for s in self.deployments}
        tmp = self._state_file.with_suffix(".tmp")
        try:
            self._state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(orjson.dumps(state))
            os.replace(tmp, self._state_file)  # a crash leaves the old state or the new one, never half of one
        except OSError as exc:
            log.warning("cannot save scrape state to %s: %s", self._state_file, exc)

    def tick(self, at: datetime) -> list[TickResult]:
        """Scrape every deployment (in parallel) as of ``at`` and emit what it yields."""
        if self._saved:
            # A restart continues where the last run stopped: no new baseline, no unbilled gap.
            max_gap = timedelta(seconds=self.config.interval_s * MAX_RESUME_INTERVALS)
            for s in self.deployments:
                if s.deployment.name in self._saved and s.resume(self._saved[s.deployment.name], at, max_gap):
                    log.info("%s: continuing from the scrape state saved at %s", s.deployment.name, s.state()["last_tick"])
            self._saved = {}
        results = list(self._pool.map(lambda s: _safe_tick(s, at), self.deployments))
        self._write_state()
        for r in results:
            self.counters.add(scrapes=1, missed=int(not r.ok), resets=r.resets)
            if r.heartbeat is not None and self._emit(r.heartbeat):
                self.counters.add(heartbeats=1)
            if r.usage is not None and self._emit(r.usage):
                self.counters.add(usage_events=1)
        return results

    def next_tick(self, now: datetime) -> datetime:
        """The next wall-clock multiple of the interval after ``now``."""
        step = self.config.interval_s
        return datetime.fromtimestamp(math.floor(now.timestamp() / step + 1) * step, UTC)

    def run(self, stop: threading.Event, on_tick: Callable[[list[TickResult]], None] | None = None) -> None:
        """Tick until ``stop`` is set. A late wake-up (a suspended machine) stretches one interval, never skips time."""
        while not stop.is_set():
            at = self.next_tick(datetime.now(UTC))
            if stop.wait(max(0.0, at.timestamp() - time.time())):
                break
            results = self.tick(at)
            if on_tick is not None:
                on_tick(results)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
