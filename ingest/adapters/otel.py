"""OpenTelemetry GenAI spans, exported as OTLP/JSON (``resourceSpans[].scopeSpans[].spans[]``).

One document holds many spans; :func:`events_from_otlp_json` yields one result per GenAI inference
span: a :class:`UsageEvent`, or a :class:`SpanError` that says which span failed and why, so a
replay can report bad spans and carry on. Spans that are not GenAI inference (HTTP, DB, and agent
or tool spans whose token counts aggregate their child calls) are skipped, not counted twice.

Attribution comes from ``tierwise.*`` attributes on the span, then on the resource, then from OTel
conventions (``service.name`` as workload, ``deployment.environment.name`` as environment,
``server.address[:port]`` as the deployment of a self-hosted server), and only then from the
keywords given, which are defaults for what the document does not say.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Unpack

from ingest.adapters.attribution import (
    Attribution,
    build_event,
    check_keywords,
    from_epoch_nanos,
    reconcile_input,
    service_tier_of,
)
from schemas import ContractError, Tier, UsageEvent, is_content_key
from schemas.providers import provider_for_endpoint, tier_for

# Each contract token field and the attribute names that carry it, preferred first (current
# semantic conventions, then names older instrumentations still emit).
TOKEN_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
    "cached_input_tokens": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.cached_tokens",
        "gen_ai.usage.input_tokens.cached",
    ),
    "cache_creation_input_tokens": (
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
        "gen_ai.usage.input_tokens.cache_write",
    ),
    # No semantic convention yet: a tierwise attribute carries Anthropic's 1-hour cache writes.
    "cache_creation_1h_input_tokens": ("tierwise.cache_creation_1h_input_tokens",),
    "reasoning_tokens": (
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        "gen_ai.usage.output_tokens.reasoning",
    ),
}
_ALL_TOKEN_ATTRIBUTES = frozenset(name for names in TOKEN_ATTRIBUTES.values() for name in names)
# The service tier that served the request, preferred first (OpenAI instrumentations, then older names).
SERVICE_TIER_ATTRIBUTES = (
    "openai.response.service_tier",
    "gen_ai.openai.response.service_tier",
    "anthropic.response.service_tier",
    "openai.request.service_tier",
    "gen_ai.openai.request.service_tier",
)
# Operations whose spans wrap other GenAI calls: their usage, if any, is the sum of their children.
WRAPPER_OPERATIONS = frozenset({"invoke_agent", "create_agent", "execute_tool", "invoke_workflow"})
# Attribution fields a span or its resource may set as ``tierwise.<field>``.
_TIERWISE_FIELDS = (
    "workload",
    "team",
    "tier",
    "deployment",
    "environment",
    "batch",
    "service_tier",
    "shadow",
    "eval_score",
    "ttft_ms",
    "request_id",
)
_TAG_PREFIX = "tierwise.tag."
_STATUS_ERROR = (2, "2", "STATUS_CODE_ERROR")


class SpanError(ContractError):
    """A span that could not become a usage event; ``index`` is its position in the document
    (0-based, counting every span, also skipped ones), with its trace and span ids."""

    def __init__(
        self,
        index: int,
        field: str,
        reason: str,
        errors: tuple[tuple[str, str], ...] = (),
        *,
        trace_id: str | None = None,
        span_id: str | None = None,
        name: str | None = None,
    ) -> None:
        self.index = index
        self.trace_id = trace_id
        self.span_id = span_id
        self.name = name
        super().__init__(field, reason, errors)

    def __str__(self) -> str:
        where = f"span {self.index}"
        if self.name:
            where += f" {self.name!r}"
        if self.span_id:
            where += f" (span_id {self.span_id})"
        return f"{where}: {super().__str__()}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_span_error, (self.index, self.field, self.reason, self.errors, self.trace_id, self.span_id, self.name))


def _rebuild_span_error(
    index: int,
    field: str,
    reason: str,
    errors: tuple[tuple[str, str], ...],
    trace_id: str | None,
    span_id: str | None,
    name: str | None,
) -> SpanError:
    return SpanError(index, field, reason, errors, trace_id=trace_id, span_id=span_id, name=name)


def any_value(value: Mapping[str, Any]) -> Any:
    """Decode an OTLP/JSON AnyValue (``intValue`` may be a string, as the OTLP/JSON mapping allows)."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return decode_attributes((value["kvlistValue"] or {}).get("values", []))[0]
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def decode_attributes(attributes: Any) -> tuple[dict[str, Any], int]:
    """OTLP key/value list -> dict, with content attributes dropped (never decoded) and counted."""
    out: dict[str, Any] = {}
    dropped = 0
    for item in attributes or ():
        key = item.get("key")
        if not isinstance(key, str):
            continue
        if is_content_key(key):
            dropped += 1
            continue
        try:
            out[key] = any_value(item.get("value") or {})
        except (TypeError, ValueError):
            raise ContractError(f"attributes.{key}", "is not a valid OTLP AnyValue") from None
    return out, dropped


