"""`tierwise ingest otlp`: an OTLP/HTTP trace receiver, so an OpenTelemetry SDK or Collector can export to tierwise.

``POST /v1/traces`` takes protobuf or JSON bodies, plain or gzip. Each GenAI inference span becomes a usage
event through the OTel adapter (``ingest.adapters.otel``) and goes out through the emitter, which spills to
disk while Kafka is away, so a 200 means the span is on its way. Other spans are counted as ignored. A GenAI
span the contract refuses is counted invalid, reported back in the response's partial success and, with a
dead-letter topic, kept there without its content (``ingest.otlp_dead_letters``). A body that cannot be decoded
gets a 400 with a ``google.rpc.Status`` that says why. ``GET /metrics`` shows the receiver's counters in the
Prometheus text format. Shutdown (SIGINT, SIGTERM) finishes the requests in progress, then flushes the emitter.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from ingest.adapters.otel import SpanError, events_from_otlp_json
from ingest.otlp_dead_letters import SpanDeadLetters
from ingest.otlp_decode import (
    DEFAULT_MAX_BODY_BYTES,
    BadRequest,
    Encoding,
    count_spans,
    decode_traces,
    error_body,
    inflate,
    iter_spans,
    request_encoding,
    success_body,
)
from schemas import ContractError

log = logging.getLogger("tierwise.otlp")
TRACES_PATH = "/v1/traces"
_REASONS_SHOWN = 3  # rejected spans named in one partial-success message


@dataclass
class ReceiverCounters:
    """What the receiver has seen since it started. Spans: ``received`` = ``mapped`` + ``ignored`` + ``invalid``."""

    requests: int = 0
    bad_requests: int = 0
    received: int = 0
    mapped: int = 0
    ignored: int = 0
    invalid: int = 0
    not_accepted: int = 0  # mapped, but the emitter refused them (closing)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {k: v for k, v in vars(self).items() if not k.startswith("_")}


@dataclass(frozen=True)
class ExportResult:
    mapped: int
    ignored: int
    rejected: list[SpanError]
    refused: int = 0


class TraceIngestor:
    """Maps one decoded export request to usage events and hands them to ``emit`` (the part without HTTP)."""

    def __init__(
        self,
        emit: Callable[[Any], bool],
        counters: ReceiverCounters | None = None,
        dead_letters: SpanDeadLetters | None = None,
        **defaults: Any,
    ) -> None:
        self._emit = emit
        self.counters = counters or ReceiverCounters()
        self._dead_letters = dead_letters
        self._defaults = defaults

    def export(self, doc: dict[str, Any]) -> ExportResult:
        spans = count_spans(doc)
        mapped = 0
        refused = 0
        rejected: list[SpanError] = []
        try:
            results = list(events_from_otlp_json(doc, **self._defaults))
        except ContractError as exc:
            raise BadRequest(400, str(exc)) from None
        for result in results:
            if isinstance(result, SpanError):
                rejected.append(result)
            elif self._emit(result):
                mapped += 1
            else:
                refused += 1
        ignored = spans - mapped - refused - len(rejected)
        self.counters.add(received=spans, mapped=mapped, ignored=ignored, invalid=len(rejected), not_accepted=refused)
        for error in rejected[:_REASONS_SHOWN]:
            log.warning("GenAI span rejected: %s", error)
        if rejected and self._dead_letters is not None:
            spans_in_order = list(iter_spans(doc))
            for error in rejected:
                self._dead_letters.send(spans_in_order[error.index], error)
        return ExportResult(mapped, ignored, rejected, refused)


def _bearer_ok(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def build_app(
    ingestor: TraceIngestor,
    *,
    token: str | None = None,
    on_shutdown: Callable[[], None] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    metrics: Callable[[], bytes] | None = None,
) -> Any:
    """The ASGI app: ``POST /v1/traces`` and ``GET /metrics``."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    counters = ingestor.counters

    def refuse(status: int, reason: str, encoding: Encoding | None, headers: dict[str, str] | None = None) -> Response:
        counters.add(requests=1, bad_requests=1)
        body, media = error_body(encoding, reason)
        return Response(body, status_code=status, media_type=media, headers=headers)

    async def traces(request: Request) -> Response:
        if token is not None and not _bearer_ok(request.headers.get("authorization"), token):
            return refuse(401, "missing or wrong bearer token", None, {"WWW-Authenticate": "Bearer"})
        encoding: Encoding | None = None
        try:
            encoding = request_encoding(request.headers.get("content-type"))
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_body_bytes:
                raise BadRequest(413, f"body is larger than {max_body_bytes} bytes")
            raw = await _read_body(request, max_body_bytes)
            # Decoding and mapping are CPU work: off the event loop, so /metrics and other exports stay responsive.
            coding = request.headers.get("content-encoding")
            result = await run_in_threadpool(_decode_and_export, ingestor, raw, coding, encoding)
        except BadRequest as exc:
            log.info("OTLP request refused (%d): %s", exc.status, exc.reason)
            return refuse(exc.status, exc.reason, encoding)
        counters.add(requests=1)
        if result.refused:
            # The emitter is closing: tell the exporter to retry (the spans already queued are deduplicated by event id).
            return refuse(503, "the receiver is shutting down; retry", encoding)
        message = "; ".join(str(e) for e in result.rejected[:_REASONS_SHOWN])
        if len(result.rejected) > _REASONS_SHOWN:
            message += f"; and {len(result.rejected) - _REASONS_SHOWN} more"
        return Response(success_body(encoding, len(result.rejected), message), media_type=encoding.media_type)

    async def metrics_endpoint(_request: Request) -> Response:
        return Response(metrics() if metrics else b"", media_type="text/plain; version=0.0.4; charset=utf-8")

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:
            # Runs after the server stopped taking requests and finished the ones in progress.
            await run_in_threadpool(on_shutdown)

    return Starlette(
        routes=[Route(TRACES_PATH, traces, methods=["POST"]), Route("/metrics", metrics_endpoint, methods=["GET"])],
        lifespan=lifespan,
    )


