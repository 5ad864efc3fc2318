"""The one provider -> tier map, and the provider spellings of other tools folded into tierwise's names.

Every adapter resolves provider names and tiers here, so a provider is spelled (and priced) the
same whether its usage came from an SDK response, an OTel span or a LiteLLM log.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from schemas import Tier

# tierwise's provider names and the tier each one serves from.
PROVIDER_TIERS: dict[str, Tier] = {
    "openai": Tier.CLOSED_API,
    "anthropic": Tier.CLOSED_API,
    "google": Tier.CLOSED_API,
    "azure": Tier.CLOSED_API,
    "xai": Tier.CLOSED_API,
    "together": Tier.HOSTED_OPEN_API,
    "fireworks": Tier.HOSTED_OPEN_API,
    "groq": Tier.HOSTED_OPEN_API,
    "deepinfra": Tier.HOSTED_OPEN_API,
    "vllm": Tier.SELF_HOSTED,
    "sglang": Tier.SELF_HOSTED,
    # An OpenAI-compatible server at an address we do not recognise as a vendor: our own.
    "openai_compatible": Tier.SELF_HOSTED,
}

# Other spellings -> tierwise's: LiteLLM's custom_llm_provider, OTel gen_ai.provider.name / gen_ai.system.
# dbt staging folds the same spellings through dbt_project/seeds/provider_aliases.csv, which is generated
# from this map: after editing it, run `python -m schemas.provider_seed` (a unit test catches drift).
PROVIDER_ALIASES: dict[str, str] = {
    "gemini": "google",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "azure.ai.openai": "azure",
    "az.ai.openai": "azure",
    "text-completion-openai": "openai",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "hosted_vllm": "vllm",
    "x_ai": "xai",
    "aws.bedrock": "bedrock",
    "aws_bedrock": "bedrock",
}

# Hosts that serve closed and open-weight models alike: the tier follows the model's vendor, the first
# part of a model id such as `anthropic.claude-sonnet-4-6-v1:0` (after a `us.`/`eu.`/... region prefix).
MULTI_VENDOR_HOSTS = frozenset({"bedrock"})
CLOSED_MODEL_VENDORS = frozenset({"anthropic", "amazon", "cohere", "ai21", "writer"})
REGION_PREFIXES = frozenset({"us", "eu", "apac", "global", "us-gov", "jp", "au"})

# Vendor API hosts, to tell a vendor from a self-hosted server when only an endpoint URL is known.
API_HOSTS: dict[str, str] = {
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "generativelanguage.googleapis.com": "google",
    "aiplatform.googleapis.com": "google",
    "api.together.xyz": "together",
    "api.together.ai": "together",
    "api.fireworks.ai": "fireworks",
    "api.groq.com": "groq",
    "api.deepinfra.com": "deepinfra",
    "api.x.ai": "xai",
}
_API_HOST_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".openai.azure.com", "azure"),
    ("-aiplatform.googleapis.com", "google"),
)


def canonical_provider(name: str) -> str:
    """tierwise's spelling of a provider name (unknown names pass through, lower-cased)."""
    lowered = name.strip().lower()
    return PROVIDER_ALIASES.get(lowered, lowered)


def tier_for(provider: str, model: str | None = None) -> Tier | None:
    """The tier a provider serves from, or None when it is not in the map (the caller must say).

    A multi-vendor host (Bedrock) serves closed models as a closed API and open-weight ones as a hosted
    open API, so there the model's vendor decides."""
    name = canonical_provider(provider)
    if name in MULTI_VENDOR_HOSTS:
        if not model:
            return None
        parts = model.strip().lower().split(".")
        vendor = parts[1] if len(parts) > 2 and parts[0] in REGION_PREFIXES else parts[0]
        return Tier.CLOSED_API if vendor in CLOSED_MODEL_VENDORS else Tier.HOSTED_OPEN_API
    return PROVIDER_TIERS.get(name)


def endpoint_host(api_base: str) -> str | None:
    """``host[:port]`` of an endpoint URL (the natural deployment name of a self-hosted server)."""
    text = api_base.strip()
    if not text:
        return None
    parts = urlsplit(text if "://" in text else f"http://{text}")
    if not parts.hostname:
        return None
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname


def provider_for_endpoint(api_base: str) -> str | None:
    """The vendor behind an endpoint URL, or None when it is not a vendor API we know."""
    host = endpoint_host(api_base)
    if host is None:
        return None
    hostname = host.split(":", 1)[0]
    if hostname in API_HOSTS:
        return API_HOSTS[hostname]
    for suffix, provider in _API_HOST_SUFFIXES:
        if hostname.endswith(suffix):
            return provider
    return None
