"""``GpuUsage`` v1: what one self-hosted deployment held for one interval, the base of GPU-hour cost."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from schemas.errors import bad_value, shown
from schemas.fields import SCHEMA_MAJOR, Contract, Fraction, Name, SchemaVersion, Timestamp, naive_utc
from schemas.rules import After, Rule

_MONEY_PATTERN = r"^[0-9]+(\.[0-9]{1,12})?$"
_MONEY_REASON = 'must be a decimal string such as "2.49" (USD per GPU-hour, >= 0, at most 12 decimals)'


def _money(value: Any) -> Any:
    # A float has already lost the cents it was meant to carry; money travels as decimal text.
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise bad_value(f"{_MONEY_REASON} (got {value})")
        return value
    if isinstance(value, (bool, float)):
        raise bad_value(f"{_MONEY_REASON}, never a float (got {shown(value)})")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            parsed = Decimal(value)
        except InvalidOperation:
            raise bad_value(f"{_MONEY_REASON} (got {shown(value)})") from None
        if not parsed.is_finite():
            raise bad_value(f"{_MONEY_REASON} (got {shown(value)})")
        return parsed
    raise bad_value(f"{_MONEY_REASON} (got {shown(value)})")


Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=38, decimal_places=12),
    BeforeValidator(_money),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _MONEY_PATTERN},
                {"type": "integer", "minimum": 0},
            ]
        }
    ),
]


class GpuUsage(Contract):
    """GPU capacity held by one self-hosted deployment over one interval (a heartbeat).

    Its cost is ``gpu_count`` x hours x the hourly price (``hourly_price_usd`` when given, else the
    GPU price catalog), and is shared among the requests that ``deployment`` served in the interval.
    Unknown fields are ignored; content fields are dropped and counted as for usage events.
    """

    event_id: Name = Field(description="Idempotency key, e.g. deployment plus interval start.")
    interval_start: Timestamp = Field(description="Start of the interval, RFC 3339 with a UTC offset.")
    interval_end: Timestamp = Field(description="End of the interval (exclusive), after interval_start.")
    deployment: Name = Field(description="Cluster or endpoint; matches UsageEvent.deployment.")
    gpu_type: Name = Field(description="GPU model as named in the GPU price catalog, e.g. H100-80GB, L4.")
    gpu_count: int = Field(ge=1, le=100_000, strict=True, description="GPUs held by the deployment during the interval.")
    utilization: Fraction | None = Field(default=None, description="Mean GPU utilization in [0, 1].")
    hourly_price_usd: Money | None = Field(
        default=None,
        description="USD per GPU-hour for this deployment, overriding the catalog price; a decimal string, never a float.",
    )
    engine: Literal["vllm", "sglang", "other"] | None = Field(default=None, description="Serving engine.")
    model: Name | None = Field(default=None, description="Model the deployment serves.")
    quantization: Literal["fp16", "fp8", "int8", "int4"] | None = Field(
        default=None, description="Weight precision the model is served at."
    )
    schema_version: SchemaVersion = Field(
        default=SCHEMA_MAJOR, description='Contract version: "1", or "1.x" for additive revisions.'
    )

    RULES: ClassVar[tuple[Rule, ...]] = (After("interval_end", "interval_start"),)

    def to_row(self) -> dict[str, Any]:
        """The flat row for ``raw.gpu_usage`` (without the Kafka and landing columns)."""
        start = naive_utc(self.interval_start)
        return {
            "event_id": self.event_id,
            "interval_start": start,
            "interval_end": naive_utc(self.interval_end),
            "event_date": start.date(),
            "deployment": self.deployment,
            "gpu_type": self.gpu_type,
            "gpu_count": self.gpu_count,
            "utilization": self.utilization,
            "hourly_price_usd": self.hourly_price_usd,
            "engine": self.engine,
            "model": self.model,
            "quantization": self.quantization,
            "schema_version": self.schema_version,
        }
