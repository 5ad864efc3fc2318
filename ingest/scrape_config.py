"""The config file of `tierwise ingest scrape`: which self-hosted deployments to scrape, and what they are.

```yaml
interval_s: 60          # one GPU heartbeat per deployment per interval
timeout_s: 10           # a scrape slower than this is a missed scrape
deployments:
  - name: llama-70b-east          # the deployment id usage events carry (UsageEvent.deployment)
    engine: vllm                  # vllm or sglang: which metric names to read
    metrics_url: http://10.0.0.5:8000/metrics
    dcgm_url: http://10.0.0.5:9400/metrics   # optional: NVIDIA DCGM exporter, for GPU utilization
    dcgm_gpus: ["0", "1"]         # optional: the DCGM `gpu` labels of this deployment (default: every GPU listed)
    gpu_type: H100-80GB           # as named in the gpu_prices catalog
    gpu_count: 2
    hourly_price_usd: "2.49"      # optional; default: the gpu_prices catalog
    model: meta-llama/Llama-3.3-70B-Instruct
    quantization: fp8
    usage:                        # optional: only where no per-request events exist for this deployment
      workload: batch-summaries
      team: data
```

A problem is one :class:`TierwiseError` naming the file, the deployment and the field.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.yaml_config import named_items, read_text, validate, yaml_mapping
from schemas.gpu import Money


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) < 10:
        raise ValueError(f"must be an http:// or https:// URL (got {value!r})")
    return value


class UsageAttribution(_Strict):
    """Who the aggregate usage of a deployment is attributed to (one usage event per interval)."""

    workload: str = Field(min_length=1)
    team: str | None = None
    environment: str = "prod"


class Deployment(_Strict):
    name: str = Field(min_length=1, max_length=256)
    engine: Literal["vllm", "sglang"]
    metrics_url: str
    match_labels: dict[str, str] = Field(
        default_factory=dict, description="Only engine series with these label values count (e.g. model_name)."
    )
    dcgm_url: str | None = None
    dcgm_gpus: list[str] | None = Field(default=None, min_length=1)
    gpu_type: str = Field(min_length=1)
    gpu_count: int = Field(ge=1, le=100_000, strict=True)
    hourly_price_usd: Money | None = None
    model: str | None = None
    quantization: Literal["fp16", "fp8", "int8", "int4"] | None = None
    usage: UsageAttribution | None = None
    # A missed scrape says nothing about whether the GPUs were held: "bill" keeps the interval's heartbeat (its
    # utilization left unknown), "skip" leaves the interval out (deployments that scale to zero).
    missed: Literal["bill", "skip"] = "bill"

    @field_validator("metrics_url", "dcgm_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return value if value is None else _http_url(value)

    @model_validator(mode="after")
    def _usage_needs_model(self) -> Deployment:
        if self.usage is not None and not self.model:
            raise ValueError("model is required when usage is set (the aggregate usage events name it)")
        if self.dcgm_gpus is not None and self.dcgm_url is None:
            raise ValueError("dcgm_gpus needs dcgm_url")
        return self


class ScrapeConfig(_Strict):
    interval_s: float = Field(default=60.0, ge=1.0, le=3600.0)
    timeout_s: float = Field(default=10.0, gt=0.0)
    deployments: list[Deployment] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ScrapeConfig:
        if self.timeout_s >= self.interval_s:
            raise ValueError(f"timeout_s ({self.timeout_s:g}) must be shorter than interval_s ({self.interval_s:g})")
        names = [d.name for d in self.deployments]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"deployment names must be unique ({', '.join(twice)} appear twice)")
        return self


def load_scrape_config(path: Path) -> ScrapeConfig:
    data = yaml_mapping(read_text(path), str(path), "interval_s and deployments")
    return validate(ScrapeConfig, data, str(path), named_items({"deployments": "deployment"}))


def unpriced_gpu_types(config: ScrapeConfig, catalog_csv: Path) -> list[tuple[str, str]]:
    """(deployment, gpu_type) of deployments with no price of their own whose GPU type the catalog does not list:
    their GPU-hours would land unpriced (shown as such, never as $0), which is worth saying before the first one."""
    try:
        with catalog_csv.open(newline="", encoding="utf-8") as fh:
            known = {row.get("gpu_type") for row in csv.DictReader(fh)}
    except OSError:
        return []
    return [(d.name, d.gpu_type) for d in config.deployments if d.hourly_price_usd is None and d.gpu_type not in known]
