"""``UsageEvent`` v1: one flat JSON object per LLM request, the unit every cost is built from."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import Field

from schemas.content import is_content_key
from schemas.fields import (
    SCHEMA_MAJOR,
    Contract,
    Flag,
    Fraction,
    Millis,
    Name,
    SchemaVersion,
    Tags,
    Timestamp,
    TokenCount,
    naive_utc,
)
from schemas.rules import RequiredWhen, Rule, SumAtMost


class Tier(StrEnum):
    """Where the model ran, which decides how its cost is computed."""

    CLOSED_API = "closed_api"  # proprietary model behind a vendor API (per-token price)
    HOSTED_OPEN_API = "hosted_open_api"  # open-weight model behind a hosted API (per-token price)
    SELF_HOSTED = "self_hosted"  # open-weight model on our own GPUs (GPU-hour cost, attributed)


class UsageEvent(Contract):
    """One LLM request: who asked (workload, team), what served it (tier, provider, model,
    deployment) and what it consumed (tokens, latency).

    Token counts follow the OpenTelemetry GenAI conventions: ``input_tokens`` INCLUDES cache reads
    and cache writes, ``output_tokens`` INCLUDES reasoning tokens. Unknown fields are ignored so
    producers may run ahead of readers. Request/response content (prompt, messages, completion,
    choices, gen_ai.input.messages, ...) must never be sent; if it is, it is dropped and counted.
    """

    event_id: Name = Field(description="Idempotency key: the same request always carries the same id (duplicates are dropped).")
    event_time: Timestamp = Field(
        description="When the request finished, RFC 3339 with a UTC offset (naive times are rejected)."
    )
    tier: Tier = Field(description="Deployment tier: closed_api, hosted_open_api or self_hosted.")
    provider: Name = Field(
        description="Who served the request, e.g. openai, anthropic, google, together, vllm (OTel: gen_ai.provider.name)."
    )
    model: Name = Field(
        description="Model that served the request, as the provider names it "
        "(OTel: gen_ai.response.model, else gen_ai.request.model)."
    )
    workload: Name = Field(description="The unit of cost attribution: the feature, job or service that made the request.")
    input_tokens: TokenCount = Field(
        description="All input tokens, including cache reads and cache writes (OTel: gen_ai.usage.input_tokens)."
    )
    output_tokens: TokenCount = Field(
        description="All output tokens, including reasoning tokens (OTel: gen_ai.usage.output_tokens)."
    )
    cached_input_tokens: TokenCount = Field(
        default=0,
        description="Input tokens read from the provider's prompt cache; part of input_tokens "
        "(OTel: gen_ai.usage.cache_read.input_tokens).",
    )
    cache_creation_input_tokens: TokenCount = Field(
        default=0,
        description="Input tokens written to the provider's prompt cache; part of input_tokens, and "
        "cached_input_tokens + cache_creation_input_tokens <= input_tokens "
        "(OTel: gen_ai.usage.cache_creation.input_tokens).",
    )
    cache_creation_1h_input_tokens: TokenCount = Field(
        default=0,
        description="Of cache_creation_input_tokens, those written with a 1-hour lifetime, which providers bill at "
        "a higher rate than 5-minute writes (Anthropic: usage.cache_creation.ephemeral_1h_input_tokens).",
    )
    reasoning_tokens: TokenCount = Field(
        default=0,
        description="Output tokens spent on reasoning; part of output_tokens (OTel: gen_ai.usage.reasoning.output_tokens).",
    )
    team: Name | None = Field(default=None, description="Team that owns the workload.")
    environment: Name = Field(
        default="prod", description="Environment, e.g. prod, staging, dev (OTel resource: deployment.environment.name)."
    )
    tags: Tags | None = Field(
        default=None, description="Free-form string labels for slicing cost (at most 64; content-like keys are dropped)."
    )
    operation: Name = Field(
        default="chat",
        description="Kind of call, e.g. chat, text_completion, embeddings, generate_content (OTel: gen_ai.operation.name).",
    )
    duration_ms: Millis | None = Field(
        default=None,
        description="Wall time of the request in milliseconds (OTel metric: gen_ai.client.operation.duration, in ms).",
    )
    ttft_ms: Millis | None = Field(
        default=None,
        description="Time to first token in milliseconds, for "
        "streamed responses (OTel metric: gen_ai.server.time_to_first_token, in ms).",
    )
    status: Literal["ok", "error"] = Field(default="ok", description="ok, or error when the request failed.")
    error_type: Name | None = Field(
        default=None, description="Error class when status is error, e.g. rate_limit_exceeded, timeout (OTel: error.type)."
    )
    batch: Flag = Field(default=False, description="Served through a batch API at batch prices.")
    service_tier: Name | None = Field(
        default=None,
        description="Provider's service tier when the request says which, lower case: standard, priority, flex, "
        "fast, ... (OpenAI: response service_tier, OTel: openai.response.service_tier; Anthropic: "
        "usage.service_tier, and fast for speed fast). Priority and flex are priced at their own rates.",
    )
    deployment: Name | None = Field(
        default=None,
        description="Cluster or endpoint that served the request; "
        "required when tier is self_hosted (it links the request to GPU cost).",
    )
    shadow: Flag = Field(default=False, description="Shadow traffic: served but never shown to a user.")
    eval_score: Fraction | None = Field(
        default=None, description="Quality score of the response in [0, 1] (OTel: gen_ai.evaluation.score.value)."
    )
    request_id: Name | None = Field(
        default=None, description="Provider or gateway request id, for support tickets and joins with provider invoices."
    )
    response_id: Name | None = Field(default=None, description="Provider's id of the response (OTel: gen_ai.response.id).")
    schema_version: SchemaVersion = Field(
        default=SCHEMA_MAJOR, description='Contract version: "1", or "1.x" for additive revisions.'
    )

    RULES: ClassVar[tuple[Rule, ...]] = (
        SumAtMost(("cached_input_tokens",), "input_tokens", ", which include cache reads"),
        SumAtMost(("cached_input_tokens", "cache_creation_input_tokens"), "input_tokens"),
        SumAtMost(("cache_creation_1h_input_tokens",), "cache_creation_input_tokens", ", which include 1-hour writes"),
        SumAtMost(("reasoning_tokens",), "output_tokens", ", which include reasoning"),
        RequiredWhen("deployment", "tier", Tier.SELF_HOSTED.value),
    )

    def _check(self) -> int:
        tags = self.tags
        if tags:
            content = [k for k in tags if is_content_key(k)]
            if content:
                # Frozen model: replace the validated dict in place of a setattr.
                for key in content:
                    del tags[key]
                return len(content)
        return 0

    def to_row(self) -> dict[str, Any]:
        """The flat row for ``raw.usage_events`` (without the Kafka and landing columns)."""
        # Fields are exactly the row's columns except the derived ones patched below; copying the
        # instance dict is several times faster than naming 30 attributes.
        row: dict[str, Any] = dict(self.__dict__)
        when = naive_utc(self.event_time)
        row["event_time"] = when
        row["event_date"] = when.date()
        row["tier"] = self.tier.value
        row["tags"] = dict(self.tags) if self.tags else None
        row["content_fields_dropped"] = self.content_fields_dropped
        return row
