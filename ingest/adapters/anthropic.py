"""Anthropic Messages ``usage`` (also as served through Bedrock and Vertex AI).

Anthropic's ``input_tokens`` EXCLUDES cache reads and writes, unlike the contract, so
input = input_tokens + cache_read_input_tokens + cache_creation_input_tokens. Extended-thinking
tokens are billed inside ``output_tokens``; when the API reports them apart
(``output_tokens_details.thinking_tokens``) they are the reasoning tokens, else reasoning stays 0.
``usage.cache_creation`` splits the writes by lifetime; the 1-hour part becomes
``cache_creation_1h_input_tokens``. ``usage.service_tier`` (standard, priority, batch) and ``speed: "fast"``
become ``service_tier``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from ingest.adapters.attribution import Attribution, build_event, count, find_usage, service_tier_of
from ingest.adapters.sdk_objects import as_payload
from schemas import UsageEvent, count_content


def anthropic_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    """Token fields of the contract from an Anthropic ``usage`` object."""
    uncached = usage.get("input_tokens")
    read = usage.get("cache_read_input_tokens") or 0
    written = usage.get("cache_creation_input_tokens") or 0
    # The split of cache writes by lifetime: 1-hour writes are billed at a higher rate than 5-minute ones.
    written_5m = count(usage, "cache_creation", "ephemeral_5m_input_tokens") or 0
    written_1h = count(usage, "cache_creation", "ephemeral_1h_input_tokens") or 0
    if not written and type(written_5m) is int and type(written_1h) is int:
        written = written_5m + written_1h  # only the split was reported
    total_input = uncached
    if all(type(n) is int for n in (uncached, read, written)):
        total_input = uncached + read + written
    return {
        "input_tokens": total_input,
        "output_tokens": usage.get("output_tokens"),
        "cached_input_tokens": read,
        "cache_creation_input_tokens": written,
        "cache_creation_1h_input_tokens": written_1h,
        "reasoning_tokens": count(usage, "output_tokens_details", "thinking_tokens") or 0,
    }


def _unwrap_batch_result(payload: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    # Message Batches results wrap the message: {"custom_id", "result": {"type", "message"}}.
    result = payload.get("result")
    if "custom_id" in payload and isinstance(result, Mapping) and isinstance(result.get("message"), Mapping):
        return result["message"], True
    return payload, False


def from_anthropic(payload: Mapping[str, Any] | Any, **attribution: Unpack[Attribution]) -> UsageEvent:
    """A usage event from an Anthropic Message (or a Message Batches result line), or from its
    ``usage`` object alone (then pass ``model=``), as a dict or as the SDK's own ``Message``."""
    message, in_batch = _unwrap_batch_result(as_payload(payload))
    dropped = count_content(message)
    usage, response = find_usage(
        message, attribution, "usage", ("input_tokens", "output_tokens"), {"input_tokens": 0, "output_tokens": 0}
    )
    derived: dict[str, Any] = anthropic_usage(usage)
    service_tier = service_tier_of(usage.get("service_tier"), usage.get("speed") or response.get("speed"))
    derived.update(
        provider="anthropic",
        model=response.get("model"),
        response_id=response.get("id"),
        batch=True if in_batch or service_tier == "batch" else None,
        service_tier=service_tier,
    )
    return build_event(derived, attribution, dropped)
