"""The workload and organization config file (``tierwise.yaml``) and the what-if scenario file.

Both are validated here and nowhere else. A field left out means "the stated default" (docs/decisions.md):
the defaults are applied by the decision rules themselves (dbt_project/macros/sql_library.sql), so a workload
missing from the file and a workload listed without that field are judged the same way.

    organization:
      domicile: DE                 # ISO 3166 country code (or EU); EU members fall under EU license rules
      monthly_active_users: 1200000
    workloads:
      - name: support-chat
        data_class: internal       # public, internal, pii, health, financial, defense, legal
        ops_fte: 0.0               # the owning team's ops capacity in full-time equivalents
        customization: false       # needs fine-tuning or custom decoding
        latency_slo_ms: 4000       # p99 budget a candidate must meet
        capability_class: production   # else the class of the model it runs today
        candidate_models: [qwen3.5-72b]  # only these models are candidates
        exclude_models: [llama-4-maverick]

A scenario file (``tierwise recommend --scenario``) uses the same names, and each workload also says what it
runs today and how much: ``tier_now``, ``model_now``, ``tokens_per_day`` or ``weekly_tokens_per_day``, and
optionally its token mix and shadow eval result.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.fields import Name

DataClass = Literal["public", "internal", "pii", "health", "financial", "defense", "legal"]
CapabilityClass = Literal["frontier", "production", "mid-range", "budget"]
TierName = Literal["closed_api", "hosted_open_api", "self_hosted"]

# EU member states (ISO 3166-1 alpha-2) as of 2026; "EU" itself is accepted too.
EU_MEMBERS: frozenset[str] = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)

Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organization(_Strict):
    domicile: str | None = Field(
        default=None, description="Country of the principal place of business (ISO 3166 alpha-2, e.g. US, DE), or EU."
    )
    monthly_active_users: int = Field(default=0, ge=0, description="Monthly active users (license MAU limits).")

    @field_validator("domicile")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if len(code) != 2 or not code.isalpha():
            raise ValueError(f"must be a two-letter country code such as US or DE, or EU (got {value!r})")
        return code

    @property
    def eu_domiciled(self) -> bool:
        return self.domicile is not None and (self.domicile == "EU" or self.domicile in EU_MEMBERS)


class WorkloadSettings(_Strict):
    name: Name = Field(description="The workload, exactly as usage events name it.")
    data_class: DataClass | None = Field(default=None, description="Data classification (default internal).")
    ops_fte: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] | None = Field(
        default=None, description="The owning team's ops capacity in FTE (default 0: no ML infra team)."
    )
    customization: bool | None = Field(default=None, description="Needs fine-tuning or custom decoding (default false).")
    latency_slo_ms: PositiveFloat | None = Field(default=None, description="p99 latency budget in ms (default none).")
    capability_class: CapabilityClass | None = Field(
        default=None, description="Which class of models can stand in (default: the class of today's model)."
    )
    candidate_models: list[Name] | None = Field(default=None, description="Only these models are candidates.")
    exclude_models: list[Name] | None = Field(default=None, description="These models are never candidates.")


class TierwiseConfig(_Strict):
    organization: Organization = Field(default_factory=Organization)
    workloads: list[WorkloadSettings] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        _check_unique([w.name for w in self.workloads])
        return self


class ScenarioWorkload(WorkloadSettings):
    tier_now: TierName = Field(description="The tier the workload runs on today.")
    model_now: Name | None = Field(default=None, description="Today's model (its class picks the candidates).")
    provider_now: Name | None = Field(default=None, description="Today's provider (default: the cheapest listed one).")
    tokens_per_day: Annotated[int, Field(gt=0, le=10**13)] | None = Field(default=None, description="Today's volume.")
    weekly_tokens_per_day: list[PositiveFloat] | None = Field(
        default=None, description="Average tokens/day of consecutive weeks, oldest first; the last is today's volume."
    )
    input_share: Share | None = Field(default=None, description="Share of tokens that are input (default 0.8).")
    cached_share: Share | None = Field(default=None, description="Share of input read from a prompt cache (default 0).")
    batch_share: Share | None = Field(default=None, description="Share of tokens sent through a batch API (default 0).")
    peak_to_mean: Annotated[float, Field(ge=1, le=24, allow_inf_nan=False)] | None = Field(
        default=None, description="Busiest hour / average hour (default 1: a flat day)."
    )
    shadow_eval_vs_baseline: Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)] | None = Field(
        default=None, description="Candidates' shadow eval relative to today's model (-0.08 = 8% worse)."
    )
    current_gpu_type: Name | None = None
    current_engine: Name | None = None
    current_quantization: Name | None = None

    @model_validator(mode="after")
    def _one_volume(self) -> Self:
        if (self.tokens_per_day is None) == (self.weekly_tokens_per_day is None):
            raise ValueError("give exactly one of tokens_per_day and weekly_tokens_per_day")
        if self.weekly_tokens_per_day is not None and not self.weekly_tokens_per_day:
            raise ValueError("weekly_tokens_per_day needs at least one week")
        return self

    @property
    def volume(self) -> int:
        if self.tokens_per_day is not None:
            return self.tokens_per_day
        assert self.weekly_tokens_per_day
        return max(1, round(self.weekly_tokens_per_day[-1]))


class Scenario(_Strict):
    organization: Organization = Field(default_factory=Organization)
    workloads: list[ScenarioWorkload] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        _check_unique([w.name for w in self.workloads])
        return self


def _check_unique(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"workload {name!r} is listed twice")
        seen.add(name)
