"""The one place that decides what counts as request/response content.

tierwise measures usage; it never stores or forwards what was said. Any key below, wherever it turns
up in an event or a provider payload, is dropped at the edge and counted, so a producer that leaks
prompts shows up as a non-zero ``content_fields_dropped`` instead of as text in the warehouse.
Keys are matched case-insensitively.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import Any

# Exact key names (lower case) that carry prompt, completion, tool-call or system text.
CONTENT_KEYS: frozenset[str] = frozenset(
    {
        # generic request/response text
        "prompt",
        "prompts",
        "messages",
        "message",
        "input",
        "inputs",
        "output",
        "outputs",
        "input_text",
        "output_text",
        "prompt_text",
        "completion",
        "completions",
        "completion_text",
        "choices",
        "content",
        "contents",
        "text",
        "response",
        "response_text",
        "request_body",
        "response_body",
        "raw_request",
        "raw_response",
        "query",
        "documents",
        # system prompts
        "system",
        "system_prompt",
        "system_instruction",
        "system_instructions",
        "systeminstruction",
        "instructions",
        # model output that is not the answer but still text
        "candidates",
        "reasoning_content",
        "thinking",
        "tool_calls",
        "function_call",
        # LiteLLM logging objects that embed the request or tool payloads
        "proxy_server_request",
        "prompt_variables",
        "mcp_tool_call_metadata",
        "guardrail_request",
        "guardrail_response",
        # OpenTelemetry GenAI attributes (current and deprecated)
        "gen_ai.prompt",
        "gen_ai.completion",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        # OpenInference / OpenLLMetry span attributes
        "input.value",
        "output.value",
        "llm.prompts",
        "llm.completions",
        "llm.input_messages",
        "llm.output_messages",
    }
)

# Flattened attribute families, e.g. ``gen_ai.prompt.0.content`` from older instrumentations.
CONTENT_PREFIXES: tuple[str, ...] = (
    "gen_ai.prompt.",
    "gen_ai.completion.",
    "gen_ai.input.messages.",
    "gen_ai.output.messages.",
    "llm.prompts.",
    "llm.completions.",
    "llm.input_messages.",
    "llm.output_messages.",
)

_EMPTY_TEXT = frozenset({"", "{}", "[]", "null"})


def is_content_key(key: str) -> bool:
    """True when a key names request/response text that must never be kept."""
    lowered = key.lower()
    return lowered in CONTENT_KEYS or lowered.startswith(CONTENT_PREFIXES)


def strip_content(mapping: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """Return a copy of ``mapping`` without content keys, and how many content fields were dropped.

    Nested objects and arrays are cleaned too (a dropped key is not searched further: one leaked
    ``messages`` array counts once). A content key holding nothing (null, "", {}, [], or the
    placeholder text "{}" some gateways log when prompt storage is off) is dropped but not counted.
    """
    return _walk(mapping, copy=True)


def count_content(value: Any) -> int:
    """How many content fields ``strip_content`` would drop from ``value``, without copying anything."""
    return _walk(value, copy=False)[1]


def _walk(value: Any, copy: bool) -> tuple[Any, int]:
    # One walk for both: the copy without content (when asked) and the count of what was dropped.
    dropped = 0
    if isinstance(value, Mapping):
        clean: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and is_content_key(key):
                dropped += holds_content(item)
                continue
            item, n = _walk(item, copy)
            dropped += n
            if copy:
                clean[key] = item
        return (clean if copy else value), dropped
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            item, n = _walk(item, copy)
            dropped += n
            if copy:
                out.append(item)
        return (out if copy else value), dropped
    return value, 0


def holds_content(value: Any) -> bool:
    """False for the empty values and placeholders that carry no request/response text."""
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() not in _EMPTY_TEXT
    if isinstance(value, (Mapping, list, tuple)):
        return len(value) > 0
    return True


# A dead letter is only kept when it can be checked for content safely: json.loads recurses once per
# nesting level (a value nested thousands deep raises RecursionError), and parsing costs memory.
SCRUB_MAX_BYTES = 1 << 20
SCRUB_MAX_DEPTH = 64
# Unrolled ("normal* (special normal*)*"): one step per run of plain characters, not one alternation per byte.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_KEY = re.compile(rb'"((?:[^"\\]|\\.){1,128})"\s*:')
_DEPTH = {ord("{"): 1, ord("["): 1, ord("}"): -1, ord("]"): -1}
_NOT_BRACKET = bytes(c for c in range(256) if c not in _DEPTH)


def json_depth(value: bytes) -> int:
    """How deep the arrays and objects of JSON text nest, without parsing it (strings are skipped)."""
    brackets = _STRING.sub(b"", value).translate(None, _NOT_BRACKET)
    return max(accumulate(_DEPTH[c] for c in brackets), default=0)


def _names_content_key(value: bytes) -> bool:
    return any(is_content_key(m.group(1).decode("utf-8", "replace")) for m in _KEY.finditer(value))


def scrub_raw(value: bytes) -> bytes:
    """Raw bytes of a rejected record, safe to keep for repair: never with request/response text.

    A JSON object loses its content fields; a broken object (truncated, bad UTF-8, a NaN) is kept when
    it names no content key. Nothing else is kept (empty bytes): plain text, a bare JSON string or
    array cannot be told apart from a prompt, and bytes over ``SCRUB_MAX_BYTES`` or nested deeper than
    ``SCRUB_MAX_DEPTH`` cannot be checked safely.
    """
    if len(value) > SCRUB_MAX_BYTES or json_depth(value) > SCRUB_MAX_DEPTH:
        return b""
    try:
        doc = json.loads(value)
    except (ValueError, UnicodeDecodeError, RecursionError):
        broken_object = value.lstrip()[:1] == b"{"
        return value if broken_object and not _names_content_key(value) else b""
    if not isinstance(doc, dict):
        return b""
    clean, dropped = strip_content(doc)
    return json.dumps(clean).encode() if dropped else value
