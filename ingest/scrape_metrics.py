"""What the scraper reads from a Prometheus text page, and how counters become increments without double counting.

Metric names are the ones vLLM, SGLang and NVIDIA's DCGM exporter document. Pages are parsed with
``prometheus_client``'s text parser. Counters are tracked per series (label set): the increment between two
scrapes is ``now - before``; a counter that went down, or whose ``_created`` timestamp changed, restarted (the
server restarted), and then everything it counts since the restart is new. A series seen for the first time after
the first scrape is new in full. The first scrape only sets the baseline: what a counter held before tierwise
watched it is not attributed to any interval.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

SeriesKey = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EngineMetrics:
    """Names of one serving engine's metrics (counters without their ``_total`` suffix)."""

    prompt_tokens: str
    generation_tokens: str
    requests: str
    running: tuple[str, ...]
    kv_cache_usage: tuple[str, ...]  # a fraction in [0, 1]; newer names first


ENGINES: dict[str, EngineMetrics] = {
    "vllm": EngineMetrics(
        prompt_tokens="vllm:prompt_tokens",
        generation_tokens="vllm:generation_tokens",
        requests="vllm:request_success",
        running=("vllm:num_requests_running",),
        kv_cache_usage=("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
    ),
    "sglang": EngineMetrics(
        prompt_tokens="sglang:prompt_tokens",
        generation_tokens="sglang:generation_tokens",
        requests="sglang:num_requests",
        running=("sglang:num_running_reqs",),
        kv_cache_usage=("sglang:token_usage",),
    ),
}
DCGM_GPU_UTIL = "DCGM_FI_DEV_GPU_UTIL"  # percent, 0-100, one series per GPU (label `gpu`)


class Sample(NamedTuple):
    labels: Mapping[str, str]
    value: float


class Page:
    """One scraped page: samples by name."""

    def __init__(self, text: str) -> None:
        from prometheus_client.parser import text_string_to_metric_families

        self.samples: dict[str, list[Sample]] = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                self.samples.setdefault(s.name, []).append(Sample(s.labels, s.value))

    def series(self, name: str, match: Mapping[str, str] | None = None) -> list[Sample]:
        return [s for s in self.samples.get(name, ()) if not match or all(s.labels.get(k) == v for k, v in match.items())]

    def gauge_sum(self, names: Iterable[str], match: Mapping[str, str] | None = None) -> float | None:
        for name in names:
            found = self.series(name, match)
            if found:
                return sum(s.value for s in found)
        return None

    def gauge_mean(self, names: Iterable[str], match: Mapping[str, str] | None = None) -> float | None:
        for name in names:
            found = self.series(name, match)
            if found:
                return sum(s.value for s in found) / len(found)
        return None

    def counter(self, name: str, match: Mapping[str, str] | None = None) -> dict[SeriesKey, CounterValue]:
        """Every series of counter ``name`` (``name_total`` samples), with its ``name_created`` time when shown."""
        created = {_key(s.labels): s.value for s in self.series(f"{name}_created", match)}
        out: dict[SeriesKey, CounterValue] = {}
        for s in self.series(f"{name}_total", match):
            key = _key(s.labels)
            out[key] = CounterValue(s.value, created.get(key))
        return out


class CounterValue(NamedTuple):
    value: float
    created: float | None


def _key(labels: Mapping[str, str]) -> SeriesKey:
    return tuple(sorted(labels.items()))


@dataclass(frozen=True)
class Increment:
    amount: int
    resets: int  # series that restarted since the previous scrape


class CounterTracker:
    """Increments of one counter's series from one successful scrape to the next."""

    def __init__(self) -> None:
        self._last: dict[SeriesKey, CounterValue] | None = None

    @property
    def has_baseline(self) -> bool:
        return self._last is not None

    def dump(self) -> list[list[Any]] | None:
        """The last values, as JSON (a scraper restart continues from them instead of a new baseline)."""
        if self._last is None:
            return None
        return [[[list(kv) for kv in key], v.value, v.created] for key, v in self._last.items()]

    def load(self, dumped: list[list[Any]] | None) -> None:
        if dumped is None:
            self._last = None
            return
        self._last = {
            tuple((str(k), str(v)) for k, v in key): CounterValue(float(value), created) for key, value, created in dumped
        }

    def advance(self, series: dict[SeriesKey, CounterValue]) -> Increment | None:
        """The increment since the previous call; None on the first call (the baseline)."""
        last, self._last = self._last, dict(series)
        if last is None:
            return None
        amount = 0.0
        resets = 0
        for key, now in series.items():
            before = last.get(key)
            if before is None:
                amount += now.value  # born since the last scrape: all of it is new
            elif now.value < before.value or (
                now.created is not None and before.created is not None and now.created != before.created
            ):
                amount += now.value
                resets += 1
            else:
                amount += now.value - before.value
        # Counters are integers shown as floats (8.128902e+06); exact up to 2**53.
        return Increment(round(amount), resets)
