"""Provider payloads -> UsageEvent: token mapping per provider, attribution, tiers, and no content."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.adapters import (
    PROVIDER_TIERS,
    SpanError,
    canonical_provider,
    events_from_otlp_json,
    from_anthropic,
    from_gemini,
    from_litellm_payload,
    from_litellm_spend_log,
    from_openai,
    from_openai_compatible,
    tier_for,
)
from schemas import ContractError, Tier, UsageEvent
from schemas.providers import endpoint_host, provider_for_endpoint

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "payloads"
SECRET = "SECRET-"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def tokens(event: UsageEvent) -> tuple[int, int, int, int, int]:
    return (
        event.input_tokens,
        event.output_tokens,
        event.cached_input_tokens,
        event.cache_creation_input_tokens,
        event.reasoning_tokens,
    )


def assert_no_content(event: UsageEvent) -> None:
    assert SECRET not in event.model_dump_json()
    assert SECRET not in repr(event.to_row())


# --- every fixture: content is in the payload, never in the event --------------------------------

CASES: list[tuple[str, Callable[..., UsageEvent], dict[str, Any], int]] = [
    ("openai_chat_completion", from_openai, {"workload": "w"}, 1),
    ("openai_responses", from_openai, {"workload": "w"}, 3),  # instructions, output, text
    ("openai_batch_output_line", from_openai, {"workload": "w"}, 1),
    ("anthropic_message", from_anthropic, {"workload": "w"}, 1),
    ("anthropic_batch_result", from_anthropic, {"workload": "w"}, 1),
    ("gemini_generate_content", from_gemini, {"workload": "w"}, 1),
    ("vllm_chat_completion", from_openai_compatible, {"workload": "w", "provider": "vllm", "deployment": "a"}, 1),
    ("groq_chat_completion", from_openai_compatible, {"workload": "w", "provider": "groq"}, 1),
    ("litellm_standard_logging_payload", from_litellm_payload, {}, 2),  # messages, response
    ("litellm_spend_log_row", from_litellm_spend_log, {}, 2),  # messages, proxy_server_request
]


@pytest.mark.parametrize(("name", "adapter", "kwargs", "dropped"), CASES, ids=[c[0] for c in CASES])
def test_fixture_content_is_counted_and_never_copied(
    name: str, adapter: Callable[..., UsageEvent], kwargs: dict[str, Any], dropped: int
) -> None:
    payload = load(name)
    assert SECRET in json.dumps(payload)  # the fixture really carries content
    before = copy.deepcopy(payload)
    event = adapter(payload, **kwargs)
    assert event.content_fields_dropped == dropped
    assert event.to_row()["content_fields_dropped"] == dropped
    assert_no_content(event)
    assert payload == before  # adapters never mutate the caller's payload


# --- OpenAI -----------------------------------------------------------------------------------------


def test_openai_chat_completion_maps_tokens_and_ids() -> None:
    event = from_openai(load("openai_chat_completion"), workload="support-bot", team="cx")
    assert tokens(event) == (1117, 46, 1024, 0, 0)
    assert (event.provider, event.tier, event.model) == ("openai", Tier.CLOSED_API, "gpt-4o-2024-08-06")
    assert event.event_id == event.response_id == "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"
    assert (event.workload, event.team, event.operation) == ("support-bot", "cx", "chat")
    assert event.tags is None  # the default service tier is not worth a tag


def test_openai_responses_api_maps_reasoning_and_flex_tier() -> None:
    event = from_openai(load("openai_responses"), workload="billing")
    assert tokens(event) == (3620, 1187, 2560, 0, 1024)
    assert event.model == "o3-2025-04-16"
    assert event.service_tier == "flex" and event.tags is None


def test_openai_batch_line_is_batch_priced() -> None:
    event = from_openai(load("openai_batch_output_line"), workload="triage")
    assert event.batch is True
    assert event.request_id == "req_c187b3b5b4c7e0b3b5e1f2a9d8c7b6a5"
    assert tokens(event) == (412, 17, 0, 0, 0)


def test_openai_embeddings_have_no_output() -> None:
    event = from_openai(load("openai_embeddings"), workload="indexer")
    assert (event.operation, event.input_tokens, event.output_tokens) == ("embeddings", 8, 0)


def test_openai_usage_object_alone_needs_a_model() -> None:
    usage = load("openai_chat_completion")["usage"]
    assert from_openai(usage, workload="w", model="gpt-4o").input_tokens == 1117
    with pytest.raises(ContractError) as info:
        from_openai(usage, workload="w")
    assert (info.value.field, info.value.reason) == ("model", "is required")


def test_openai_response_without_usage_is_rejected_unless_it_failed() -> None:
    payload = load("openai_chat_completion")
    del payload["usage"]
    with pytest.raises(ContractError) as info:
        from_openai(payload, workload="w")
    assert info.value.field == "usage"
    failed = from_openai(payload, workload="w", status="error", error_type="timeout")
    assert (failed.status, failed.error_type, failed.input_tokens, failed.output_tokens) == ("error", "timeout", 0, 0)


def test_keywords_override_the_payload_and_tags_merge() -> None:
    when = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    event = from_openai(
        load("openai_responses"),
        workload="w",
        model="o3",
        event_id="my-id",
        event_time=when,
        provider="azure",
        tags={"region": "eu"},
        duration_ms=930.0,
        ttft_ms=210.0,
        shadow=True,
    )
    assert (event.model, event.event_id, event.event_time) == ("o3", "my-id", when)
    assert (event.provider, event.tier) == ("azure", Tier.CLOSED_API)
    assert event.tags == {"region": "eu"} and event.service_tier == "flex"
    assert (event.duration_ms, event.ttft_ms, event.shadow) == (930.0, 210.0, True)


def test_default_event_time_is_now_in_utc() -> None:
    before = datetime.now(UTC)
    event = from_openai(load("openai_chat_completion"), workload="w")
    assert before <= event.event_time <= datetime.now(UTC)


def test_event_id_falls_back_to_a_fresh_uuid() -> None:
    first = from_openai(load("openai_embeddings"), workload="w")
    second = from_openai(load("openai_embeddings"), workload="w")
    assert first.event_id != second.event_id and len(first.event_id) == 36


def test_missing_workload_and_misspelt_keywords_are_errors() -> None:
    with pytest.raises(ContractError) as info:
        from_openai(load("openai_chat_completion"))
    assert (info.value.field, info.value.reason) == ("workload", "is required")
    with pytest.raises(TypeError, match="workoad"):
        from_openai(load("openai_chat_completion"), workoad="w")  # type: ignore[call-arg]


def test_bad_counts_in_a_payload_name_the_contract_field() -> None:
    payload = load("openai_chat_completion")
    payload["usage"]["prompt_tokens_details"]["cached_tokens"] = 5000
    with pytest.raises(ContractError) as info:
        from_openai(payload, workload="w")
    assert info.value.field == "cached_input_tokens"


# --- Anthropic --------------------------------------------------------------------------------------


def test_anthropic_input_adds_cache_reads_and_writes() -> None:
    event = from_anthropic(load("anthropic_message"), workload="renewals")
    # 21 uncached + 12000 read + 1888 written
    assert tokens(event) == (13909, 503, 12000, 1888, 0)
    assert (event.provider, event.tier, event.model) == ("anthropic", Tier.CLOSED_API, "claude-sonnet-4-20250514")
    assert event.event_id == "msg_013Zva2CMHLNnXjNJJKqJ2EF"
    assert event.batch is False


def test_anthropic_batch_result_is_batch_priced() -> None:
    event = from_anthropic(load("anthropic_batch_result"), workload="legal")
    assert (event.batch, event.input_tokens, event.output_tokens) == (True, 2961, 244)


def test_anthropic_usage_object_alone_and_priority_tier() -> None:
    usage = {"input_tokens": 50, "output_tokens": 7, "cache_read_input_tokens": 100, "service_tier": "priority"}
    event = from_anthropic(usage, workload="w", model="claude-opus-4-1")
    assert tokens(event) == (150, 7, 100, 0, 0)
    assert event.service_tier == "priority" and event.tags is None


def test_anthropic_one_hour_cache_writes_and_fast_speed() -> None:
    usage = {
        "input_tokens": 20,
        "output_tokens": 5,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 3000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
        "service_tier": "standard",
        "speed": "fast",
    }
    event = from_anthropic({"id": "msg_1", "model": "claude-opus-4-7", "usage": usage}, workload="w")
    assert (event.input_tokens, event.cache_creation_input_tokens, event.cache_creation_1h_input_tokens) == (3020, 3000, 2000)
    assert event.service_tier == "fast"
    # only the split reported: the writes are its sum
    split_only = {**usage, "cache_creation_input_tokens": None, "speed": None}
    event = from_anthropic(split_only, workload="w", model="claude-opus-4-7")
    written = (event.cache_creation_input_tokens, event.cache_creation_1h_input_tokens)
    assert written == (3000, 2000) and event.service_tier == "standard"


@pytest.mark.parametrize(
    ("reported", "stored"),
    [
        ("default", "standard"),
        ("auto", "standard"),
        ("priority", "priority"),
        ("flex", "flex"),
        ("fast", "fast"),
        ("ultrafast", "ultrafast"),
        ("Scale", "scale"),
        (None, None),
    ],
)
def test_openai_service_tier_is_kept_for_pricing(reported: str | None, stored: str | None) -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-5",
        "service_tier": reported,
        "usage": {"prompt_tokens": 10, "completion_tokens": 2},
    }
    assert from_openai(body, workload="w").service_tier == stored


# --- Gemini -----------------------------------------------------------------------------------------


def test_gemini_thoughts_are_billed_as_output() -> None:
    event = from_gemini(load("gemini_generate_content"), workload="inventory")
    assert tokens(event) == (2087, 312 + 924, 2048, 0, 924)
    assert (event.provider, event.model, event.operation) == ("google", "gemini-2.5-flash", "generate_content")
    assert event.event_id == "mTn_aKeZN9ukz7IP-aKQ8Qw"


def test_gemini_tool_use_prompt_counts_as_input_and_missing_candidates_as_zero() -> None:
    meta = {
        "promptTokenCount": 100,
        "toolUsePromptTokenCount": 40,
        "totalTokenCount": 140,
        "trafficType": "PROVISIONED_THROUGHPUT",
    }
    event = from_gemini({"usageMetadata": meta, "modelVersion": "gemini-2.5-pro"}, workload="w")
    assert (event.input_tokens, event.output_tokens) == (140, 0)
    assert event.tags == {"traffic_type": "PROVISIONED_THROUGHPUT"}


# --- OpenAI-compatible servers ----------------------------------------------------------------------


def test_vllm_is_self_hosted_and_needs_a_deployment() -> None:
    payload = load("vllm_chat_completion")
    event = from_openai_compatible(payload, workload="sql-helper", provider="vllm", deployment="gke-a100-pool")
    assert (event.tier, event.deployment, event.model) == (
        Tier.SELF_HOSTED,
        "gke-a100-pool",
        "meta-llama/Llama-3.1-8B-Instruct",
    )
    assert tokens(event) == (512, 128, 384, 0, 0)
    with pytest.raises(ContractError) as info:
        from_openai_compatible(payload, workload="sql-helper", provider="vllm")
    assert info.value.field == "deployment"


def test_groq_is_hosted_open_and_keeps_its_request_id() -> None:
    event = from_openai_compatible(load("groq_chat_completion"), workload="agent", provider="groq")
    assert (event.tier, event.provider) == (Tier.HOSTED_OPEN_API, "groq")
    assert event.request_id == "req_01jbd6g2qdfw2adyrt2az8hz4w"
    assert tokens(event) == (18, 556, 0, 0, 0)


def test_openai_compatible_provider_resolution() -> None:
    payload = load("groq_chat_completion")
    with pytest.raises(ContractError) as info:
        from_openai_compatible(payload, workload="w")
    assert info.value.field == "provider"
    assert from_openai_compatible(payload, workload="w", provider="together_ai").provider == "together"
    with pytest.raises(ContractError) as info:
        from_openai_compatible(payload, workload="w", provider="acme-llm")
    assert info.value.field == "tier"
    assert (
        from_openai_compatible(payload, workload="w", provider="acme-llm", tier="hosted_open_api").tier == Tier.HOSTED_OPEN_API
    )


# --- OpenTelemetry OTLP/JSON ------------------------------------------------------------------------


def otlp_results(**defaults: Any) -> list[UsageEvent | SpanError]:
    return list(events_from_otlp_json(load("otlp_genai_traces"), **defaults))


def test_otlp_yields_inference_spans_only_in_order() -> None:
    results = otlp_results()
    kinds = [type(r).__name__ for r in results]
    # http span and invoke_agent span (which repeats its child's tokens) are skipped
    assert kinds == ["UsageEvent", "UsageEvent", "UsageEvent", "SpanError", "UsageEvent"]
    ids = [r.event_id for r in results if isinstance(r, UsageEvent)]
    assert ids.count("chatcmpl-9J3uIL87gldCFtiIbyaOvTeYBRA3l") == 1


def test_otlp_current_conventions_span() -> None:
    event = otlp_results()[0]
    assert isinstance(event, UsageEvent)
    assert tokens(event) == (1117, 46, 1024, 0, 0)  # intValue as string and as number
    assert (event.provider, event.model, event.tier) == ("openai", "gpt-4o-2024-08-06", Tier.CLOSED_API)
    assert event.event_time == datetime(2025, 6, 2, 11, 0, 0, 812500, tzinfo=UTC)
    assert event.duration_ms == 812.5
    assert (event.workload, event.team, event.environment) == ("support-bot", "customer-experience", "staging")
    assert event.tags == {"feature": "order-status"}
    assert event.deployment is None  # api.openai.com is a vendor, not our deployment
    assert event.content_fields_dropped == 3
    assert_no_content(event)


def test_otlp_legacy_attributes_and_span_identity() -> None:
    event = otlp_results()[1]
    assert isinstance(event, UsageEvent)
    # prompt_tokens (310) cannot include 2048 cache reads: they are added
    assert tokens(event) == (2358, 95, 2048, 0, 0)
    assert event.provider == "anthropic" and event.model == "claude-3-5-haiku-20241022"
    assert event.event_id == "otel:0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331"
    assert event.content_fields_dropped == 4  # prompt.0.role, prompt.0.content, completion.0.content, event
    assert_no_content(event)


def test_otlp_failed_span_is_an_error_event() -> None:
    event = otlp_results()[2]
    assert isinstance(event, UsageEvent)
    assert (event.status, event.error_type, event.input_tokens, event.output_tokens) == ("error", "rate_limit_error", 0, 0)


def test_otlp_bad_span_reports_its_position() -> None:
    error = otlp_results()[3]
    assert isinstance(error, SpanError) and isinstance(error, ContractError)
    assert (error.index, error.field, error.reason) == (5, "output_tokens", "must be >= 0 (got -3)")
    assert (error.trace_id, error.span_id) == ("0af7651916cd43dd8448eb211c80319e", "b7ad6b7169203333")
    assert str(error) == ("span 5 'chat claude-sonnet-4' (span_id b7ad6b7169203333): output_tokens: must be >= 0 (got -3)")


def test_otlp_self_hosted_span_takes_deployment_from_server_address() -> None:
    event = otlp_results()[4]
    assert isinstance(event, UsageEvent)
    assert (event.tier, event.deployment) == (Tier.SELF_HOSTED, "vllm-llama.internal:8000")
    assert event.provider == "openai_compatible"  # the OpenAI SDK, pointed at our own server
    assert (event.workload, event.shadow) == ("rag-answering", True)  # tierwise.* beats service.name


def test_otlp_keywords_only_fill_what_the_document_does_not_say() -> None:
    results = [r for r in otlp_results(team="platform", environment="dev", workload="replayed") if isinstance(r, UsageEvent)]
    # first resource: tierwise.team, deployment.environment.name and service.name all present
    assert (results[0].team, results[0].environment, results[0].workload) == ("customer-experience", "staging", "support-bot")
    # second resource: only service.name / tierwise.workload
    assert (results[-1].team, results[-1].environment, results[-1].workload) == ("platform", "dev", "rag-answering")


def test_otlp_document_level_errors_raise() -> None:
    assert [type(r) for r in events_from_otlp_json(json.dumps(load("otlp_genai_traces")).encode())]
    with pytest.raises(ContractError) as info:
        list(events_from_otlp_json(b"{not json"))
    assert info.value.field == "<json>"
    with pytest.raises(ContractError) as info:
        list(events_from_otlp_json({"resourceSpans": {"oops": 1}}))
    assert info.value.field == "<root>"
    with pytest.raises(TypeError):
        list(events_from_otlp_json(load("otlp_genai_traces"), event_id="x"))  # type: ignore[call-arg]


def test_otlp_span_without_usage_or_end_time_is_reported() -> None:
    doc = load("otlp_genai_traces")
    span = doc["resourceSpans"][0]["scopeSpans"][1]["spans"][0]
    span["attributes"] = [a for a in span["attributes"] if not a["key"].startswith("gen_ai.usage.")]
    other = doc["resourceSpans"][1]["scopeSpans"][0]["spans"][0]
    del other["endTimeUnixNano"]
    errors = [r for r in events_from_otlp_json(doc) if isinstance(r, SpanError)]
    assert [(e.index, e.field) for e in errors] == [
        (1, "gen_ai.usage.input_tokens"),
        (5, "output_tokens"),
        (6, "endTimeUnixNano"),
    ]


# --- LiteLLM ----------------------------------------------------------------------------------------


def test_litellm_payload_maps_tokens_times_and_attribution() -> None:
    event = from_litellm_payload(load("litellm_standard_logging_payload"))
    assert tokens(event) == (2310, 120, 2048, 200, 0)
    assert (event.provider, event.tier, event.model) == ("anthropic", Tier.CLOSED_API, "claude-3-5-haiku-20241022")
    assert event.event_id == "chatcmpl-2299b6a2-82a3-465a-b47c-04e685a2227f"
    assert event.event_time == datetime(2025, 6, 2, 11, 0, 2, 625000, tzinfo=UTC)
    assert (event.duration_ms, event.ttft_ms) == (2500.0, 420.0)
    assert (event.workload, event.team) == ("ticket-summarizer", "customer-experience")
    assert event.tags == {"env": "prod", "beta": "true", "litellm_model_group": "claude-haiku"}


def test_litellm_keywords_win_and_key_alias_is_the_workload_fallback() -> None:
    payload = load("litellm_standard_logging_payload")
    assert from_litellm_payload(payload, workload="override").workload == "override"
    payload["metadata"]["spend_logs_metadata"] = None
    assert from_litellm_payload(payload).workload == "support-bot-prod"


@pytest.mark.parametrize(
    ("provider", "api_base", "expected"),
    [
        ("hosted_vllm", "http://vllm-a.internal:8000/v1", ("vllm", Tier.SELF_HOSTED, "vllm-a.internal:8000")),
        ("openai", "http://10.1.2.3:30000/v1", ("openai_compatible", Tier.SELF_HOSTED, "10.1.2.3:30000")),
        ("openai", "https://api.together.xyz/v1", ("together", Tier.HOSTED_OPEN_API, None)),
        ("openai", "https://api.openai.com/v1", ("openai", Tier.CLOSED_API, None)),
        ("fireworks_ai", "https://api.fireworks.ai/inference/v1", ("fireworks", Tier.HOSTED_OPEN_API, None)),
        ("vertex_ai", None, ("google", Tier.CLOSED_API, None)),
        ("azure", "https://acme-eu.openai.azure.com", ("azure", Tier.CLOSED_API, None)),
    ],
)
def test_litellm_provider_and_tier_routing(provider: str, api_base: str | None, expected: tuple[Any, ...]) -> None:
    payload = load("litellm_standard_logging_payload")
    payload["custom_llm_provider"] = provider
    payload["api_base"] = api_base
    payload["hidden_params"]["api_base"] = api_base
    event = from_litellm_payload(payload)
    assert (event.provider, event.tier, event.deployment) == expected


def test_litellm_hosted_vllm_without_api_base_needs_a_deployment() -> None:
    payload = load("litellm_standard_logging_payload")
    payload.update(custom_llm_provider="hosted_vllm", api_base="")
    payload["hidden_params"]["api_base"] = None
    with pytest.raises(ContractError) as info:
        from_litellm_payload(payload)
    assert info.value.field == "deployment"
    assert from_litellm_payload(payload, deployment="gpu-pool-b").deployment == "gpu-pool-b"


def test_litellm_failure_and_cache_hit() -> None:
    payload = load("litellm_standard_logging_payload")
    payload.update(status="failure", cache_hit=True, completion_tokens=0)
    payload["error_information"]["error_class"] = "RateLimitError"
    event = from_litellm_payload(payload)
    assert (event.status, event.error_type) == ("error", "RateLimitError")
    assert event.tags is not None and event.tags["litellm_cache_hit"] == "true"


@pytest.mark.parametrize(
    ("prompt_tokens", "meaning"),
    [(2310, "includes reads and writes"), (2110, "includes reads only"), (62, "Anthropic's own: neither")],
)
def test_litellm_prompt_tokens_of_any_version_give_the_same_input(prompt_tokens: int, meaning: str) -> None:
    # 62 uncached + 2048 cache reads + 200 cache writes = 2310, however LiteLLM reported it.
    payload = load("litellm_standard_logging_payload")
    payload["prompt_tokens"] = prompt_tokens
    event = from_litellm_payload(payload)
    assert tokens(event)[:4] == (2310, 120, 2048, 200), meaning


def test_litellm_spend_log_row() -> None:
    event = from_litellm_spend_log(load("litellm_spend_log_row"))
    assert (event.provider, event.tier) == ("together", Tier.HOSTED_OPEN_API)
    assert event.model == "meta-llama/Llama-3.3-70B-Instruct-Turbo"  # provider prefix removed
    assert event.event_time == datetime(2025, 6, 2, 10, 15, 4, 870000, tzinfo=UTC)  # naive text is UTC
    assert (event.duration_ms, event.ttft_ms) == pytest.approx((1750.0, 420.0))
    assert (event.workload, event.team) == ("rag-service", "team-42")
    assert event.tags == {"feature": "search", "litellm_model_group": "llama-70b"}
    assert tokens(event) == (1200, 90, 0, 0, 0)
    assert event.event_id == event.request_id == "chatcmpl-9b3c4d5e-6f70-4812-9a3b-c4d5e6f70812"


def test_litellm_spend_log_json_text_columns_and_missing_end() -> None:
    row = load("litellm_spend_log_row")
    row["metadata"] = json.dumps(row["metadata"])
    row["request_tags"] = json.dumps(row["request_tags"])
    event = from_litellm_spend_log(row)
    assert event.workload == "rag-service" and event.tags == {"feature": "search", "litellm_model_group": "llama-70b"}
    del row["endTime"]
    with pytest.raises(ContractError) as info:
        from_litellm_spend_log(row)
    assert info.value.field == "endTime"


# --- the provider map -------------------------------------------------------------------------------


def test_provider_tier_map() -> None:
    assert {p for p, t in PROVIDER_TIERS.items() if t is Tier.CLOSED_API} >= {"openai", "anthropic", "google"}
    assert {p for p, t in PROVIDER_TIERS.items() if t is Tier.HOSTED_OPEN_API} >= {"together", "fireworks", "groq"}
    assert tier_for("hosted_vllm") is Tier.SELF_HOSTED
    assert tier_for("GCP.Gemini") is Tier.CLOSED_API
    assert tier_for("bedrock") is None  # serves both closed and open models: the caller must say
    assert canonical_provider(" Together_AI ") == "together"


def test_endpoints() -> None:
    assert endpoint_host("http://10.0.0.5:8000/v1") == "10.0.0.5:8000"
    assert endpoint_host("vllm-b.internal") == "vllm-b.internal"
    assert provider_for_endpoint("https://api.groq.com/openai/v1") == "groq"
    assert provider_for_endpoint("https://us-central1-aiplatform.googleapis.com/v1") == "google"
    assert provider_for_endpoint("https://acme-eu.openai.azure.com/openai") == "azure"
    assert provider_for_endpoint("http://gpu-box:8000") is None


# --- service tier and 1-hour cache writes on every path ---------------------------------------------


def test_litellm_payload_carries_service_tier_and_one_hour_writes() -> None:
    payload = copy.deepcopy(load("litellm_standard_logging_payload"))
    payload["hidden_params"]["usage_object"]["cache_creation"] = {
        "ephemeral_5m_input_tokens": 50,
        "ephemeral_1h_input_tokens": 150,
    }
    payload["response"] = {"service_tier": "flex"}  # as OpenAI returns it, beside the usage
    event = from_litellm_payload(payload)
    assert (event.cache_creation_input_tokens, event.cache_creation_1h_input_tokens) == (200, 150)
    assert event.service_tier == "flex"
    # a tier in the usage object wins; Anthropic's speed "fast" is the fast tier
    payload["hidden_params"]["usage_object"]["speed"] = "fast"
    assert from_litellm_payload(payload).service_tier == "fast"


def test_litellm_spend_log_row_carries_service_tier_from_the_request() -> None:
    row = copy.deepcopy(load("litellm_spend_log_row"))
    row["model_parameters"] = {"service_tier": "priority", "temperature": 0.2}
    assert from_litellm_spend_log(row).service_tier == "priority"
    assert from_litellm_spend_log(load("litellm_spend_log_row")).service_tier is None


def test_otlp_span_carries_openai_response_service_tier_and_one_hour_writes() -> None:
    doc = load("otlp_genai_traces")
    span = doc["resourceSpans"][0]["scopeSpans"][1]["spans"][0]  # the first inference span
    span["attributes"] += [
        {"key": "openai.response.service_tier", "value": {"stringValue": "flex"}},
        {"key": "gen_ai.usage.cache_creation.input_tokens", "value": {"intValue": "40"}},
        {"key": "tierwise.cache_creation_1h_input_tokens", "value": {"intValue": "30"}},
    ]
    event = next(r for r in events_from_otlp_json(doc) if isinstance(r, UsageEvent))
    assert event.service_tier == "flex"
    assert (event.cache_creation_input_tokens, event.cache_creation_1h_input_tokens) == (40, 30)
    plain = next(r for r in otlp_results() if isinstance(r, UsageEvent))
    assert plain.service_tier is None and plain.cache_creation_1h_input_tokens == 0


def test_one_hour_writes_cannot_exceed_the_cache_writes() -> None:
    usage = {
        "input_tokens": 1,
        "output_tokens": 1,
        "cache_creation_input_tokens": 10,
        "cache_creation": {"ephemeral_1h_input_tokens": 11},
    }
    with pytest.raises(ContractError) as info:
        from_anthropic(usage, workload="w", model="claude-opus-4-7")
    assert info.value.field == "cache_creation_1h_input_tokens"
