"""What the caller knows that the provider payload does not, and the one place adapters build events.

Adapters derive what they can from a payload (tokens, model, response id, ...) and hand it to
:func:`build_event` together with the caller's attribution keywords. Keywords win over anything
derived; ``tags`` are merged (keywords win per key). The result is validated by the same contract
as everything that reaches Kafka, so adapters raise :class:`schemas.ContractError` on bad input.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypedDict

from pydantic import ValidationError

from schemas import ContractError, Tier, UsageEvent
from schemas.fields import DROPPED_CONTEXT_KEY
from schemas.providers import canonical_provider, tier_for


class Attribution(TypedDict, total=False):
    """Keywords every adapter accepts (all optional; ``workload`` is required by the contract)."""

    workload: str
    team: str
    tier: Tier | str
    provider: str
    model: str
    deployment: str
    environment: str
    operation: str
    event_id: str  # default: the provider's response id, else a random UUID
    event_time: datetime  # default: now, UTC
    duration_ms: float
    ttft_ms: float
    status: Literal["ok", "error"]
    error_type: str
    batch: bool
    service_tier: str
    shadow: bool
    eval_score: float
    request_id: str
    tags: Mapping[str, str]


ATTRIBUTION_KEYS: frozenset[str] = frozenset(Attribution.__annotations__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def check_keywords(attribution: Mapping[str, Any]) -> None:
    """Reject misspelt keywords (``workoad=``) instead of silently losing attribution."""
    unknown = sorted(set(attribution) - ATTRIBUTION_KEYS)
    if unknown:
        raise TypeError(
            f"unknown attribution keyword(s): {', '.join(unknown)}; expected some of: {', '.join(sorted(ATTRIBUTION_KEYS))}"
        )


def build_event(derived: Mapping[str, Any], attribution: Mapping[str, Any], dropped: int = 0) -> UsageEvent:
    """Merge what the payload says with what the caller says, fill defaults, validate.

    ``dropped`` is how many content fields the adapter found in the payload; it is carried into
    the event's ``content_fields_dropped``.
    """
    check_keywords(attribution)
    fields: dict[str, Any] = {k: v for k, v in derived.items() if v is not None}
    tags: dict[str, str] = dict(fields.pop("tags", None) or {})
    for key, value in attribution.items():
        if value is None:
            continue
        if key == "tags":
            tags.update(value)
        else:
            fields[key] = value
    if tags:
        fields["tags"] = tags

    provider = fields.get("provider")
    if isinstance(provider, str):
        fields["provider"] = provider = canonical_provider(provider)
    if "tier" not in fields:
        if not isinstance(provider, str):
            raise ContractError("provider", "is required (pass provider=..., e.g. vllm or together)")
        model = fields.get("model")
        tier = tier_for(provider, model if isinstance(model, str) else None)
        if tier is None:
            raise ContractError("tier", f"cannot be inferred for provider {provider!r}; pass tier=...")
        fields["tier"] = tier
    if "event_id" not in fields:
        fields["event_id"] = fields.get("response_id") or str(uuid.uuid4())
    if "event_time" not in fields:
        fields["event_time"] = datetime.now(UTC)
    try:
        return UsageEvent.model_validate(fields, context={DROPPED_CONTEXT_KEY: dropped})
    except ValidationError as exc:
        raise ContractError.from_validation_error(exc) from None


def find_usage(
    payload: Mapping[str, Any],
    attribution: Mapping[str, Any],
    key: str,
    bare_keys: tuple[str, ...],
    failed: Mapping[str, Any],
    missing: str = "missing from the payload",
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(usage object, response) of a provider payload, the same way for every provider adapter.

    The usage is the payload's ``key`` object; else the payload itself when the caller passed the bare
    usage object (it has one of ``bare_keys``; there is no response then, so ``model=`` must be given);
    else, for a call the caller says failed (``status="error"``), the zero-token usage ``failed``.
    Anything else raises ContractError naming ``key``.
    """
    usage = payload.get(key)
    if isinstance(usage, Mapping):
        return usage, payload
    if any(k in payload for k in bare_keys):
        return payload, {}
    if attribution.get("status") == "error":
        return failed, payload
    raise ContractError(key, missing)


def count(mapping: Mapping[str, Any] | None, *path: str) -> Any:
    """The value at ``path`` inside a payload (a token count, unchecked: the contract checks it),
    or None when any step is missing or null."""
    value: Any = mapping
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def reconcile_input(input_tokens: Any, cached: Any, creation: Any) -> Any:
    """Input tokens including cache reads and writes, for sources that may report either meaning.

    OTel instrumentations and gateway logs disagree on whether their input count includes cache
    tokens (Anthropic's own ``input_tokens`` includes neither; some LiteLLM versions include reads
    but not writes). A count smaller than what it should contain cannot have contained it:

    - fewer input tokens than cache reads: neither reads nor writes are included, add both;
    - reads fit but reads + writes do not: writes are not included, add them;
    - otherwise the source is taken at its word (an undercount that fits is undetectable).
    """
    if not all(type(n) is int for n in (input_tokens, cached, creation)):
        return input_tokens  # let the contract name the bad value
    if cached > input_tokens:
        return input_tokens + cached + creation
    if cached + creation > input_tokens:
        return input_tokens + creation
    return input_tokens


def from_epoch_seconds(value: float) -> datetime:
    return _EPOCH + timedelta(seconds=value)


def from_epoch_nanos(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value // 1000)


# What providers call their standard tier; tierwise stores it as `standard`.
_STANDARD_TIER_NAMES = frozenset({"default", "auto", "standard", "standard_only"})


def service_tier_of(tier: Any, speed: Any = None) -> str | None:
    """The contract's service_tier from what a provider reports: its tier name, lower case, with `default`
    and `auto` (OpenAI) folded into `standard`; Anthropic's `speed: "fast"` is the `fast` tier."""
    if isinstance(speed, str) and speed.strip().lower() == "fast":
        return "fast"
    if not isinstance(tier, str) or not tier.strip():
        return None
    name = tier.strip().lower()
    return "standard" if name in _STANDARD_TIER_NAMES else name


def non_empty(value: Any) -> str | None:
    """A usable label: non-empty text, else None (so the contract's default or 'required' applies)."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None