async def _read_body(request: Any, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BadRequest(413, f"body is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode_and_export(ingestor: TraceIngestor, raw: bytes, content_encoding: str | None, encoding: Encoding) -> ExportResult:
    body = inflate(raw, content_encoding)
    return ingestor.export(decode_traces(body, encoding))


def metrics_text(counters: ReceiverCounters, emitter_stats: Callable[[], Any] | None = None) -> Callable[[], bytes]:
    """The receiver's counters (and the emitter's, when given) in the Prometheus text format."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    class _Collector:
        def collect(self) -> Any:
            snap = counters.snapshot()
            spans = CounterMetricFamily(
                "tierwise_otlp_spans", "Spans received, by outcome (mapped, ignored, invalid)", labels=["outcome"]
            )
            for outcome in ("mapped", "ignored", "invalid", "not_accepted"):
                spans.add_metric([outcome], snap[outcome])
            yield spans
            yield CounterMetricFamily("tierwise_otlp_spans_received", "Spans received", value=snap["received"])
            yield CounterMetricFamily("tierwise_otlp_requests", "Export requests answered", value=snap["requests"])
            yield CounterMetricFamily("tierwise_otlp_bad_requests", "Export requests refused", value=snap["bad_requests"])
            if emitter_stats is not None:
                stats = emitter_stats()
                yield GaugeMetricFamily("tierwise_emitter_spill_bytes", "Bytes waiting in the spill", value=stats.spill_bytes)
                yield GaugeMetricFamily("tierwise_emitter_connected", "1 when Kafka is reachable", value=int(stats.connected))
                sent = stats.sent + stats.replayed
                yield CounterMetricFamily("tierwise_emitter_sent", "Events acknowledged by Kafka", value=sent)
                yield CounterMetricFamily("tierwise_emitter_dropped", "Events lost (disk full)", value=stats.dropped)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())  # type: ignore[arg-type]
    return lambda: generate_latest(registry)


class OtlpReceiver:
    """The receiver bound to its address (``port=0`` picks a free one); ``run()`` serves until SIGINT/SIGTERM or
    ``stop()``, then flushes and closes the emitter."""

    def __init__(
        self,
        emitter: Any,
        host: str = "127.0.0.1",
        port: int = 4318,
        *,
        token: str | None = None,
        dead_letter_topic: str | None = None,
        close_timeout_s: float = 30.0,
        **defaults: Any,
    ) -> None:
        import socket

        import uvicorn

        from core.errors import TierwiseError

        self.emitter = emitter
        self.dead_letters = SpanDeadLetters(emitter.bootstrap, dead_letter_topic) if dead_letter_topic else None
        self.ingestor = TraceIngestor(emitter.emit, dead_letters=self.dead_letters, **defaults)
        self.counters = self.ingestor.counters

        def shutdown() -> None:
            emitter.close(timeout=close_timeout_s)
            if self.dead_letters is not None:
                self.dead_letters.close(timeout=close_timeout_s)

        app = build_app(
            self.ingestor,
            token=token,
            on_shutdown=shutdown,
            metrics=metrics_text(self.counters, emitter.stats),
        )
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError as exc:
            self._socket.close()
            shutdown()
            raise TierwiseError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self.host, self.port = host, self._socket.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=30)
        self._server = uvicorn.Server(config)

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    def run(self) -> ReceiverCounters:
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()
        return self.counters

    def stop(self) -> None:
        self._server.should_exit = True
