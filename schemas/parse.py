"""Hot-path entry points: raw Kafka bytes, JSON text or a decoded dict in, a valid event or ContractError out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import ValidationError

from schemas.errors import ContractError, shown
from schemas.fields import Contract
from schemas.gpu import GpuUsage
from schemas.json_numbers import loads_exact
from schemas.usage import UsageEvent

Raw = bytes | bytearray | memoryview | str | Mapping[str, Any]
_C = TypeVar("_C", bound=Contract)


def _parse(model: type[_C], raw: Raw) -> _C:
    try:
        if model is GpuUsage and isinstance(raw, (bytes, str, bytearray, memoryview)):
            return _parse_exact(model, raw)
        # JSON text goes straight to pydantic-core's parser: no intermediate Python dict.
        if isinstance(raw, (bytes, str, bytearray)):
            return model.model_validate_json(raw)
        if isinstance(raw, memoryview):
            return model.model_validate_json(raw.tobytes())
        if isinstance(raw, dict):
            return model.model_validate(raw)
        if isinstance(raw, Mapping):
            return model.model_validate(dict(raw))
    except ValidationError as exc:
        raise ContractError.from_validation_error(exc) from None
    raise ContractError("<root>", f"must be a JSON object (got {shown(raw)})")


def _parse_exact(model: type[_C], raw: bytes | str | bytearray | memoryview) -> _C:
    """Validate JSON text whose money fields must keep the digits the producer wrote (schemas.json_numbers).

    pydantic-core would read ``2.49`` as a binary float; ``loads_exact`` keeps the literal text. Text that
    ``json`` cannot read goes to pydantic-core, so invalid JSON is reported in the same words as elsewhere.
    """
    text = raw.tobytes() if isinstance(raw, memoryview) else raw
    try:
        obj = loads_exact(text)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return model.model_validate_json(text)
    if not isinstance(obj, dict):
        raise ContractError("<root>", f"must be a JSON object (got {shown(obj)})")
    return model.model_validate(obj)


def parse_usage(raw: Raw) -> UsageEvent:
    """Validate one usage event; raises ContractError naming the field (``<json>`` for bad JSON)."""
    return _parse(UsageEvent, raw)


def parse_gpu(raw: Raw) -> GpuUsage:
    """Validate one GPU usage heartbeat; raises ContractError like :func:`parse_usage`."""
    return _parse(GpuUsage, raw)


def is_gpu_heartbeat(obj: Any) -> bool:
    """How every producer routes a decoded event: an object with ``interval_start`` is a GPU heartbeat
    (for the GPU topic), anything else a usage event."""
    return isinstance(obj, dict) and "interval_start" in obj


def parse_event(obj: dict[str, Any]) -> UsageEvent | GpuUsage:
    """Validate a decoded event as the contract ``is_gpu_heartbeat`` picks; raises ContractError."""
    return parse_gpu(obj) if is_gpu_heartbeat(obj) else parse_usage(obj)
