"""`tierwise replay` (JSONL, CSV, OTLP/JSON), dead letters, and the emit/replay/simulate commands."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from core.home import Home
from ingest.adapters import events_from_otlp_json
from ingest.emitter import TelemetryEmitter
from ingest.replay import FileDeadLetters, replay_files
from ingest.simulator import SimConfig, Simulator
from schemas import UsageEvent, parse_gpu, parse_usage
from streaming.broker import free_port
from streaming.dlq import EXCEPTION_CLASS, EXCEPTION_MESSAGE, header_dict
from tests.factories import gpu_event, read_topic, usage_event
from tierwise.cli import main

pytestmark = pytest.mark.kafka
OTLP = Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "otlp_genai_traces.json"


def replay(paths: list[Path], bootstrap: str, topics: dict[str, str], spill: Path) -> Any:
    emitter = TelemetryEmitter(bootstrap, topics["usage"], topics["gpu"], spill)
    dead = FileDeadLetters(bootstrap, topics["usage_dlq"], topics["gpu_dlq"])
    try:
        summary = replay_files(paths, emitter.emit, dead, progress=False)
    finally:
        emitter.close(timeout=60)
        dead.close()
    assert emitter.stats().sent + emitter.stats().replayed == summary.accepted
    return summary


def landed_usage(bootstrap: str, topic: str, expect: int) -> dict[str, UsageEvent]:
    records = read_topic(bootstrap, topic, expect)
    events = {e.event_id: e for e in (parse_usage(m.value) for m in records)}
    assert len(records) == len(events) == expect
    return events


def test_jsonl_replay_sends_valid_lines_and_dead_letters_the_rest_with_line_numbers(
    kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path
) -> None:
    events = [usage_event(i, tags={"app": "x"}) for i in range(30)]
    lines = [json.dumps(e) for e in events[:10]]
    lines += ["", '{"event_id": "broken', json.dumps(usage_event(99, output_tokens=-3))]  # lines 11-13
    lines += [json.dumps(e) for e in events[10:]] + [json.dumps(gpu_event(1))]
    path = tmp_path / "usage.jsonl"
    path.write_text("\n".join(lines) + "\n")

    summary = replay([path], kafka_bootstrap, fresh_topics, tmp_path / "spill")

    assert (summary.read, summary.accepted, summary.gpu, summary.invalid) == (33, 31, 1, 2)
    assert [(r.line, r.reason.split(":")[0]) for r in summary.rejections] == [(12, "<json>"), (13, "output_tokens")]
    landed = landed_usage(kafka_bootstrap, fresh_topics["usage"], 30)
    assert all(landed[e["event_id"]] == parse_usage(e) for e in events)
    (gpu,) = read_topic(kafka_bootstrap, fresh_topics["gpu"], 1)
    assert parse_gpu(gpu.value) == parse_gpu(gpu_event(1))

    dead = read_topic(kafka_bootstrap, fresh_topics["usage_dlq"], 2)
    assert len(dead) == 2
    headers = sorted((header_dict(m.headers) for m in dead), key=lambda h: h[EXCEPTION_MESSAGE])
    assert all(h[EXCEPTION_CLASS] == "ContractError" for h in headers)
    assert headers[0][EXCEPTION_MESSAGE].startswith("usage.jsonl:12: <json>")
    assert headers[1][EXCEPTION_MESSAGE] == "usage.jsonl:13: output_tokens: must be >= 0 (got -3)"
    assert {m.value for m in dead} == {lines[11].encode(), lines[12].encode()}


def test_csv_replay_lands_the_same_events_as_their_json(
    kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path
) -> None:
    events = [
        usage_event(
            i,
            tags={"app": "csv", "n": str(i)},
            cached_input_tokens=i,
            duration_ms=12.5 + i,
            shadow=i % 2 == 0,
            deployment=None if i % 3 else "gpu-east-1",
        )
        for i in range(20)
    ]
    fields = sorted({k for e in events for k in e})
    path = tmp_path / "usage.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for e in events:
            writer.writerow({k: json.dumps(v) if k == "tags" else ("" if v is None else v) for k, v in e.items()})
        writer.writerow({**{k: "" for k in fields}, "event_id": "bad-row", "input_tokens": "many"})

    summary = replay([path], kafka_bootstrap, fresh_topics, tmp_path / "spill")

    assert (summary.accepted, summary.invalid) == (20, 1)
    assert summary.rejections[0].line == 22  # the header is line 1
    landed = landed_usage(kafka_bootstrap, fresh_topics["usage"], 20)
    assert all(landed[e["event_id"]] == parse_usage(e) for e in events)


def test_otlp_json_replay_lands_what_the_adapter_derives_as_a_document_and_as_lines(
    kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path
) -> None:
    doc = json.loads(OTLP.read_text())
    derived = list(events_from_otlp_json(doc))
    expected = {e.event_id: e for e in derived if isinstance(e, UsageEvent)}
    span_errors = len(derived) - len(expected)
    assert expected and span_errors  # the fixture has both
    pretty = tmp_path / "traces.json"
    pretty.write_text(OTLP.read_text())

    summary = replay([pretty], kafka_bootstrap, fresh_topics, tmp_path / "spill")
    assert (summary.accepted, summary.invalid) == (len(expected), span_errors)
    landed = landed_usage(kafka_bootstrap, fresh_topics["usage"], len(expected))
    # model_dump: the adapter's count of content it dropped is not part of the wire format.
    assert {k: e.model_dump() for k, e in landed.items()} == {k: e.model_dump() for k, e in expected.items()}

    # The collector's file exporter writes one compact document per line.
    lines = tmp_path / "traces.jsonl"
    lines.write_bytes(orjson.dumps(doc) + b"\n" + orjson.dumps(doc) + b"\n")
    summary = replay([lines], kafka_bootstrap, fresh_topics, tmp_path / "spill")
    assert (summary.accepted, summary.invalid) == (2 * len(expected), 2 * span_errors)
    assert {r.line for r in summary.rejections} == {1, 2}
    records = read_topic(kafka_bootstrap, fresh_topics["usage"], 3 * len(expected))
    assert len(records) == 3 * len(expected)  # the same spans resent: dedupe is landing's job
    assert {parse_usage(m.value).event_id for m in records} == set(expected)


def test_cli_emit_replay_and_simulate_round_trip(
    kafka_bootstrap: str,
    fresh_topics: dict[str, str],
    tw_home: Home,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    topic = ["--topic", fresh_topics["usage"], "--gpu-topic", fresh_topics["gpu"]]

    assert main(["emit", "--json", json.dumps(usage_event(1)), *topic]) == 0
    assert (
        main(
            [
                "emit",
                "--workload",
                "cli",
                "--tier",
                "self_hosted",
                "--provider",
                "vllm",
                "--model",
                "qwen3.5-72b",
                "--deployment",
                "gpu-east-1",
                "--input-tokens",
                "10",
                "--output-tokens",
                "2",
                "--tag",
                "k=v",
                "--event-id",
                "cli-1",
                *topic,
            ]
        )
        == 0
    )
    path = tmp_path / "more.jsonl"
    path.write_text(json.dumps(usage_event(2)) + "\nnot json\n")
    # Some records invalid: the valid ones are sent, and the exit code says not all of them were.
    assert main(["replay", str(path), *topic]) == 3
    out = capsys.readouterr().out
    assert "1 sent (0 GPU), 1 invalid" in out and f"{path}:2: <json>" in out
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n{}\n")
    assert main(["replay", str(junk), *topic, "--no-dlq"]) == 3
    assert "0 sent (0 GPU), 2 invalid" in capsys.readouterr().out
    landed = landed_usage(kafka_bootstrap, fresh_topics["usage"], 3)
    assert landed["cli-1"].tags == {"k": "v"} and landed["cli-1"].deployment == "gpu-east-1"

    sim = ["simulate", "--days", "1", "--start", "2026-03-02", "--rate", "0.02", "--bad-rate", "0.05"]
    assert main([*sim, *topic]) == 0
    assert main([*sim, "--out", str(tmp_path / "sim.jsonl")]) == 0
    records = list(Simulator(SimConfig(days=1, start=date(2026, 3, 2), rate=0.02, bad_rate=0.05)).records())
    assert (tmp_path / "sim.jsonl").read_bytes() == b"".join(r.value + b"\n" for r in records)
    usage_values = [r.value for r in records if r.kind != "gpu"]  # bad ones go raw to the usage topic
    assert any(r.kind == "bad" for r in records)
    landed_values = [m.value for m in read_topic(kafka_bootstrap, fresh_topics["usage"], 3 + len(usage_values))]
    assert len(landed_values) == 3 + len(usage_values)
    assert sum((Counter(landed_values) - Counter(usage_values)).values()) == 3  # the emitted/replayed ones
    gpu = read_topic(kafka_bootstrap, fresh_topics["gpu"], sum(r.kind == "gpu" for r in records))
    assert len(gpu) == sum(r.kind == "gpu" for r in records)


def test_cli_errors_are_one_line(
    tw_home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", dead)
    monkeypatch.setenv("TIERWISE_KAFKA_TIMEOUT", "2")
    assert main(["replay", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps(usage_event(1)) + "\n")
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert dead in err and len(err.strip().splitlines()) == 1
    assert main(["emit", "--json", '{"event_id": "x"}']) == 2
    assert "invalid event: " in capsys.readouterr().err
