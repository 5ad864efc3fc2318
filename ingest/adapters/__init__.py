"""Build validated ``UsageEvent``s from what a caller already has: a provider's response or usage
object, an OTel GenAI span export, or a LiteLLM log. Pure functions: no network, no Kafka.

Every adapter takes the payload plus attribution keywords (see :class:`Attribution`); keywords win
over what the payload says. Request/response content in a payload is never copied, only counted
into ``content_fields_dropped``. Invalid input raises :class:`schemas.ContractError`.
"""

from ingest.adapters.anthropic import from_anthropic
from ingest.adapters.attribution import Attribution
from ingest.adapters.gemini import from_gemini
from ingest.adapters.litellm import from_litellm_payload, from_litellm_spend_log
from ingest.adapters.openai import from_openai, from_openai_compatible
from ingest.adapters.otel import SpanError, events_from_otlp_json
from schemas.providers import PROVIDER_TIERS, canonical_provider, tier_for

__all__ = [
    "PROVIDER_TIERS",
    "Attribution",
    "SpanError",
    "canonical_provider",
    "events_from_otlp_json",
    "from_anthropic",
    "from_gemini",
    "from_litellm_payload",
    "from_litellm_spend_log",
    "from_openai",
    "from_openai_compatible",
    "tier_for",
]
