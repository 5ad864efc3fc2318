"""The adapters read what a Python user has in hand: the response objects the official SDKs return
(openai, anthropic, google-genai, litellm) and the spans OpenTelemetry's OpenAI instrumentation records.

No network: each SDK client talks to an httpx MockTransport that answers with the REST fixtures, so the
objects are parsed and built by the SDKs themselves. Content in the fixtures never reaches an event.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ingest.adapters import events_from_otlp_json, from_anthropic, from_gemini, from_openai, from_openai_compatible
from schemas import ContractError, Tier, UsageEvent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "payloads"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def answering(body: dict[str, Any], http: Any = httpx) -> Any:
    """An HTTP client whose every request gets `body` as a 200 JSON answer (`http`: the httpx package the
    SDK is built on; anthropic's is the httpx2 fork)."""
    return http.Client(transport=http.MockTransport(lambda _request: http.Response(200, json=body)))


def tokens(event: UsageEvent) -> tuple[int, int, int, int, int]:
    return (
        event.input_tokens,
        event.output_tokens,
        event.cached_input_tokens,
        event.cache_creation_input_tokens,
        event.reasoning_tokens,
    )


def no_content(event: UsageEvent) -> UsageEvent:
    assert "SECRET-" not in event.model_dump_json()
    return event


def openai_client(body: dict[str, Any]) -> openai.OpenAI:
    return openai.OpenAI(api_key="test", http_client=answering(body), max_retries=0)


def test_openai_chat_completion_object() -> None:
    body = fixture("openai_chat_completion")
    completion = openai_client(body).chat.completions.create(model="gpt-5.4", messages=[{"role": "user", "content": "x"}])
    assert type(completion).__name__ == "ChatCompletion"
    event = no_content(from_openai(completion, workload="w"))
    assert event.model == body["model"] and event.operation == "chat"
    assert event.input_tokens == body["usage"]["prompt_tokens"] and event.output_tokens == body["usage"]["completion_tokens"]
    assert event == from_openai(body, workload="w", event_id=event.event_id, event_time=event.event_time)
    # the usage object alone, as the SDK typed it
    assert tokens(from_openai(completion.usage, workload="w", model="gpt-5.4")) == tokens(event)


def test_openai_responses_object() -> None:
    body = fixture("openai_responses")
    response = openai_client(body).responses.create(model="gpt-5.4", input="x")
    assert type(response).__name__ == "Response"
    event = no_content(from_openai(response, workload="w"))
    assert event.input_tokens == body["usage"]["input_tokens"] and event.response_id == body["id"]
    assert event.reasoning_tokens == body["usage"]["output_tokens_details"]["reasoning_tokens"]


def test_openai_compatible_object_from_a_vllm_server() -> None:
    body = fixture("vllm_chat_completion")
    client = openai.OpenAI(api_key="x", base_url="http://gpu-1:8000/v1", http_client=answering(body), max_retries=0)
    completion = client.chat.completions.create(model=body["model"], messages=[{"role": "user", "content": "x"}])
    event = no_content(from_openai_compatible(completion, provider="vllm", deployment="gpu-1", workload="w"))
    assert event.tier == Tier.SELF_HOSTED and event.input_tokens == body["usage"]["prompt_tokens"]


def anthropic_message(**usage_extra: Any) -> tuple[dict[str, Any], Any]:
    body = fixture("anthropic_message")
    body["usage"] = {**body["usage"], **usage_extra}
    http = sys.modules[anthropic.DefaultHttpxClient.__mro__[1].__module__.split(".")[0]]
    client = anthropic.Anthropic(api_key="test", http_client=answering(body, http), max_retries=0)
    message = client.messages.create(model=body["model"], max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert type(message).__name__ == "Message"
    return body, message


def test_anthropic_message_object_and_its_thinking_tokens() -> None:
    body, message = anthropic_message()
    event = no_content(from_anthropic(message, workload="w"))
    usage = body["usage"]
    read, written = usage.get("cache_read_input_tokens") or 0, usage.get("cache_creation_input_tokens") or 0
    assert event.input_tokens == usage["input_tokens"] + read + written and event.reasoning_tokens == 0
    # Extended thinking: billed inside output_tokens, reported apart when the API says how many.
    _, thinking = anthropic_message(output_tokens=900, output_tokens_details={"thinking_tokens": 200})
    event = no_content(from_anthropic(thinking, workload="w"))
    assert (event.output_tokens, event.reasoning_tokens) == (900, 200)
    assert from_anthropic(thinking.model_dump(), workload="w").reasoning_tokens == 200  # the dict form too


def gemini_response() -> tuple[dict[str, Any], genai_types.GenerateContentResponse]:
    body = fixture("gemini_generate_content")
    client = genai.Client(api_key="test", http_options=genai_types.HttpOptions(httpx_client=answering(body)))
    response = client.models.generate_content(model="gemini-3.1-pro", contents="x")
    assert isinstance(response, genai_types.GenerateContentResponse)
    return body, response


def test_gemini_response_object_and_its_snake_case_dumps() -> None:
    body, response = gemini_response()
    expected = from_gemini(body, workload="w")
    meta = body["usageMetadata"]
    assert expected.input_tokens == meta["promptTokenCount"] + (meta.get("toolUsePromptTokenCount") or 0)
    same = {"event_id": expected.event_id, "event_time": expected.event_time}
    # the object itself, and both of its own dumps (snake_case keys), read as the REST JSON is
    assert no_content(from_gemini(response, workload="w", **same)) == expected
    assert from_gemini(response.model_dump(), workload="w", **same) == expected
    assert from_gemini(response.to_json_dict(), workload="w", **same) == expected
    assert from_gemini(response.model_dump(by_alias=True), workload="w", **same) == expected
    assert tokens(from_gemini(response.usage_metadata, workload="w", model="gemini-3.1-pro")) == tokens(expected)


def test_litellm_model_response_object() -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no download of LiteLLM's price map at import
    import litellm

    body = fixture("groq_chat_completion")
    response = litellm.ModelResponse(**body)
    event = no_content(from_openai_compatible(response, provider="groq", workload="w"))
    assert event.tier == Tier.HOSTED_OPEN_API and event.input_tokens == body["usage"]["prompt_tokens"]
    assert event.output_tokens == body["usage"]["completion_tokens"]


def test_something_that_is_no_response_is_a_contract_error_not_an_attribute_error() -> None:
    with pytest.raises(ContractError, match="cannot read a object"):
        from_openai(object(), workload="w")  # type: ignore[arg-type]


# --- OpenTelemetry: spans as the OpenAI instrumentation records them, exported as OTLP/JSON -------------


@pytest.fixture
def traced() -> Iterator[Callable[[], dict[str, Any]]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)

    def export() -> dict[str, Any]:
        # OTLP/JSON as a collector's file exporter writes it (ids as hex, not protobuf's base64)
        doc = MessageToDict(encode_spans(exporter.get_finished_spans()))
        for rs in doc.get("resourceSpans", []):
            for scope in rs.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in span:
                            import base64

                            span[key] = base64.b64decode(span[key]).hex()
        return doc

    try:
        yield export
    finally:
        instrumentor.uninstrument()


def test_instrumented_embeddings_spans_carry_input_tokens_only_and_become_events(
    traced: Callable[[], dict[str, Any]],
) -> None:
    body = fixture("openai_embeddings")
    openai_client(body).embeddings.create(model="text-embedding-3-small", input="SECRET-text")
    doc = traced()
    spans = [s for rs in doc["resourceSpans"] for sc in rs["scopeSpans"] for s in sc["spans"]]
    attrs = {a["key"] for a in spans[0]["attributes"]}
    assert "gen_ai.usage.input_tokens" in attrs and "gen_ai.usage.output_tokens" not in attrs  # the convention
    [event] = list(events_from_otlp_json(doc, workload="w"))
    assert isinstance(event, UsageEvent), event
    assert (event.input_tokens, event.output_tokens, event.operation) == (body["usage"]["prompt_tokens"], 0, "embeddings")
    assert event.provider == "openai" and event.tier == Tier.CLOSED_API


def test_instrumented_chat_span_becomes_the_same_event_as_the_response(traced: Callable[[], dict[str, Any]]) -> None:
    body = fixture("openai_chat_completion")
    openai_client(body).chat.completions.create(model="gpt-5.4", messages=[{"role": "user", "content": "SECRET-q"}])
    [event] = list(events_from_otlp_json(traced(), workload="w"))
    assert isinstance(event, UsageEvent), event
    direct = from_openai(body, workload="w")
    # This instrumentation records input and output tokens but not the cached share of the input.
    assert (event.input_tokens, event.output_tokens, event.response_id) == (
        direct.input_tokens,
        direct.output_tokens,
        body["id"],
    )
    assert no_content(event).provider == "openai" and event.tier == Tier.CLOSED_API


def bedrock_span(model: str) -> dict[str, Any]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("botocore").start_as_current_span("chat " + model) as span:
        span.set_attributes(
            {
                "gen_ai.system": "aws.bedrock",
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": model,
                "gen_ai.usage.input_tokens": 120,
                "gen_ai.usage.output_tokens": 30,
            }
        )
    return MessageToDict(encode_spans(exporter.get_finished_spans()))


@pytest.mark.parametrize(
    ("model", "tier"),
    [
        ("anthropic.claude-sonnet-4-6-v1:0", Tier.CLOSED_API),
        ("us.anthropic.claude-sonnet-4-6-v1:0", Tier.CLOSED_API),
        ("amazon.nova-pro-v1:0", Tier.CLOSED_API),
        ("meta.llama4-maverick-17b-instruct-v1:0", Tier.HOSTED_OPEN_API),
        ("qwen.qwen3-32b-v1:0", Tier.HOSTED_OPEN_API),
    ],
)
def test_a_bedrock_span_gets_its_tier_from_the_model_it_served(model: str, tier: Tier) -> None:
    [event] = list(events_from_otlp_json(bedrock_span(model), workload="w"))
    assert isinstance(event, UsageEvent), event
    assert (event.provider, event.tier, event.input_tokens, event.output_tokens) == ("bedrock", tier, 120, 30)
