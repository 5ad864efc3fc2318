"""Gemini ``usageMetadata`` (Gemini API and Vertex AI ``generateContent``).

``promptTokenCount`` already includes ``cachedContentTokenCount``. Thinking tokens are billed as
output but reported apart, so output = candidates + thoughts and reasoning = thoughts. Tokens of
tool-use prompts (e.g. grounding results fed back) are billed as input and reported apart, so they
are added to the input (``totalTokenCount`` is the sum of all four).

google-genai's own objects dump with snake_case names (``usage_metadata.prompt_token_count``) unless
asked ``by_alias=True``; both spellings are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from ingest.adapters.attribution import Attribution, build_event, find_usage
from ingest.adapters.sdk_objects import as_payload
from schemas import UsageEvent, count_content


def gemini_usage(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Token fields of the contract from a Gemini ``usageMetadata`` object."""
    prompt = meta.get("promptTokenCount", 0)
    tool_prompt = meta.get("toolUsePromptTokenCount") or 0
    candidates = meta.get("candidatesTokenCount") or 0  # absent when nothing was generated
    thoughts = meta.get("thoughtsTokenCount") or 0
    ints = all(type(n) is int for n in (prompt, tool_prompt, candidates, thoughts))
    return {
        "input_tokens": prompt + tool_prompt if ints else prompt,
        "output_tokens": candidates + thoughts if ints else candidates,
        "cached_input_tokens": meta.get("cachedContentTokenCount") or 0,
        "reasoning_tokens": thoughts,
    }


def camel_case(value: Any) -> Any:
    """Keys spelled snake_case (google-genai's `model_dump()` and `to_json_dict()`) in REST's camelCase."""
    if isinstance(value, Mapping):
        return {_camel(k) if isinstance(k, str) else k: camel_case(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_case(v) for v in value]
    return value


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def from_gemini(payload: Mapping[str, Any] | Any, **attribution: Unpack[Attribution]) -> UsageEvent:
    """A usage event from a Gemini ``GenerateContentResponse`` (the SDK's object, its dumps or the REST
    JSON), or from its ``usageMetadata`` alone (then pass ``model=``)."""
    payload = camel_case(as_payload(payload))
    dropped = count_content(payload)
    meta, response = find_usage(payload, attribution, "usageMetadata", ("promptTokenCount",), {"promptTokenCount": 0})
    derived = gemini_usage(meta)
    traffic = meta.get("trafficType")
    derived.update(
        provider="google",
        operation="generate_content",
        model=response.get("modelVersion"),
        response_id=response.get("responseId"),
        # Provisioned-throughput traffic is prepaid, not per token: pricing needs to know.
        tags={"traffic_type": traffic} if isinstance(traffic, str) else None,
    )
    return build_event(derived, attribution, dropped)
