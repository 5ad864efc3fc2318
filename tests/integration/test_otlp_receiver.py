"""`tierwise ingest otlp` on loopback: the real OpenTelemetry SDK exports GenAI spans (OTLP/HTTP protobuf and JSON)
to the receiver, which sends usage events to the real broker; bad bodies get a 400 that says why."""

from __future__ import annotations

import gzip
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.emitter import TelemetryEmitter
from ingest.otlp_receiver import OtlpReceiver
from ingest.spill import SpillStore
from schemas import parse_usage
from streaming.broker import free_port
from streaming.dlq import CONNECTOR, EXCEPTION_MESSAGE, header_dict
from tests.factories import read_topic, wait_for

pytestmark = pytest.mark.kafka


class Running:
    def __init__(self, receiver: OtlpReceiver) -> None:
        self.receiver = receiver
        self.thread = threading.Thread(target=receiver.run, name="otlp-receiver", daemon=True)
        self.thread.start()
        wait_for(lambda: receiver.started, 30, "receiver started")

    @property
    def url(self) -> str:
        return self.receiver.url

    def stop(self) -> None:
        self.receiver.stop()
        self.thread.join(60)
        assert not self.thread.is_alive()


@pytest.fixture
def receiver(kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path) -> Iterator[Running]:
    emitter = TelemetryEmitter(kafka_bootstrap, fresh_topics["usage"], fresh_topics["gpu"], tmp_path / "spill")
    running = Running(OtlpReceiver(emitter, "127.0.0.1", 0, dead_letter_topic=fresh_topics["usage_dlq"], team="platform"))
    yield running
    if running.thread.is_alive():
        running.stop()


