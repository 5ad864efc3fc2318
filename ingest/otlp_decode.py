"""OTLP/HTTP trace request bodies (protobuf or JSON, plain or gzip) to the OTLP/JSON shape the OTel adapter reads,
and the protocol's response bodies (success, partial success, error status) in the request's encoding.

The protobuf messages come from ``opentelemetry-proto``; the error body is a ``google.rpc.Status`` as the OTLP
specification asks. A body that cannot be decoded raises :class:`BadRequest` with a one-line reason.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# What a Collector's otlphttp exporter sends by default is well under this; a larger body is refused before decoding.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
_INVALID_ARGUMENT = 3  # google.rpc.Code: the status code OTLP asks for with a 400


class BadRequest(ValueError):
    """A request the receiver refuses: ``status`` is the HTTP status, ``reason`` the one line sent back."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Encoding:
    """How a request was sent, which is how its response is written."""

    media_type: str  # PROTOBUF or JSON


def request_encoding(content_type: str | None) -> Encoding:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in (PROTOBUF, "application/protobuf"):
        return Encoding(PROTOBUF)
    if media == JSON:
        return Encoding(JSON)
    raise BadRequest(415, f"Content-Type must be {PROTOBUF} or {JSON} (got {media or 'none'!r})")


def inflate(body: bytes, content_encoding: str | None, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> bytes:
    """The body without its Content-Encoding (gzip, deflate or none), never longer than ``max_bytes``."""
    coding = (content_encoding or "identity").strip().lower()
    if coding in ("", "identity"):
        return body
    if coding not in ("gzip", "deflate"):
        raise BadRequest(415, f"Content-Encoding must be gzip, deflate or none (got {coding!r})")
    # wbits 32+15 reads gzip and zlib headers alike; max_length stops a small bomb from filling memory.
    inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise BadRequest(400, f"body is not valid {coding} ({exc})") from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise BadRequest(413, f"body is larger than {max_bytes} bytes once decompressed")
    if not inflater.eof:
        raise BadRequest(400, f"body is truncated {coding}")
    return out


def decode_traces(body: bytes, encoding: Encoding) -> dict[str, Any]:
    """An ExportTraceServiceRequest as the OTLP/JSON mapping writes it (hex trace and span ids)."""
    if encoding.media_type == JSON:
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(400, f"body is not valid JSON ({str(exc).splitlines()[0]})") from None
        if not isinstance(doc, dict):
            raise BadRequest(400, "body must be a JSON object with a resourceSpans array")
        if not isinstance(doc.get("resourceSpans", []), list):
            raise BadRequest(400, "resourceSpans must be an array")
        return doc
    from google.protobuf.json_format import MessageToDict
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise BadRequest(400, f"body is not an OTLP ExportTraceServiceRequest protobuf ({exc})") from None
    doc = MessageToDict(request)
    _hex_ids(doc)
    return doc


def _hex_ids(doc: dict[str, Any]) -> None:
    # The protobuf JSON mapping writes bytes as base64; OTLP/JSON writes trace and span ids as hex, and the
    # adapter builds event ids from them, so both encodings of one span give the same event.
    for resource_spans in doc.get("resourceSpans", ()):
        for scope in resource_spans.get("scopeSpans", ()):
            for span in scope.get("spans", ()):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = base64.b64decode(span[key]).hex()


def iter_spans(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every span of a request in the order the OTel adapter numbers them (its ``SpanError.index``)."""
    for resource_spans in doc.get("resourceSpans") or ():
        if not isinstance(resource_spans, dict):
            continue
        for scope in resource_spans.get("scopeSpans") or resource_spans.get("instrumentationLibrarySpans") or ():
            spans = scope.get("spans") if isinstance(scope, dict) else None
            yield from spans if isinstance(spans, list) else ()


def count_spans(doc: dict[str, Any]) -> int:
    return sum(1 for _ in iter_spans(doc))


def success_body(encoding: Encoding, rejected: int = 0, message: str = "") -> bytes:
    """ExportTraceServiceResponse; with ``rejected`` spans it carries the partial success the spec defines."""
    if encoding.media_type == JSON:
        if not rejected:
            return b"{}"
        # int64 fields are strings in the protobuf JSON mapping.
        return orjson.dumps({"partialSuccess": {"rejectedSpans": str(rejected), "errorMessage": message}})
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    response = ExportTraceServiceResponse()
    if rejected:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    return response.SerializeToString()


def error_body(encoding: Encoding | None, reason: str) -> tuple[bytes, str]:
    """A ``google.rpc.Status`` with the reason, in the request's encoding (JSON when that is unknown)."""
    if encoding is not None and encoding.media_type == PROTOBUF:
        from google.rpc.status_pb2 import Status

        return Status(code=_INVALID_ARGUMENT, message=reason).SerializeToString(), PROTOBUF
    return orjson.dumps({"code": _INVALID_ARGUMENT, "message": reason}), JSON
