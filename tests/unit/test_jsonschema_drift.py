"""The committed JSON Schema files must match the pydantic models they are generated from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.jsonschema_files import CONTRACTS, SCHEMA_DIR, drifted, render, write

FIX = "run `python -m schemas.jsonschema_files` and commit schemas/jsonschema/"


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_committed_schema_matches_the_model(name: str) -> None:
    path = SCHEMA_DIR / name
    assert path.exists(), f"{path} is missing: {FIX}"
    assert path.read_text(encoding="utf-8") == render()[name], f"{path} is stale: {FIX}"


def test_render_is_deterministic_sorted_and_newline_terminated() -> None:
    first, second = render(), render()
    assert first == second
    for text in first.values():
        assert text.endswith("}\n")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_drift_is_detected(tmp_path: Path) -> None:
    write(tmp_path)
    assert drifted(tmp_path) == []
    stale = tmp_path / "usage_event.v1.json"
    stale.write_text(stale.read_text(encoding="utf-8").replace('"minimum": 0', '"minimum": 1', 1), encoding="utf-8")
    (tmp_path / "gpu_usage.v1.json").unlink()
    assert sorted(drifted(tmp_path)) == ["gpu_usage.v1.json", "usage_event.v1.json"]


def test_usage_schema_documents_the_contract() -> None:
    schema = json.loads(render()["usage_event.v1.json"])
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["required"]) == {
        "event_id",
        "event_time",
        "tier",
        "provider",
        "model",
        "workload",
        "input_tokens",
        "output_tokens",
    }
    props = schema["properties"]
    assert "gen_ai.usage.input_tokens" in props["input_tokens"]["description"]
    assert "gen_ai.usage.cache_read.input_tokens" in props["cached_input_tokens"]["description"]
    assert props["event_time"]["format"] == "date-time"
    assert "content_fields_dropped" not in props
    assert "gen_ai.input.messages" in schema["x-tierwise-content-keys"]


def test_gpu_schema_keeps_money_out_of_floats() -> None:
    price = json.loads(render()["gpu_usage.v1.json"])["properties"]["hourly_price_usd"]
    assert {"type": "number"} not in price["anyOf"]
    assert any(option.get("type") == "string" and "pattern" in option for option in price["anyOf"])
