"""LiteLLM gateway logs: the ``StandardLoggingPayload`` its callbacks receive, and rows of its
``LiteLLM_SpendLogs`` table (as the proxy's spend-log API returns them).

LiteLLM's ``prompt_tokens`` follows OpenAI (cache reads included); cache detail comes from the
usage object it keeps beside the payload. Which provider served the call, and so the tier, comes
from ``custom_llm_provider`` and ``api_base``: an OpenAI-compatible call to an address that is not a
known vendor is our own server (self_hosted, deployment = host:port of ``api_base``).

Attribution defaults, each overridden by keywords: workload from the request's
``spend_logs_metadata`` (``tierwise_workload`` or ``workload``), else the virtual key's alias (keys
are usually issued per application); team from ``spend_logs_metadata.team``, else the key's team
alias or id. The service tier comes from the usage object, the response's ``service_tier`` or the
request's parameters; Anthropic's 1-hour cache writes from the usage object's ``cache_creation`` split.
Request and response text (``messages``, ``response``, ``proxy_server_request``, tool and
guardrail payloads) is never read, only counted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Unpack

from ingest.adapters.attribution import (
    Attribution,
    build_event,
    count,
    from_epoch_seconds,
    non_empty,
    reconcile_input,
    service_tier_of,
)
from schemas import ContractError, UsageEvent, count_content
from schemas.providers import canonical_provider, endpoint_host, provider_for_endpoint

# LiteLLM provider names that mean "an OpenAI-compatible server at api_base".
_OPENAI_COMPATIBLE = frozenset({"openai", "openai_like", "custom_openai", "text-completion-openai"})


def litellm_route(custom_llm_provider: str | None, api_base: str | None) -> dict[str, Any]:
    """Provider and, for self-hosted servers, deployment of a LiteLLM call (tier follows the provider)."""
    raw = non_empty(custom_llm_provider)
    base = non_empty(api_base)
    vendor = provider_for_endpoint(base) if base else None
    if raw is None:
        return {"provider": vendor}
    provider = canonical_provider(raw)
    if provider == "vllm":
        return {"provider": "vllm", "deployment": endpoint_host(base) if base else None}
    if raw.lower() in _OPENAI_COMPATIBLE and base:
        if vendor is None:
            return {"provider": "openai_compatible", "deployment": endpoint_host(base)}
        return {"provider": vendor}
    return {"provider": provider}


def _mapping(value: Any) -> Mapping[str, Any]:
    # Spend-log JSON columns arrive as objects or as JSON text, depending on how they were exported.
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, Mapping) else {}
    return {}


def _time(value: Any, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ContractError(field, f"must be a time (got {value})")
    if isinstance(value, (int, float)):
        return from_epoch_seconds(value)
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise ContractError(field, f"must be an ISO 8601 time or epoch seconds (got {value[:40]!r})") from None
    else:
        raise ContractError(field, "must be an ISO 8601 time or epoch seconds")
    # LiteLLM writes UTC; its database columns carry no offset.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _tags(request_tags: Any) -> dict[str, str]:
    """LiteLLM request tags are strings; ``key:value`` becomes a tag, a bare word a ``true`` flag."""
    if isinstance(request_tags, str):
        try:
            request_tags = json.loads(request_tags)
        except ValueError:
            return {}
    tags: dict[str, str] = {}
    for tag in request_tags or ():
        if not isinstance(tag, str) or not tag.strip():
            continue
        key, sep, value = tag.partition(":")
        tags[key.strip()] = value.strip() if sep else "true"
    return tags


def _usage_detail(*candidates: Any) -> dict[str, Any]:
    detail: Mapping[str, Any] = next((c for c in candidates if isinstance(c, Mapping) and c), {})
    return {
        # Anthropic's split of cache writes by lifetime, as the provider sent it or as LiteLLM renames it
        "creation_1h": count(detail, "cache_creation", "ephemeral_1h_input_tokens")
        or count(detail, "cache_creation_token_details", "ephemeral_1h_input_tokens")
        or count(detail, "prompt_tokens_details", "cache_creation_token_details", "ephemeral_1h_input_tokens")
        or 0,
        "service_tier": service_tier_of(detail.get("service_tier"), detail.get("speed")),
        "cached": count(detail, "prompt_tokens_details", "cached_tokens") or detail.get("cache_read_input_tokens") or 0,
        "creation": detail.get("cache_creation_input_tokens")
        or count(detail, "prompt_tokens_details", "cache_creation_tokens")
        or 0,
        "reasoning": count(detail, "completion_tokens_details", "reasoning_tokens") or 0,
    }


def _service_tier(usage: Mapping[str, Any], *sources: Any) -> str | None:
    """The service tier that served the call: from the usage object, else the first source that names one
    (the response's ``service_tier`` as OpenAI returns it, the request's parameters)."""
    if usage.get("service_tier"):
        return usage["service_tier"]
    for source in sources:
        source = _mapping(source)
        tier = service_tier_of(source.get("service_tier"), source.get("speed"))
        if tier:
            return tier
    return None


def _derive(
    row: Mapping[str, Any],
    metadata: Mapping[str, Any],
    usage: dict[str, Any],
    event_id: Any,
) -> dict[str, Any]:
    route = litellm_route(row.get("custom_llm_provider"), row.get("api_base"))
    model = non_empty(row.get("model"))
    raw_provider = non_empty(row.get("custom_llm_provider"))
    if model and raw_provider and model.startswith(f"{raw_provider}/"):
        model = model[len(raw_provider) + 1 :]

    start = _time(row.get("startTime"), "startTime")
    end = _time(row.get("endTime"), "endTime")
    first_token = _time(row.get("completionStartTime"), "completionStartTime")
    if end is None:
        raise ContractError("endTime", "is required (when the request finished)")
    duration_ms = (end - start).total_seconds() * 1000 if start and end >= start else None
    ttft_ms = None
    if start and first_token and row.get("stream") is not False and start <= first_token < end:
        ttft_ms = (first_token - start).total_seconds() * 1000

    user_meta = _mapping(metadata.get("spend_logs_metadata"))
    tags = _tags(row.get("request_tags"))
    if non_empty(row.get("model_group")):
        tags["litellm_model_group"] = row["model_group"]
    if row.get("cache_hit") in (True, "True", "true"):
        # Served from LiteLLM's own response cache: no provider call was billed.
        tags["litellm_cache_hit"] = "true"

    failed = row.get("status") == "failure" or metadata.get("status") == "failure"
    error_info = _mapping(row.get("error_information")) or _mapping(metadata.get("error_information"))
    cached, creation = usage["cached"], usage["creation"]
    return {
        **route,
        "model": model,
        "event_id": non_empty(event_id),
        "request_id": non_empty(event_id),
        "event_time": end,
        "duration_ms": duration_ms,
        "ttft_ms": ttft_ms,
        "input_tokens": reconcile_input(row.get("prompt_tokens"), cached, creation),
        "output_tokens": row.get("completion_tokens"),
        "cached_input_tokens": cached,
        "cache_creation_input_tokens": creation,
        "cache_creation_1h_input_tokens": usage["creation_1h"],
        "reasoning_tokens": usage["reasoning"],
        "service_tier": usage.get("service_tier"),
        "status": "error" if failed else "ok",
        "error_type": (
            non_empty(error_info.get("error_class")) or non_empty(str(error_info.get("error_code") or "")) or "_OTHER"
        )
        if failed
        else None,
        "workload": non_empty(user_meta.get("tierwise_workload"))
        or non_empty(user_meta.get("workload"))
        or non_empty(metadata.get("user_api_key_alias")),
        "team": non_empty(user_meta.get("team"))
        or non_empty(metadata.get("user_api_key_team_alias"))
        or non_empty(metadata.get("user_api_key_team_id"))
        or non_empty(row.get("team_id")),
        "environment": non_empty(user_meta.get("environment")),
        "tags": tags or None,
    }


def from_litellm_payload(payload: Mapping[str, Any], **attribution: Unpack[Attribution]) -> UsageEvent:
    """A usage event from a LiteLLM ``StandardLoggingPayload`` (``kwargs["standard_logging_object"]``)."""
    dropped = count_content(payload)
    metadata = _mapping(payload.get("metadata"))
    hidden = _mapping(payload.get("hidden_params"))
    response = payload.get("response")
    usage = _usage_detail(
        hidden.get("usage_object"),
        metadata.get("usage_object"),
        response.get("usage") if isinstance(response, Mapping) else None,
    )
    usage["service_tier"] = _service_tier(
        usage, response, hidden, payload.get("model_parameters"), payload.get("optional_params")
    )
    row = dict(payload)
    if not non_empty(row.get("api_base")):
        row["api_base"] = hidden.get("api_base")
    if not non_empty(row.get("model")):
        row["model"] = hidden.get("litellm_model_name")
    derived = _derive(row, metadata, usage, payload.get("id"))
    return build_event(derived, attribution, dropped)


def from_litellm_spend_log(row: Mapping[str, Any], **attribution: Unpack[Attribution]) -> UsageEvent:
    """A usage event from one ``LiteLLM_SpendLogs`` row (times may be ISO text without an offset: UTC)."""
    dropped = count_content(row)
    metadata = _mapping(row.get("metadata"))
    usage = _usage_detail(metadata.get("usage_object"), metadata.get("additional_usage_values"))
    usage["service_tier"] = _service_tier(
        usage, metadata.get("additional_usage_values"), metadata.get("hidden_params"), row.get("model_parameters")
    )
    derived = _derive(row, metadata, usage, row.get("request_id"))
    return build_event(derived, attribution, dropped)
