"""The response objects the official SDKs return, read as the JSON they were parsed from.

openai, anthropic, google-genai and litellm all build their responses as pydantic models; an adapter
takes one of those as readily as a dict. ``exclude_none`` drops the fields the wire JSON did not carry,
and ``by_alias`` gives google-genai's REST (camelCase) names back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas import ContractError


def as_payload(payload: Any) -> Mapping[str, Any]:
    """A dict of the payload: a mapping as it is, an SDK object through its own dump, else a ContractError."""
    if isinstance(payload, Mapping):
        return payload
    dump = getattr(payload, "model_dump", None)
    if callable(dump):
        data = dump(mode="json", by_alias=True, exclude_none=True)
    elif callable(getattr(payload, "to_dict", None)):
        data = payload.to_dict()
    else:
        data = None
    if not isinstance(data, Mapping):
        raise ContractError(
            "<payload>",
            f"cannot read a {type(payload).__name__}: pass the SDK's response (or usage) object, a dict or its JSON",
        )
    return data
