"""OTLP/HTTP bodies: protobuf and JSON give the same document, compression limits, the protocol's response bodies."""

from __future__ import annotations

import gzip
import zlib

import orjson
import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from ingest.adapters.otel import events_from_otlp_json
from ingest.otlp_decode import (
    JSON,
    PROTOBUF,
    BadRequest,
    Encoding,
    count_spans,
    decode_traces,
    error_body,
    inflate,
    success_body,
)

TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SPAN = bytes.fromhex("eee19b7ec3c1b174")


def request() -> ExportTraceServiceRequest:
    attributes = [
        KeyValue(key="gen_ai.operation.name", value=AnyValue(string_value="chat")),
        KeyValue(key="gen_ai.provider.name", value=AnyValue(string_value="openai")),
        KeyValue(key="gen_ai.request.model", value=AnyValue(string_value="gpt-5.4")),
        KeyValue(key="gen_ai.usage.input_tokens", value=AnyValue(int_value=2**33)),
        KeyValue(key="gen_ai.usage.output_tokens", value=AnyValue(int_value=7)),
    ]
    span = Span(
        trace_id=TRACE,
        span_id=SPAN,
        name="chat",
        start_time_unix_nano=1772452800000000000,
        end_time_unix_nano=1772452801000000000,
        attributes=attributes,
    )
    resource = ResourceSpans(scope_spans=[ScopeSpans(spans=[span, Span(trace_id=TRACE, span_id=b"\x01" * 8, name="GET")])])
    resource.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="faq")))
    return ExportTraceServiceRequest(resource_spans=[resource])


def test_protobuf_decodes_to_the_otlp_json_the_adapter_reads_with_hex_ids() -> None:
    doc = decode_traces(request().SerializeToString(), Encoding(PROTOBUF))
    assert count_spans(doc) == 2
    (event,) = list(events_from_otlp_json(doc))
    assert event.event_id == f"otel:{TRACE.hex()}:{SPAN.hex()}"
    assert (event.workload, event.input_tokens, event.output_tokens) == ("faq", 2**33, 7)  # beyond int32, carried as text


def test_gzip_and_deflate_are_inflated_and_a_bomb_is_refused() -> None:
    body = request().SerializeToString()
    assert inflate(gzip.compress(body), "gzip") == body
    assert inflate(zlib.compress(body), "deflate") == body
    with pytest.raises(BadRequest) as err:
        inflate(gzip.compress(b"\0" * 5000), "gzip", max_bytes=4096)
    assert (err.value.status, err.value.reason) == (413, "body is larger than 4096 bytes once decompressed")
    with pytest.raises(BadRequest, match="truncated gzip"):
        inflate(gzip.compress(body)[:-12], "gzip")
    with pytest.raises(BadRequest, match="Content-Encoding must be gzip, deflate or none"):
        inflate(body, "br")


def test_partial_success_and_error_bodies_in_both_encodings() -> None:
    response = ExportTraceServiceResponse()
    response.ParseFromString(success_body(Encoding(PROTOBUF), 2, "span 1: bad"))
    assert (response.partial_success.rejected_spans, response.partial_success.error_message) == (2, "span 1: bad")
    assert success_body(Encoding(JSON)) == b"{}"
    assert orjson.loads(success_body(Encoding(JSON), 1, "x")) == {"partialSuccess": {"rejectedSpans": "1", "errorMessage": "x"}}

    body, media = error_body(Encoding(PROTOBUF), "body is not valid gzip")
    status = Status()
    status.ParseFromString(body)
    assert (media, status.code, status.message) == (PROTOBUF, 3, "body is not valid gzip")
    body, media = error_body(None, "missing or wrong bearer token")
    assert (media, orjson.loads(body)) == (JSON, {"code": 3, "message": "missing or wrong bearer token"})
