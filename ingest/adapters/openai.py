"""OpenAI-shaped usage: OpenAI itself (Chat Completions, Responses, Embeddings, Batch output lines) and
every server that speaks the same shape (vLLM, SGLang, Together, Fireworks, Groq, ...).

Both shapes count cached tokens inside the input and reasoning tokens inside the output, as the
contract does, so counts map one to one:

- Chat Completions: ``prompt_tokens``, ``completion_tokens``, ``prompt_tokens_details.cached_tokens``,
  ``completion_tokens_details.reasoning_tokens``
- Responses: ``input_tokens``, ``output_tokens``, ``input_tokens_details.cached_tokens``,
  ``output_tokens_details.reasoning_tokens``
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from ingest.adapters.attribution import Attribution, build_event, count, find_usage, service_tier_of
from ingest.adapters.sdk_objects import as_payload
from schemas import UsageEvent, count_content

_OPERATIONS = {
    "chat.completion": "chat",
    "chat.completion.chunk": "chat",
    "response": "chat",
    "text_completion": "text_completion",
    "list": "embeddings",
}
_USAGE_KEYS = ("prompt_tokens", "input_tokens", "completion_tokens", "output_tokens")


def openai_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    """Token fields of the contract from an OpenAI-shaped ``usage`` object (either API)."""
    if "input_tokens" in usage or "output_tokens" in usage:
        input_tokens = usage.get("input_tokens")
        output_tokens = usage.get("output_tokens")
        cached = count(usage, "input_tokens_details", "cached_tokens")
        creation = count(usage, "input_tokens_details", "cache_write_tokens")
        reasoning = count(usage, "output_tokens_details", "reasoning_tokens")
    else:
        input_tokens = usage.get("prompt_tokens")
        output_tokens = usage.get("completion_tokens")
        cached = (
            count(usage, "prompt_tokens_details", "cached_tokens")
            # Some OpenAI-compatible hosts report cache hits at the top level instead.
            or usage.get("cached_tokens")
            or usage.get("prompt_cache_hit_tokens")
        )
        creation = count(usage, "prompt_tokens_details", "cache_write_tokens")
        reasoning = count(usage, "completion_tokens_details", "reasoning_tokens")
        if output_tokens is None and input_tokens is not None and "total_tokens" in usage:
            output_tokens = 0  # embeddings report prompt and total tokens only
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_input_tokens": cached or 0,
        "cache_creation_input_tokens": creation or 0,
        "reasoning_tokens": reasoning or 0,
    }


def _unwrap_batch_line(payload: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, Any]]:
    # A Batch API output line wraps the response: {"custom_id", "response": {"request_id", "body"}}.
    response = payload.get("response")
    if "custom_id" in payload and isinstance(response, Mapping) and isinstance(response.get("body"), Mapping):
        return response["body"], {"batch": True, "request_id": response.get("request_id")}
    return payload, {}


def _derive(payload: Any, attribution: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    body, derived = _unwrap_batch_line(as_payload(payload))
    dropped = count_content(body)
    usage, response = find_usage(
        body,
        attribution,
        "usage",
        _USAGE_KEYS,
        {"prompt_tokens": 0, "completion_tokens": 0},
        "missing from the payload (a stream without include_usage has none)",
    )
    derived.update(openai_usage(usage))
    derived["model"] = response.get("model")
    derived["response_id"] = response.get("id")
    derived["operation"] = _OPERATIONS.get(str(response.get("object")))
    # The tier that served the request (flex, priority, fast, ...): it picks the rates the request pays.
    derived["service_tier"] = service_tier_of(response.get("service_tier"))
    groq = response.get("x_groq")
    if isinstance(groq, Mapping) and isinstance(groq.get("id"), str):
        derived.setdefault("request_id", groq["id"])
    return derived, dropped


def from_openai(payload: Mapping[str, Any] | Any, **attribution: Unpack[Attribution]) -> UsageEvent:
    """A usage event from an OpenAI response (Chat Completions, Responses, Embeddings or a Batch
    output line), or from its ``usage`` object alone (then pass ``model=``), as a dict or as the
    SDK's own object (``ChatCompletion``, ``Response``, ...)."""
    derived, dropped = _derive(payload, attribution)
    derived["provider"] = "openai"
    return build_event(derived, attribution, dropped)


def from_openai_compatible(payload: Mapping[str, Any] | Any, **attribution: Unpack[Attribution]) -> UsageEvent:
    """A usage event from any OpenAI-compatible server's response or ``usage`` object.

    ``provider=`` is required (``vllm``, ``sglang``, ``together``, ``fireworks``, ``groq``, ...); the
    tier follows from it unless given, and a self-hosted server also needs ``deployment=``.
    """
    derived, dropped = _derive(payload, attribution)
    return build_event(derived, attribution, dropped)