def export_genai_spans(exporter: Any) -> None:
    """Three GenAI inference spans, an agent span wrapping them and an HTTP span, through the SDK's batch processor."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import Status, StatusCode

    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot", "deployment.environment.name": "prod"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    with tracer.start_as_current_span("invoke_agent triage", attributes={"gen_ai.operation.name": "invoke_agent"}):
        with tracer.start_as_current_span(
            "chat gpt-5.4",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-5.4",
                "gen_ai.response.model": "gpt-5.4-2026-03-01",
                "gen_ai.response.id": "chatcmpl-otlp-1",
                "gen_ai.usage.input_tokens": 1234,
                "gen_ai.usage.output_tokens": 56,
                "gen_ai.usage.cache_read.input_tokens": 200,
                "gen_ai.input.messages": '[{"role": "user", "content": "never stored"}]',
            },
        ):
            pass
        with tracer.start_as_current_span(
            "chat claude",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "anthropic",
                "gen_ai.request.model": "claude-sonnet-4-6",
                "gen_ai.response.id": "msg-otlp-2",
                "gen_ai.usage.input_tokens": 9000,
                "gen_ai.usage.output_tokens": 700,
                "tierwise.workload": "triage-agent",
            },
        ):
            pass
        with tracer.start_as_current_span(
            "chat llama",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "meta-llama/Llama-3.3-70B-Instruct",
                "server.address": "10.0.0.5",
                "server.port": 8000,
                "error.type": "timeout",
            },
        ) as failed:
            failed.set_status(Status(StatusCode.ERROR))
        with tracer.start_as_current_span("GET /kb/search", attributes={"http.request.method": "GET"}):
            pass
    assert provider.force_flush(30_000)
    provider.shutdown()


def check_landed(bootstrap: str, topic: str) -> None:
    records = read_topic(bootstrap, topic, 3)
    assert not any(b"never stored" in m.value for m in records)  # the prompt attribute was dropped
    events = {e.response_id or e.event_id: e for e in (parse_usage(m.value) for m in records)}
    assert len(events) == 3
    gpt = events["chatcmpl-otlp-1"]
    assert (gpt.input_tokens, gpt.output_tokens, gpt.cached_input_tokens) == (1234, 56, 200)
    assert (gpt.workload, gpt.team, gpt.tier.value) == ("support-bot", "platform", "closed_api")
    assert gpt.model == "gpt-5.4-2026-03-01"
    claude = events["msg-otlp-2"]
    assert (claude.input_tokens, claude.output_tokens) == (9000, 700)
    assert (claude.workload, claude.provider) == ("triage-agent", "anthropic")
    (failed,) = [e for e in events.values() if e.status == "error"]
    assert (failed.error_type, failed.input_tokens, failed.output_tokens) == ("timeout", 0, 0)
    assert failed.event_id.startswith("otel:") and len(failed.event_id.split(":")[1]) == 32  # hex trace id


def test_sdk_protobuf_export_with_gzip_lands_exact_token_counts(
    receiver: Running, kafka_bootstrap: str, fresh_topics: dict[str, str]
) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    export_genai_spans(OTLPSpanExporter(endpoint=f"{receiver.url}/v1/traces", compression=Compression.Gzip, timeout=30))
    receiver.stop()  # the shutdown flushes the emitter: everything is acknowledged once run() returned
    stats = receiver.receiver.emitter.stats()
    assert (stats.sent, stats.spilled, stats.queued) == (3, 0, 0)
    snap = receiver.receiver.counters.snapshot()
    assert {k: snap[k] for k in ("received", "mapped", "ignored", "invalid", "bad_requests")} == {
        "received": 5,
        "mapped": 3,
        "ignored": 2,
        "invalid": 0,
        "bad_requests": 0,
    }
    check_landed(kafka_bootstrap, fresh_topics["usage"])


def test_sdk_json_export_lands_the_same_events(receiver: Running, kafka_bootstrap: str, fresh_topics: dict[str, str]) -> None:
    from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter

    export_genai_spans(OTLPSpanExporter(endpoint=f"{receiver.url}/v1/traces", timeout=30))
    receiver.stop()
    assert receiver.receiver.counters.snapshot()["mapped"] == 3
    check_landed(kafka_bootstrap, fresh_topics["usage"])


def post(url: str, body: bytes, content_type: str, **headers: str) -> tuple[int, bytes, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type, **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers["Content-Type"]


def status_message(body: bytes, content_type: str) -> str:
    if content_type.startswith("application/x-protobuf"):
        from google.rpc.status_pb2 import Status

        status = Status()
        status.ParseFromString(body)
        return status.message
    return orjson.loads(body)["message"]


def test_bad_payloads_get_a_400_with_the_reason_and_the_receiver_keeps_serving(receiver: Running) -> None:
    url = f"{receiver.url}/v1/traces"
    cases = [
        (b"\xff\xff\xff\xff garbage", "application/x-protobuf", {}, 400, "not an OTLP ExportTraceServiceRequest protobuf"),
        (b'{"resourceSpans": [', "application/json", {}, 400, "body is not valid JSON"),
        (b'["not", "an", "object"]', "application/json", {}, 400, "must be a JSON object"),
        (b"\x1f\x8b\x08 not really gzip", "application/json", {"Content-Encoding": "gzip"}, 400, "not valid gzip"),
        (b"{}", "text/plain", {}, 415, "Content-Type must be application/x-protobuf or application/json"),
    ]
    for body, content_type, headers, code, reason in cases:
        status, answer, answer_type = post(url, body, content_type, **headers)
        assert status == code, (reason, answer)
        assert reason in status_message(answer, answer_type)
    # Still serving: a valid (empty) export after all of them.
    assert post(url, b"{}", "application/json")[0] == 200
    assert receiver.receiver.counters.snapshot()["bad_requests"] == len(cases)


def test_a_genai_span_without_tokens_is_rejected_as_partial_success(
    receiver: Running, kafka_bootstrap: str, fresh_topics: dict[str, str]
) -> None:
    def span(span_id: str, tokens: bool) -> dict[str, Any]:
        attributes = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}]
        attributes.append({"key": "gen_ai.request.model", "value": {"stringValue": "gpt-5.4"}})
        attributes.append({"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}})
        if tokens:
            attributes.append({"key": "gen_ai.usage.input_tokens", "value": {"intValue": "10"}})
            attributes.append({"key": "gen_ai.usage.output_tokens", "value": {"intValue": 3}})
        else:
            attributes.append({"key": "gen_ai.output.messages", "value": {"stringValue": "a completion never kept"}})
        return {
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": span_id,
            "name": "chat",
            "startTimeUnixNano": "1772452800000000000",
            "endTimeUnixNano": "1772452801000000000",
            "attributes": attributes,
        }

    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "faq"}}]},
                "scopeSpans": [{"spans": [span("eee19b7ec3c1b174", True), span("eee19b7ec3c1b175", False)]}],
            }
        ]
    }
    status, answer, _ = post(
        f"{receiver.url}/v1/traces", gzip.compress(orjson.dumps(doc)), "application/json", **{"Content-Encoding": "gzip"}
    )
    assert status == 200
    partial = orjson.loads(answer)["partialSuccess"]
    assert partial["rejectedSpans"] == "1"
    assert "span 1" in partial["errorMessage"] and "gen_ai.usage.input_tokens" in partial["errorMessage"]
    (landed,) = read_topic(kafka_bootstrap, fresh_topics["usage"], 1)
    event = parse_usage(landed.value)
    assert event.event_id == "otel:5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174"
    assert (event.input_tokens, event.output_tokens) == (10, 3)

    # The rejected span is dead-lettered with the reason, without its content attribute.
    (dead,) = read_topic(kafka_bootstrap, fresh_topics["usage_dlq"], 1)
    assert b"never kept" not in dead.value and b"gen_ai.output.messages" not in dead.value
    assert orjson.loads(dead.value)["spanId"] == "eee19b7ec3c1b175"
    headers = header_dict(dead.headers)
    assert headers[EXCEPTION_MESSAGE].startswith("span 1 'chat' (span_id eee19b7ec3c1b175): gen_ai.usage.input_tokens")
    assert headers[CONNECTOR] == "tierwise-otlp"

    with urllib.request.urlopen(f"{receiver.url}/metrics", timeout=30) as response:
        text = response.read().decode()
    assert 'tierwise_otlp_spans_total{outcome="mapped"} 1.0' in text
    assert 'tierwise_otlp_spans_total{outcome="invalid"} 1.0' in text
    assert "tierwise_otlp_spans_received_total 2.0" in text


def test_bearer_token_is_required_when_configured(kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path) -> None:
    emitter = TelemetryEmitter(kafka_bootstrap, fresh_topics["usage"], fresh_topics["gpu"], tmp_path / "spill")
    running = Running(OtlpReceiver(emitter, "127.0.0.1", 0, token="s3cret"))
    try:
        url = f"{running.url}/v1/traces"
        assert post(url, b"{}", "application/json")[0] == 401
        assert post(url, b"{}", "application/json", Authorization="Bearer wrong")[0] == 401
        assert post(url, b"{}", "application/json", Authorization="Bearer s3cret")[0] == 200
    finally:
        running.stop()


def test_with_kafka_away_accepted_spans_are_spilled_on_shutdown(fresh_topics: dict[str, str], tmp_path: Path) -> None:
    dead = f"127.0.0.1:{free_port()}"
    emitter = TelemetryEmitter(dead, fresh_topics["usage"], fresh_topics["gpu"], tmp_path / "spill", connect_grace_s=0.1)
    running = Running(OtlpReceiver(emitter, "127.0.0.1", 0, close_timeout_s=2))
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    export_genai_spans(OTLPSpanExporter(endpoint=f"{running.url}/v1/traces", timeout=30))
    running.stop()
    assert running.receiver.counters.snapshot()["mapped"] == 3
    store = SpillStore(tmp_path / "spill")
    chunk = store.read_chunk(max_records=100)
    assert chunk is not None
    spilled = sorted(parse_usage(line).input_tokens for line in chunk.lines)
    assert spilled == [0, 1234, 9000]
    store.close()


def test_a_busy_port_is_a_one_line_error(kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path) -> None:
    from core.errors import TierwiseError

    emitter = TelemetryEmitter(kafka_bootstrap, fresh_topics["usage"], fresh_topics["gpu"], tmp_path / "spill")
    first = Running(OtlpReceiver(emitter, "127.0.0.1", 0))
    try:
        other = TelemetryEmitter(kafka_bootstrap, fresh_topics["usage"], fresh_topics["gpu"], tmp_path / "spill2")
        with pytest.raises(TierwiseError, match=rf"cannot listen on 127.0.0.1:{first.receiver.port}"):
            OtlpReceiver(other, "127.0.0.1", first.receiver.port)
    finally:
        first.stop()
