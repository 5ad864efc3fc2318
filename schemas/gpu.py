"""``GpuUsage`` v1: what one self-hosted deployment held for one interval, the base of GPU-hour cost."""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from schemas.errors import bad_value, shown
from schemas.fields import SCHEMA_MAJOR, Contract, Fraction, Name, SchemaVersion, Timestamp, naive_utc
from schemas.json_numbers import JsonNumber
from schemas.rules import After, Rule

_MONEY_PATTERN = r"^[0-9]+(\.[0-9]{1,12})?$"
_MONEY_REASON = 'must be a non-negative decimal such as "2.49" or 2.49 (USD per GPU-hour, at most 12 decimals)'
_MONEY_LIMIT = Decimal(10) ** 26  # DECIMAL(38, 12): 26 integer digits...
_MONEY_QUANTUM = Decimal("1e-12")  # ...and 12 decimals
_WIDE = Context(prec=80)  # enough digits to quantize any value below the limit exactly


def _money(value: Any) -> Any:
    """Money as the producer wrote it: decimal text, an integer, or a JSON number read from its literal text.

    A JSON number decoded by ``schemas.json_numbers`` carries its digits, so ``2.0`` or
    ``123456789.123456789012`` become exactly that Decimal. A Python float (a caller building the event in
    code) is taken at its shortest round-trip text, the digits ``json.dumps`` would send for it, so the
    same value is accepted the same way in code and on the wire. NaN, infinities, negatives and more than
    12 decimals are rejected.
    """
    if isinstance(value, bool):
        raise bad_value(f"{_MONEY_REASON} (got {shown(value)})")
    try:
        if isinstance(value, JsonNumber):
            parsed = value.exact()
        elif isinstance(value, float):
            parsed = Decimal(repr(value))
        elif isinstance(value, Decimal):
            parsed = value
        elif isinstance(value, int | str):
            parsed = Decimal(value)
        else:
            raise bad_value(f"{_MONEY_REASON} (got {shown(value)})")
    except InvalidOperation:
        raise bad_value(f"{_MONEY_REASON} (got {shown(value)})") from None
    shown_value = value.text if isinstance(value, JsonNumber) else shown(value)
    if not parsed.is_finite():
        raise bad_value(f"{_MONEY_REASON}; NaN and infinity are not prices (got {shown_value})")
    if parsed < 0:
        raise bad_value(f"{_MONEY_REASON}; a price cannot be negative (got {shown_value})")
    if parsed >= _MONEY_LIMIT:
        raise bad_value(f"{_MONEY_REASON}; at most 26 digits before the point (got {shown_value})")
    if parsed.quantize(_MONEY_QUANTUM, context=_WIDE) != parsed:
        raise bad_value(f"{_MONEY_REASON}; more than 12 decimals would be rounded (got {shown_value})")
    return parsed


Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=38, decimal_places=12),
    BeforeValidator(_money),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _MONEY_PATTERN},
                {"type": "integer", "minimum": 0},
                {"type": "number", "minimum": 0},
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
        description="USD per GPU-hour for this deployment, overriding the catalog price: a decimal string "
        "or a JSON number, read exactly as written (at most 12 decimals).",
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
