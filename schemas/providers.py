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
}

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


def tier_for(provider: str) -> Tier | None:
    """The tier a provider serves from, or None when it is not in the map (the caller must say)."""
    return PROVIDER_TIERS.get(canonical_provider(provider))


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
