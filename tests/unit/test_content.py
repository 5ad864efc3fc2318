"""Request/response content is dropped at the edge, counted, and never leaves in any output."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import CONTENT_KEYS, GpuUsage, UsageEvent, is_content_key, parse_gpu, parse_usage, strip_content
from tests.factories import usage_event

SECRET = "SECRET-TEXT-do-not-store"


def usage(**extra: Any) -> dict[str, Any]:
    return usage_event(1, **extra)


@pytest.mark.parametrize(
    "key",
    [
        "prompt",
        "prompts",
        "messages",
        "input",
        "output",
        "completion",
        "completions",
        "choices",
        "gen_ai.prompt",
        "gen_ai.completion",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "system_prompt",
        "instructions",
        "response_text",
        "Messages",
        "gen_ai.prompt.0.content",
        "gen_ai.completion.3.role",
        "llm.input_messages.0.message.content",
    ],
)
def test_content_keys_are_recognised(key: str) -> None:
    assert is_content_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "input_tokens",
        "output_tokens",
        "prompt_tokens",
        "model",
        "workload",
        "gen_ai.usage.input_tokens",
        "gen_ai.request.model",
        "tags",
        "usage",
    ],
)
def test_usage_keys_are_not_content(key: str) -> None:
    assert not is_content_key(key)


def test_strip_content_drops_and_counts_nested_content_without_touching_the_input() -> None:
    payload = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": SECRET}],  # one field, however deep its own content
        "metadata": {"prompt": SECRET, "team": "cx"},
        "attempts": [{"completion": SECRET, "ms": 3}, {"ms": 4}],
        "usage": {"prompt_tokens": 10},
    }
    clean, dropped = strip_content(payload)
    assert dropped == 3
    assert clean == {
        "model": "gpt-4o",
        "metadata": {"team": "cx"},
        "attempts": [{"ms": 3}, {"ms": 4}],
        "usage": {"prompt_tokens": 10},
    }
    assert SECRET not in json.dumps(clean)
    assert "messages" in payload and payload["metadata"]["prompt"] == SECRET


def test_empty_content_placeholders_are_dropped_but_not_counted() -> None:
    clean, dropped = strip_content({"messages": "{}", "response": None, "prompt": "", "choices": [], "a": 1})
    assert (clean, dropped) == ({"a": 1}, 0)


def test_usage_event_counts_content_and_never_serialises_it() -> None:
    raw = usage(
        **{
            "prompt": SECRET,
            "messages": [{"role": "user", "content": SECRET}],
            "gen_ai.output.messages": SECRET,
            "choices": [{"message": {"content": SECRET}}],
            "sdk": "py-1.2",  # unknown but not content: ignored, not counted
        }
    )
    for source in (raw, json.dumps(raw), json.dumps(raw).encode()):
        event = parse_usage(source)
        assert event.content_fields_dropped == 4
        assert SECRET not in event.model_dump_json()
        assert SECRET not in repr(event.model_dump())
        assert SECRET not in repr(event.to_row())


def test_content_in_tags_is_dropped_and_counted() -> None:
    event = parse_usage(usage(tags={"prompt": SECRET, "region": "eu"}))
    assert event.tags == {"region": "eu"}
    assert event.content_fields_dropped == 1
    assert SECRET not in event.model_dump_json()


def test_content_count_is_not_part_of_the_wire_format_or_schema() -> None:
    event = parse_usage(usage(prompt=SECRET))
    assert event.content_fields_dropped == 1
    assert "content_fields_dropped" not in json.loads(event.model_dump_json())
    assert "content_fields_dropped" not in UsageEvent.model_json_schema()["properties"]
    # and a producer cannot set it by sending it
    assert parse_usage(usage(content_fields_dropped=7, _content_fields_dropped=7)).content_fields_dropped == 0


def test_content_count_is_read_only() -> None:
    event = parse_usage(usage(prompt=SECRET))
    with pytest.raises((AttributeError, ValidationError)):
        event.content_fields_dropped = 0  # type: ignore[misc]
    assert event.content_fields_dropped == 1


def test_gpu_events_drop_content_too() -> None:
    event = parse_gpu(
        {
            "event_id": "g-1",
            "interval_start": "2025-06-01T12:00:00Z",
            "interval_end": "2025-06-01T12:01:00Z",
            "deployment": "vllm-a",
            "gpu_type": "L4",
            "gpu_count": 1,
            "prompt": SECRET,
        }
    )
    assert isinstance(event, GpuUsage)
    assert event.content_fields_dropped == 1
    assert SECRET not in event.model_dump_json()


def test_content_key_set_is_lower_case() -> None:
    # Matching lower-cases the key; an upper-case entry in the set could never match.
    assert all(key == key.lower() for key in CONTENT_KEYS)


def test_scrub_raw_is_bounded_and_keeps_only_objects_without_content() -> None:
    from schemas.content import SCRUB_MAX_DEPTH, json_depth, scrub_raw

    deep = b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert json_depth(deep) == 5001 and scrub_raw(deep) == b""  # json.loads would raise RecursionError
    assert scrub_raw(b'{"a":' + b"[" * (SCRUB_MAX_DEPTH - 2) + b"]" * (SCRUB_MAX_DEPTH - 2) + b"}") != b""
    assert json_depth(b'{"a": "[[[[", "b": [1, [2]]}') == 3  # brackets inside strings do not count
    assert scrub_raw(b'{"event_id": "x", "prompt": "hi there"}') == b'{"event_id": "x"}'
    assert scrub_raw(b'{"event_id": "broken') == b'{"event_id": "broken'
    assert scrub_raw(b'{"event_id": "x", "prompt": "hi th') == b""
    assert scrub_raw(b'["write me a poem"]') == b"" and scrub_raw(b"write me a poem") == b""
    assert scrub_raw(b'{"a": "' + b"x" * (1 << 20) + b'"}') == b""
