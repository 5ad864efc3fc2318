"""Contract violations as one-line, field-named messages.

The landing consumer writes ``str(ContractError)`` into ``raw.rejected_events.reason`` and the
replay tool prints it, so the message names the field and the reason and never echoes more than a
short, truncated piece of the offending value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

# Error types our own validators raise: a cross-field rule (ctx names the field) and a single-field
# rule (pydantic's location names the field). Both carry a ready-made reason.
CONTRACT_ERROR_TYPE = "tierwise_contract"
VALUE_ERROR_TYPE = "tierwise_value"
_MAX_SHOWN = 40
# Names may not hold control characters; the pattern is named here so its error can say so in words.
NO_CONTROL_PATTERN = r"^[^\p{Cc}\p{Zl}\p{Zp}]+$"


class ContractError(Exception):
    """An event that breaks the contract: ``field`` is where, ``reason`` is why.

    ``errors`` holds every (field, reason) pair found; ``str()`` shows the first one and how many
    more there were, on one line, e.g. ``output_tokens: must be >= 0 (got -3)``.
    """

    def __init__(self, field: str, reason: str, errors: tuple[tuple[str, str], ...] = ()) -> None:
        self.field = field
        self.reason = reason
        self.errors: tuple[tuple[str, str], ...] = errors or ((field, reason),)
        super().__init__(str(self))

    def __str__(self) -> str:
        more = len(self.errors) - 1
        suffix = f" (and {more} more)" if more > 0 else ""
        return f"{self.field}: {self.reason}{suffix}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps the error picklable for process pools (the default would replay only the message).
        return (type(self), (self.field, self.reason, self.errors))

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> ContractError:
        pairs = tuple(describe(err) for err in exc.errors(include_url=False))
        if not pairs:  # pragma: no cover - pydantic never raises an empty ValidationError
            return cls("<root>", "is invalid")
        return cls(pairs[0][0], pairs[0][1], pairs)


def violation(field: str, reason: str) -> PydanticCustomError:
    """An error for a cross-field rule, raised inside a validator, that keeps the field's name."""
    return PydanticCustomError(CONTRACT_ERROR_TYPE, "{field}: {reason}", {"field": field, "reason": reason})


def bad_value(reason: str) -> PydanticCustomError:
    """An error for a single-field rule; the field comes from where pydantic was validating."""
    return PydanticCustomError(VALUE_ERROR_TYPE, "{reason}", {"reason": reason})


def shown(value: Any) -> str:
    """A short rendering of an offending value: enough to debug, never a whole prompt."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        if len(value) > _MAX_SHOWN:
            return repr(value[:_MAX_SHOWN] + "...")
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return type(value).__name__


def describe(err: ErrorDetails) -> tuple[str, str]:
    """Turn one pydantic error into (field, reason) in tierwise's wording."""
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    loc = err["loc"]
    field = ".".join(str(part) for part in loc) if loc else "<root>"
    got = shown(err.get("input"))

    if kind == CONTRACT_ERROR_TYPE:
        return str(ctx["field"]), str(ctx["reason"])
    if kind == VALUE_ERROR_TYPE:
        return field, str(ctx["reason"])
    if kind == "json_invalid":
        return "<json>", f"invalid JSON ({ctx.get('error', 'unparseable')})"
    if not loc and kind in ("model_type", "model_attributes_type", "dict_type"):
        return "<root>", f"must be a JSON object (got {got})"
    if kind == "missing":
        return field, "is required"
    if kind == "greater_than_equal":
        return field, f"must be >= {ctx['ge']} (got {got})"
    if kind == "greater_than":
        return field, f"must be > {ctx['gt']} (got {got})"
    if kind == "less_than_equal":
        return field, f"must be <= {ctx['le']} (got {got})"
    if kind == "less_than":
        return field, f"must be < {ctx['lt']} (got {got})"
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return field, "must not be empty"
        return field, f"must be at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        length = len(err["input"]) if isinstance(err.get("input"), str) else "?"
        return field, f"must be at most {ctx.get('max_length')} characters (got {length})"
    if kind == "too_long":
        return field, f"must have at most {ctx.get('max_length')} entries (got {ctx.get('actual_length')})"
    if kind in ("literal_error", "enum"):
        return field, f"must be one of {ctx.get('expected')} (got {got})"
    if kind == "timezone_aware":
        return field, f"must be an RFC 3339 timestamp with a UTC offset (got {got}, which has none)"
    if kind.startswith(("datetime_", "date_", "time_")):
        return field, f"must be an RFC 3339 timestamp with a UTC offset (got {got})"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return field, f"must be an integer (got {got})"
    if kind in ("bool_type", "bool_parsing"):
        return field, f"must be true or false (got {got})"
    if kind in ("string_type", "string_unicode"):
        return field, f"must be a string (got {got})"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return field, f"must be a finite number (got {got})"
    if kind in ("dict_type", "model_type"):
        return field, f"must be an object (got {got})"
    if kind.startswith("decimal_"):
        return field, f"must be a decimal number with at most 12 decimal places (got {got})"
    if kind == "value_error":
        return field, str(ctx.get("error", err["msg"]))
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == NO_CONTROL_PATTERN:
        return field, f"must not contain control characters such as a newline, tab or NUL (got {got})"
    msg = err["msg"]
    return field, (msg[:1].lower() + msg[1:]) if msg else "is invalid"
