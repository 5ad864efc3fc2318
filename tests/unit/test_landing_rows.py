"""What one landed batch does to the raw tables, in a real DuckDB: dedupe, dirty days, counts."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import duckdb

from landing.decoder import BatchDecoder
from landing.record_batches import Records
from landing.tables import GPU, USAGE, TableContract
from landing.warehouse import connect
from landing.writer import WarehouseWriter

AT = datetime(2026, 3, 5, 12, 0)


def usage(event_id: str, when: str, tokens: int = 100) -> bytes:
    return json.dumps(
        {
            "event_id": event_id,
            "event_time": when,
            "tier": "closed_api",
            "provider": "openai",
            "model": "gpt-5.4",
            "workload": "w",
            "input_tokens": tokens,
            "output_tokens": 1,
        }
    ).encode()


def land(
    con: duckdb.DuckDBPyConnection,
    contract: TableContract,
    topic: str,
    values: list[bytes],
    first_offset: int,
    at: datetime = AT,
) -> tuple[int, int, list[date]]:
    offsets = list(range(first_offset, first_offset + len(values)))
    records = Records([0] * len(values), offsets, [None] * len(values), values)
    batch = BatchDecoder(contract, topic).decode(records, at)
    result = WarehouseWriter(con, contract, topic, "test").commit_batch(batch, {0: offsets[-1] + 1}, at)
    return result.landed, result.duplicates, sorted(result.days)


def test_first_copy_wins_in_a_batch_and_the_table_wins_over_later_batches(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    first = [usage("a", "2026-03-01T10:00:00Z", 1), usage("a", "2026-03-01T10:00:00Z", 2), usage("b", "2026-03-02T10:00:00Z")]
    assert land(con, USAGE, "llm.usage.v1", first, 0) == (2, 1, [date(2026, 3, 1), date(2026, 3, 2)])
    # A resend of "a" in a later batch is dropped; "c" is new.
    second = [usage("a", "2026-03-01T10:00:00Z", 3), usage("c", "2026-03-01T11:00:00Z")]
    assert land(con, USAGE, "llm.usage.v1", second, 3) == (1, 1, [date(2026, 3, 1)])
    rows = con.execute("SELECT event_id, input_tokens, kafka_offset FROM raw.usage_events ORDER BY 1").fetchall()
    assert rows == [("a", 1, 0), ("b", 100, 2), ("c", 100, 4)]
    marks = con.execute("SELECT event_date, rows_since FROM raw.dirty_days ORDER BY 1").fetchall()
    assert marks == [(date(2026, 3, 1), 2), (date(2026, 3, 2), 1)]


def test_a_resend_whose_time_moved_across_midnight_lands_once(tmp_path: Path) -> None:
    # The key is event_id alone: a copy stamped a few minutes later, past midnight, is the same event.
    con = connect(tmp_path / "w.duckdb")
    land(con, USAGE, "llm.usage.v1", [usage("a", "2026-03-01T23:58:00Z")], 0)
    assert land(con, USAGE, "llm.usage.v1", [usage("a", "2026-03-02T00:03:00Z")], 1) == (0, 1, [])
    # ... and inside one batch too, whichever day each copy carries.
    assert land(con, USAGE, "llm.usage.v1", [usage("b", "2026-03-04T23:59:00Z"), usage("b", "2026-03-05T00:01:00Z")], 2) == (
        1,
        1,
        [date(2026, 3, 4)],
    )
    assert con.execute("SELECT count(*), count(DISTINCT event_id) FROM raw.usage_events").fetchall() == [(2, 2)]


def test_a_gpu_interval_marks_every_day_it_spans(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    beat = {
        "event_id": "g",
        "interval_start": "2026-03-01T23:00:00Z",
        "interval_end": "2026-03-03T00:00:00.000001Z",
        "deployment": "d",
        "gpu_type": "H100-80GB",
        "gpu_count": 1,
    }
    # Ends one microsecond into 03-03: that day holds a sliver of its cost and must be rebuilt too.
    assert land(con, GPU, "llm.gpu.v1", [json.dumps(beat).encode()], 0) == (
        1,
        0,
        [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)],
    )
    exact = {**beat, "event_id": "h", "interval_end": "2026-03-03T00:00:00Z"}
    assert land(con, GPU, "llm.gpu.v1", [json.dumps(exact).encode()], 1)[2] == [date(2026, 3, 1), date(2026, 3, 2)]


def test_a_later_mark_of_a_dirty_day_takes_the_newer_time(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    land(con, USAGE, "llm.usage.v1", [usage("a", "2026-03-01T10:00:00Z")], 0, at=datetime(2026, 3, 5, 12))
    land(con, USAGE, "llm.usage.v1", [usage("b", "2026-03-01T11:00:00Z")], 1, at=datetime(2026, 3, 5, 13))
    assert con.execute("SELECT last_marked_at, rows_since FROM raw.dirty_days").fetchall() == [(datetime(2026, 3, 5, 13), 2)]


def test_a_warehouse_from_before_the_rename_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    old = duckdb.connect(str(path))
    old.execute("CREATE SCHEMA raw")
    old.execute("""CREATE TABLE raw.dirty_days (topic VARCHAR NOT NULL, event_date DATE NOT NULL,
                   first_marked_at TIMESTAMP NOT NULL, rows_since BIGINT NOT NULL, PRIMARY KEY (topic, event_date))""")
    old.execute("INSERT INTO raw.dirty_days VALUES ('llm.usage.v1', DATE '2026-03-01', TIMESTAMP '2026-03-04', 1)")
    old.close()
    con = connect(path)
    land(con, USAGE, "llm.usage.v1", [usage("a", "2026-03-01T10:00:00Z")], 0)
    assert con.execute("SELECT last_marked_at, rows_since FROM raw.dirty_days").fetchall() == [(AT, 2)]
    assert con.execute("SELECT source FROM raw.dirty_days").fetchall() == [("llm.usage.v1",)]
