"""The columnar fast path never disagrees with pydantic, the contract's one authority.

Every event below (clean ones, and mutations of them aimed at each shortcut the fast path takes)
goes through landing's BatchDecoder in one batch, in a real in-memory DuckDB. Each record must come
out exactly as pydantic alone would have it: the same row, value for value, or a rejection with
pydantic's reason. Clean events must also take the fast path (that is what makes landing fast).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest

from landing.decoder import BatchDecoder
from landing.record_batches import Records
from landing.tables import GPU, USAGE, TableContract
from schemas import ContractError, UsageEvent

LANDED_AT = datetime(2026, 3, 2, 12, 0)


def usage_events() -> list[dict[str, Any]]:
    base = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    for i in range(12):
        ev: dict[str, Any] = {
            "event_id": f"ev-{i}",
            "event_time": (base + timedelta(seconds=i * 977)).isoformat(),
            "tier": ["closed_api", "hosted_open_api", "self_hosted"][i % 3],
            "provider": ["openai", "together", "vllm"][i % 3],
            "model": "m-é" if i == 5 else f"model-{i % 4}",
            "workload": "support-chat",
            "input_tokens": 1000 + i,
            "output_tokens": 200 + i,
        }
        if i % 3 == 2:
            ev["deployment"] = "gpu-east"
        if i % 2:
            ev |= {
                "cached_input_tokens": 300,
                "cache_creation_input_tokens": 100,
                "reasoning_tokens": 50,
                "team": "helpdesk",
                "tags": {"app": "web", "Channel": "chat"},
                "duration_ms": 812.5,
                "ttft_ms": 95,
                "status": "error",
                "error_type": "timeout",
                "batch": True,
                "shadow": False,
                "eval_score": 0.75,
                "request_id": "req-1",
                "schema_version": "1.3",
                "environment": "staging",
                "operation": "embeddings",
            }
        out.append(ev)
    return out


def _mutations(ev: dict[str, Any]) -> list[Any]:
    """Variants of one valid event, each aimed at a rule or a parsing shortcut."""
    out: list[Any] = []

    def with_(**kv: Any) -> None:
        out.append({**ev, **kv})

    for key in list(ev):
        out.append({k: v for k, v in ev.items() if k != key})  # field missing
        with_(**{key: None})  # explicit null
    for bad in ("3", 3.0, 1.5, True, -1, 2**63, [], {}, None):
        with_(input_tokens=bad)
        with_(cached_input_tokens=bad)
    for bad in (5, True, "", "x" * 256, "x" * 257, "é" * 200, {"a": 1}, ["a"]):
        with_(workload=bad)
        with_(team=bad)
    for bad in ("NaN", 1e308, -0.0, 0, -1, "12", True):
        with_(duration_ms=bad)
        with_(eval_score=bad)
    with_(eval_score=1.5)
    for bad in ("yes", 1, 0, "true"):
        with_(batch=bad)
    for bad in ("open", "CLOSED_API", 1):
        with_(tier=bad)
    with_(status="failed")
    for when in (
        "2026-03-01T10:00:00Z",
        "2026-03-01T10:00:00.123456+02:00",
        "2026-03-01T23:30:00-05:30",
        "2026-03-01T10:00:00",
        "2026-03-01T10:00:00.1234567Z",
        "2026-02-30T10:00:00Z",
        "2026-03-01T24:00:00Z",
        "2026-03-01t10:00:00z",
        "2026-03-01 10:00:00Z",
        "2026-03-01",
        "2026-03-01T10:00:60Z",
        "1772359200",
        1772359200,
        "2026-03-01T10:00:00+24:00",
    ):
        with_(event_time=when)
    with_(cached_input_tokens=ev["input_tokens"] + 1)
    with_(cached_input_tokens=600, cache_creation_input_tokens=ev["input_tokens"] - 599)
    with_(reasoning_tokens=ev["output_tokens"] + 1)
    with_(tier="self_hosted", deployment=None)
    for version in ("1", "1.12", "2", "1.", "01", "1\n"):
        with_(schema_version=version)
    for tags in (
        {},
        {"prompt": "hello"},
        {"Prompt": ""},
        {"gen_ai.prompt.0.content": "x"},
        {"a": 1},
        {"a": None},
        {"a": "x" * 257},
        {"k" * 129: "v"},
        {"": "v"},
        {f"t{i}": "v" for i in range(65)},
        {"a": {"b": "c"}},
        {"é": "x"},
        {"team": None},
        "plain",
        "{}",
        ["a"],
    ):
        with_(tags=tags)
    with_(prompt="what is my balance?")  # content among unknown fields: dropped and counted
    with_(prompt=None)
    with_(unknown_field=1)
    with_(messages=[{"role": "user", "content": "hi"}])
    with_(nested={"deep": {"prompt": "x"}})
    return out


def _encodings(ev: Any) -> list[bytes]:
    """The same event written the ways producers write JSON, plus texts DuckDB or polars read loosely."""
    compact = json.dumps(ev, separators=(",", ":"), ensure_ascii=False)
    return [
        compact.encode(),
        json.dumps(ev).encode(),  # ", " and ": "
        json.dumps(ev, indent=2).encode(),  # newlines
        compact.replace('":', '" :', 1).encode(),
        compact.replace('":', '":  ', 1).encode(),
        json.dumps(ev).encode().replace(b"e", b"\\u0065", 1),  # an escape
        (compact[:-1] + ',"event_id":"dup"}').encode() if isinstance(ev, dict) else b"",  # a repeated key
        (compact[:-1] + ',"team":null}').encode() if isinstance(ev, dict) else b"",  # repeated key, then null
        (compact[:-1] + ",}").encode(),  # a trailing comma
        compact.replace(":", ':NaN,"x":', 1).encode(),
        b" " + compact.encode(),
        compact.encode() + b" ",
    ]


def _pydantic_row(contract: TableContract, value: bytes) -> tuple[dict[str, Any] | None, int, str | None]:
    try:
        event = contract.parse(value)
    except (ContractError, ValueError, TypeError) as exc:
        return None, 0, str(exc)
    row = event.to_row()
    return row, event.content_fields_dropped, None


def _check(contract: TableContract, values: list[bytes], topic: str) -> tuple[BatchDecoder, int]:
    """Decode `values` as one batch and compare every record with pydantic; returns the valid count."""
    decoder = BatchDecoder(contract, topic)
    con = duckdb.connect()
    records = Records([i % 3 for i in range(len(values))], list(range(len(values))), [None] * len(values), values)
    decoded = decoder.decode(records, LANDED_AT)
    with decoded.registered(con) as rows:
        got = {r["kafka_offset"]: r for r in con.sql(f"SELECT * FROM {rows}").to_arrow_table().to_pylist()}
    rejected = {r.offset: r for r in decoded.rejected}
    expected_dropped = 0
    for offset, value in enumerate(values):
        row, dropped, reason = _pydantic_row(contract, value)
        if not value:
            assert rejected[offset].error_class == "empty"
            continue
        if row is None:
            assert offset not in got, f"fast path accepted what pydantic rejects ({reason}): {value!r}"
            assert rejected[offset].reason == reason, value
            continue
        expected_dropped += dropped
        assert offset in got, f"valid event lost: {value!r} ({rejected.get(offset)})"
        out = got[offset]
        if "tags" in out:
            out["tags"] = dict(out["tags"]) if out["tags"] else None
        expected = {**row, "kafka_topic": topic, "kafka_partition": offset % 3, "kafka_offset": offset, "landed_at": LANDED_AT}
        assert out == expected, value
    assert len(got) + len(rejected) == len(values)
    assert decoded.content_dropped == expected_dropped
    return decoder, len(got)


def test_clean_usage_events_take_the_fast_path_and_match_pydantic() -> None:
    values = [json.dumps(ev, separators=(",", ":")).encode() for ev in usage_events()]
    values += [json.dumps(ev).encode() for ev in usage_events()]
    # What the tierwise emitter sends: pydantic's own JSON, nulls included.
    values += [UsageEvent.model_validate(ev).model_dump_json().encode() for ev in usage_events()]
    decoder, _ = _check(USAGE, values, "llm.usage.v1")
    # Only the escaped "é" of json.dumps's default ASCII output goes to pydantic.
    assert decoder.slow_rows == sum(1 for v in values if b"\\" in v) == 2


@pytest.mark.parametrize("min_chunk", [1, 64])
def test_every_mutation_matches_pydantic(min_chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # With chunks halved down to single lines, every line polars can read meets the compiled check.
    monkeypatch.setattr("landing.decoder.MIN_CHUNK", min_chunk)
    values: list[bytes] = []
    for ev in usage_events()[:4]:
        for variant in _mutations(ev):
            values.extend(_encodings(variant))
    values += [b"not json", b"[1, 2]", b"null", b"\xff\xfe", b"{", b"{}", b'"text"']
    random.Random(7).shuffle(values)  # poison lands among clean rows: bisection must isolate it
    if min_chunk == 1:
        values = values[:1500]  # halving to single lines parses each line many times
    decoder, valid = _check(USAGE, values, "llm.usage.v1")
    if min_chunk == 1:  # compact and default-spaced encodings of plain valid variants were vouched for
        assert len(values) - decoder.slow_rows > valid * 0.1


@pytest.mark.parametrize("size", [1, 64, 65, 1000])
def test_one_bad_line_does_not_send_its_whole_batch_to_pydantic(size: int) -> None:
    good = [json.dumps({**usage_events()[0], "event_id": f"g-{i}"}).encode() for i in range(size)]
    values = good[: size // 2] + [b'{"event_id": "x", "input_tokens": "12"}'] + good[size // 2 :]
    decoder, valid = _check(USAGE, values, "llm.usage.v1")
    assert valid == size and decoder.slow_rows <= 64


def test_many_unreadable_lines_go_to_pydantic_alone() -> None:
    # About 1% truncated and mistyped lines spread through a batch (what a broken producer sends): each
    # of them goes to pydantic, and no clean line with it (halving around each would take its neighbours).
    rng = random.Random(11)
    values: list[bytes] = []
    bad = 0
    for i in range(5000):
        event = {**usage_events()[i % 4], "event_id": f"m-{i}"}
        line = json.dumps(event).encode()
        if rng.random() < 0.01:
            bad += 1
            if i % 2:  # truncated: not JSON
                line = line[: rng.randrange(10, len(line) - 5)]
            else:  # a count sent as text: JSON, of the wrong type
                line = json.dumps({**event, "input_tokens": str(event["input_tokens"])}).encode()
        values.append(line)
    decoder, valid = _check(USAGE, values, "llm.usage.v1")
    assert bad > 20 and valid == 5000 - bad
    assert decoder.slow_rows == bad


def gpu_events() -> list[dict[str, Any]]:
    return [
        {
            "event_id": "g-1",
            "interval_start": "2026-03-01T23:59:00Z",
            "interval_end": "2026-03-02T00:01:00Z",
            "deployment": "gpu-east",
            "gpu_type": "H100-80GB",
            "gpu_count": 8,
        },
        {
            "event_id": "g-2",
            "interval_start": "2026-03-01T10:00:00+01:00",
            "interval_end": "2026-03-01T10:01:00+01:00",
            "deployment": "gpu-east",
            "gpu_type": "L4",
            "gpu_count": 1,
            "utilization": 0.5,
            "engine": "vllm",
            "model": "qwen",
            "quantization": "fp8",
            "hourly_price_usd": "2.49",
        },
    ]


def test_gpu_heartbeats_match_pydantic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("landing.decoder.MIN_CHUNK", 1)
    values: list[bytes] = []
    for ev in gpu_events():
        values.append(json.dumps(ev).encode())
        for variant in (
            {**ev, "interval_end": ev["interval_start"]},
            {**ev, "gpu_count": 0},
            {**ev, "engine": "tgi"},
            {**ev, "hourly_price_usd": 2.49},
            {**ev, "hourly_price_usd": 2.0},
            {**ev, "hourly_price_usd": 3},
            {**ev, "hourly_price_usd": -1.5},
            {**ev, "hourly_price_usd": float("nan")},
            {**ev, "hourly_price_usd": float("inf")},
            {**ev, "hourly_price_usd": 1e-13},
            {**ev, "hourly_price_usd": None},
            {**ev, "utilization": 1.01},
        ):
            values.extend(_encodings(variant))
    # JSON numbers whose literal text a float cannot hold: both paths must keep (or reject) the digits.
    for ev in gpu_events():
        text = json.dumps({k: v for k, v in ev.items() if k != "hourly_price_usd"})[:-1]
        for literal in ("123456789.123456789012", "2.000000000000", "1.0000000000001", "1e2"):
            values.append(f'{text}, "hourly_price_usd": {literal}}}'.encode())
    decoder, valid = _check(GPU, values, "llm.gpu.v1")
    assert decoder.slow_rows < len(values)
    assert valid > 0