def _tierwise_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _TIERWISE_FIELDS:
        value = attributes.get(f"tierwise.{name}")
        if value is not None:
            out[name] = value
    tags = {k[len(_TAG_PREFIX) :]: str(v) for k, v in attributes.items() if k.startswith(_TAG_PREFIX)}
    if tags:
        out["tags"] = tags
    return out


def _first(attributes: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = attributes.get(name)
        if value is not None:
            return value
    return None


def _endpoint(attributes: Mapping[str, Any]) -> str | None:
    host = attributes.get("server.address")
    if not isinstance(host, str) or not host:
        return None
    port = attributes.get("server.port")
    return f"{host}:{port}" if port else host


def _span_event(span: Mapping[str, Any], resource: Mapping[str, Any], defaults: Mapping[str, Any]) -> UsageEvent | None:
    attributes, dropped = decode_attributes(span.get("attributes"))
    for event in span.get("events") or ():
        dropped += decode_attributes(event.get("attributes"))[1]
    operation = attributes.get("gen_ai.operation.name")
    has_tokens = any(name in attributes for name in _ALL_TOKEN_ATTRIBUTES)
    if (operation is None and not has_tokens) or operation in WRAPPER_OPERATIONS:
        return None

    status = span.get("status") or {}
    failed = status.get("code") in _STATUS_ERROR or "error.type" in attributes
    derived = _span_tokens(attributes, operation, failed)
    derived.update(_span_times(span))
    derived["provider"] = _first(attributes, ("gen_ai.provider.name", "gen_ai.system"))
    derived["model"] = _first(attributes, ("gen_ai.response.model", "gen_ai.request.model"))
    derived["response_id"] = attributes.get("gen_ai.response.id")
    derived["operation"] = operation
    derived["service_tier"] = service_tier_of(_first(attributes, SERVICE_TIER_ATTRIBUTES))
    if failed:
        derived["status"] = "error"
        derived["error_type"] = attributes.get("error.type") or "_OTHER"

    fields = _span_attribution(resource, attributes, defaults)
    for key in ("provider", "model", "operation"):
        if key in fields and derived.get(key) is not None:
            fields.pop(key)  # a default never overrides what the span itself says

    endpoint = _endpoint(attributes)
    vendor = provider_for_endpoint(endpoint) if endpoint else None
    if derived["provider"] is None and "provider" not in fields:
        derived["provider"] = vendor
    provider = fields.get("provider") or derived["provider"]
    model = fields.get("model") or derived["model"]
    tier = fields.get("tier") or (
        tier_for(provider, model if isinstance(model, str) else None) if isinstance(provider, str) else None
    )
    if endpoint and vendor is None and tier == Tier.SELF_HOSTED:
        # Our own server, called through a vendor SDK: its address names the deployment, and
        # "openai" only names the wire protocol. (Unknown hosts are not assumed to be ours: they
        # may be a company gateway in front of a vendor.)
        fields.setdefault("deployment", endpoint)
        if derived["provider"] == "openai" and "provider" not in fields:
            derived["provider"] = "openai_compatible"
    # Without a response id, trace and span id are the span's stable identity across replays.
    if derived["response_id"] is None and span.get("traceId") and span.get("spanId"):
        derived["event_id"] = f"otel:{span['traceId']}:{span['spanId']}"
    return build_event(derived, fields, dropped)


def _span_tokens(attributes: Mapping[str, Any], operation: Any, failed: bool) -> dict[str, Any]:
    """The token counts of a span by type, input made exclusive of the cache tokens it includes."""
    derived: dict[str, Any] = {name: _first(attributes, names) for name, names in TOKEN_ATTRIBUTES.items()}
    cached = derived["cached_input_tokens"] or 0
    creation = derived["cache_creation_input_tokens"] or 0
    derived["input_tokens"] = reconcile_input(derived["input_tokens"], cached, creation)
    if failed:
        derived["input_tokens"] = derived["input_tokens"] or 0
        derived["output_tokens"] = derived["output_tokens"] or 0
    elif operation == "embeddings" and derived["input_tokens"] is not None:
        # The GenAI convention has embeddings spans report input tokens only: nothing is generated.
        derived["output_tokens"] = derived["output_tokens"] or 0
    elif derived["input_tokens"] is None and derived["output_tokens"] is None:
        raise ContractError("gen_ai.usage.input_tokens", "is required on an inference span that succeeded")
    return derived


def _span_times(span: Mapping[str, Any]) -> dict[str, Any]:
    """event_time (when the request finished) and duration_ms from the span's nanosecond timestamps."""
    end = span.get("endTimeUnixNano")
    start = span.get("startTimeUnixNano")
    try:
        end_ns = int(end) if end not in (None, "", 0, "0") else None
        start_ns = int(start) if start not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        raise ContractError("endTimeUnixNano", "must be nanoseconds since the epoch") from None
    if end_ns is None:
        raise ContractError("endTimeUnixNano", "is required (when the request finished)")
    times: dict[str, Any] = {"event_time": from_epoch_nanos(end_ns)}
    if start_ns is not None and end_ns >= start_ns:
        times["duration_ms"] = (end_ns - start_ns) / 1e6
    return times


def _span_attribution(
    resource: Mapping[str, Any], attributes: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """Workload, team, tags and the rest of the attribution.

    Precedence, lowest first: keyword defaults, OTel resource conventions, resource tierwise.*,
    span tierwise.*. Defaults only fill what the document does not say at all.
    """
    fields: dict[str, Any] = {k: v for k, v in defaults.items() if v is not None and k != "tags"}
    service = resource.get("service.name")
    if isinstance(service, str) and service:
        fields["workload"] = service
    environment = _first(resource, ("deployment.environment.name", "deployment.environment"))
    if isinstance(environment, str) and environment:
        fields["environment"] = environment
    fields.update(_tierwise_attributes(resource))
    span_attribution = _tierwise_attributes(attributes)
    tags = {**(defaults.get("tags") or {}), **fields.pop("tags", {}), **span_attribution.pop("tags", {})}
    fields.update(span_attribution)
    if tags:
        fields["tags"] = tags
    return fields


def events_from_otlp_json(
    doc: Mapping[str, Any] | bytes | str, **defaults: Unpack[Attribution]
) -> Iterator[UsageEvent | SpanError]:
    """Usage events from an OTLP/JSON trace export, one per GenAI inference span, in document order.

    Keywords are defaults for every span (a span's own attributes win). Span-level problems are
    yielded as :class:`SpanError`; a document that is not OTLP/JSON raises :class:`ContractError`.
    """
    check_keywords(defaults)
    if "event_id" in defaults or "event_time" in defaults:
        raise TypeError("event_id and event_time come from each span; they cannot be defaults")
    if isinstance(doc, (bytes, str)):
        try:
            doc = json.loads(doc)
        except ValueError as exc:
            raise ContractError("<json>", f"invalid JSON ({exc})") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("resourceSpans", []), list):
        raise ContractError("<root>", "must be an OTLP/JSON object with a resourceSpans array")
    index = -1
    for resource_spans in doc.get("resourceSpans") or ():
        resource: dict[str, Any] = {}
        resource_error: ContractError | None = None
        try:
            resource = decode_attributes((resource_spans.get("resource") or {}).get("attributes"))[0]
        except ContractError as exc:
            resource_error = exc  # blamed on each of the resource's spans
        scopes = resource_spans.get("scopeSpans") or resource_spans.get("instrumentationLibrarySpans") or ()
        for scope in scopes:
            for span in scope.get("spans") or ():
                index += 1
                try:
                    if resource_error is not None:
                        raise resource_error
                    event = _span_event(span, resource, defaults)
                except ContractError as exc:
                    yield SpanError(
                        index,
                        exc.field,
                        exc.reason,
                        exc.errors,
                        trace_id=span.get("traceId"),
                        span_id=span.get("spanId"),
                        name=span.get("name"),
                    )
                    continue
                if event is not None:
                    yield event
