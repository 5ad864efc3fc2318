"""Landing against a real broker and a real DuckDB file: exactly once, duplicates, dead letters, late days."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from landing.consumer import TopicLander
from landing.dirty_days import clear_dirty_days, dirty_days_in
from landing.warehouse import connect
from streaming.dlq import header_dict
from tests.factories import encode, gpu_event, produce, read_topic, usage_event

pytestmark = pytest.mark.kafka


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = connect(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


def test_duplicates_by_event_id_land_once_and_are_counted(
    kafka_bootstrap: str, fresh_topics: dict[str, str], warehouse: duckdb.DuckDBPyConnection
) -> None:
    values = [encode(usage_event(i)) for i in range(500)]
    resent = [encode(usage_event(i, input_tokens=999_999)) for i in range(100, 130)]  # same ids, later
    # Keyed by workload like the SDK does, so a resend follows its original in the same partition.
    keys = [f"wl-{i % 4}".encode() for i in range(500)] + [f"wl-{i % 4}".encode() for i in range(100, 130)]
    produce(kafka_bootstrap, fresh_topics["usage"], values + resent, keys=keys)
    first = TopicLander(kafka_bootstrap, warehouse, fresh_topics["usage"], batch_size=200).land()
    assert (first.landed, first.duplicates, first.rejected) == (500, 30, 0)
    # A later run in a separate batch sees the same ids again: still one row each.
    produce(kafka_bootstrap, fresh_topics["usage"], [encode(usage_event(i)) for i in range(490, 510)])
    second = TopicLander(kafka_bootstrap, warehouse, fresh_topics["usage"]).land()
    assert (second.landed, second.duplicates) == (10, 10)
    n, distinct, big = warehouse.execute(
        "SELECT count(*), count(DISTINCT event_id), count(*) FILTER (input_tokens = 999999) FROM raw.usage_events"
    ).fetchone()
    assert (n, distinct, big) == (510, 510, 0)  # the first copy wins
    dups = warehouse.execute("SELECT sum(duplicates_dropped) FROM raw.landing_batches").fetchone()[0]
    assert dups == 40
    # Nothing is pending: a third run reads nothing.
    assert TopicLander(kafka_bootstrap, warehouse, fresh_topics["usage"]).land().batches == 0


def test_each_kind_of_poison_goes_to_dlq_and_rejected_events_while_the_rest_land(
    kafka_bootstrap: str, fresh_topics: dict[str, str], warehouse: duckdb.DuckDBPyConnection
) -> None:
    topic = fresh_topics["usage"]
    poison = {
        "invalid_json": b'{"event_id": "x", "tier": ',
        "contract_violation": encode(usage_event(9001, output_tokens=-3, messages=[{"content": "SECRET prompt"}])),
        "oversized": encode(usage_event(9002, tags={"pad": "x" * 70_000})),
        "empty": b"",
    }
    good = [encode(usage_event(i)) for i in range(60)]
    # All on one key, hence one partition: the poison sits between good events and must not block them.
    values = good[:20] + list(poison.values()) + good[20:]
    produce(kafka_bootstrap, topic, values, keys=[b"same"] * len(values))
    result = TopicLander(kafka_bootstrap, warehouse, topic, batch_size=25).land()
    assert (result.landed, result.rejected) == (60, 4)
    rows = warehouse.execute("SELECT error_class, reason, raw_value FROM raw.rejected_events ORDER BY kafka_offset").fetchall()
    assert [r[0] for r in rows] == list(poison.keys())
    assert "output_tokens" in rows[1][1]
    assert "exceeds" in rows[2][1]
    stored = [bytes(r[2]) if r[2] is not None else b"" for r in rows]
    # Kept byte for byte, except that content never survives, not even in a dead letter.
    assert stored[0] == poison["invalid_json"] and stored[2:] == [poison["oversized"], poison["empty"]]
    assert b"SECRET" not in stored[1] and json.loads(stored[1])["output_tokens"] == -3
    dead = read_topic(kafka_bootstrap, fresh_topics["usage_dlq"], expect=4)
    assert len(dead) == 4
    headers = [header_dict(r.headers) for r in dead]
    assert [h["__connect.errors.exception.class.name"] for h in headers] == list(poison.keys())
    assert all(h["__connect.errors.topic"] == topic for h in headers)
    offsets = sorted(int(h["__connect.errors.offset"]) for h in headers)
    assert offsets == [20, 21, 22, 23]
    assert [r.value for r in dead] == stored


def test_late_events_mark_their_days_dirty(
    kafka_bootstrap: str, fresh_topics: dict[str, str], warehouse: duckdb.DuckDBPyConnection
) -> None:
    topic = fresh_topics["usage"]
    produce(kafka_bootstrap, topic, [encode(usage_event(i)) for i in range(10)])
    TopicLander(kafka_bootstrap, warehouse, topic).land()
    assert dirty_days_in(warehouse) == [date(2026, 3, 2)]
    # The marts for 2026-03-02 get built; a late event for 2026-02-27 then arrives.
    from datetime import datetime

    clear_dirty_days(warehouse, date(2026, 3, 2), date(2026, 3, 3), datetime(2100, 1, 1))
    assert dirty_days_in(warehouse) == []
    late = usage_event(50, event_time="2026-02-27T23:59:59+00:00")
    offset_tz = usage_event(51, event_time="2026-03-03T00:30:00+02:00")  # 2026-03-02 22:30 UTC
    produce(kafka_bootstrap, topic, [encode(late), encode(offset_tz)])
    TopicLander(kafka_bootstrap, warehouse, topic).land()
    assert dirty_days_in(warehouse) == [date(2026, 2, 27), date(2026, 3, 2)]
    day = warehouse.execute("SELECT event_date FROM raw.usage_events WHERE event_id = 'ev-00000051'").fetchone()[0]
    assert day == date(2026, 3, 2)


def test_gpu_topic_lands_into_gpu_usage(
    kafka_bootstrap: str, fresh_topics: dict[str, str], warehouse: duckdb.DuckDBPyConnection
) -> None:
    produce(kafka_bootstrap, fresh_topics["gpu"], [encode(gpu_event(i, hourly_price_usd="2.10")) for i in range(12)])
    result = TopicLander(kafka_bootstrap, warehouse, fresh_topics["gpu"]).land()
    assert result.landed == 12
    total = warehouse.execute("SELECT sum(hourly_price_usd), typeof(sum(hourly_price_usd)) FROM raw.gpu_usage").fetchone()
    assert str(total[0]) == "25.200000000000"
    assert total[1].startswith("DECIMAL")


def test_offsets_stored_with_rows_and_mirrored_to_the_group(
    kafka_bootstrap: str, fresh_topics: dict[str, str], warehouse: duckdb.DuckDBPyConnection
) -> None:
    from streaming.lag import consumer_lag

    topic = fresh_topics["usage"]
    produce(kafka_bootstrap, topic, [encode(usage_event(i)) for i in range(300)])
    assert consumer_lag(kafka_bootstrap, "tierwise-landing-test", [topic]) == {topic: 300}
    TopicLander(kafka_bootstrap, warehouse, topic, consumer="tierwise-landing-test").land()
    stored = warehouse.execute("SELECT sum(next_offset) FROM raw.kafka_offsets WHERE topic = ?", [topic]).fetchone()[0]
    assert stored == 300
    assert consumer_lag(kafka_bootstrap, "tierwise-landing-test", [topic]) == {topic: 0}
    assert warehouse.execute("SELECT count(*) FROM raw.usage_events").fetchone()[0] == 300

    # A mirror that fell behind (a commit that failed) is set right by the next landing, even with nothing to land,
    # so the lag sensor and `tierwise status` never see work the warehouse already has.
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    group = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id="tierwise-landing-test", enable_auto_commit=False)
    group.commit({TopicPartition(topic, p): OffsetAndMetadata(0, "", -1) for p in group.partitions_for_topic(topic)})
    group.close(autocommit=False)
    assert consumer_lag(kafka_bootstrap, "tierwise-landing-test", [topic]) == {topic: 300}
    again = TopicLander(kafka_bootstrap, warehouse, topic, consumer="tierwise-landing-test").land()
    assert again.landed == 0 and again.batches == 0
    assert consumer_lag(kafka_bootstrap, "tierwise-landing-test", [topic]) == {topic: 0}


def test_status_reports_landed_rejected_duplicates_lag_and_newest_event(
    kafka_bootstrap: str, fresh_topics: dict[str, str], topic_prefix: str, tw_home, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reports.status import collect_status
    from tierwise.cli import main

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("TIERWISE_TOPIC_PREFIX", topic_prefix)
    topic = fresh_topics["usage"]
    # Before anything landed: zeros, and the read-only check creates nothing.
    connect(tw_home.warehouse).close()
    con = duckdb.connect(str(tw_home.warehouse))
    con.execute("DROP SCHEMA raw CASCADE")
    con.close()
    assert collect_status()["topics"][topic]["landed_rows"] == 0
    con = duckdb.connect(str(tw_home.warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'raw'").fetchone()[0] == 0
    con.close()

    values = [encode(usage_event(i)) for i in range(40)] + [encode(usage_event(3)), b"{broken"]
    produce(kafka_bootstrap, topic, values, keys=[b"k"] * len(values))
    con = connect(tw_home.warehouse)
    TopicLander(kafka_bootstrap, con, topic).land()
    con.close()
    produce(kafka_bootstrap, topic, [encode(usage_event(100 + i)) for i in range(7)])
    assert main(["status", "--json"]) == 0
    info = collect_status()["topics"][topic]
    assert info == {
        "landed_rows": 40,
        "rejected_rows": 1,
        "duplicates_dropped": 1,
        "content_fields_dropped": 0,
        "newest_event_time": "2026-03-02T12:00:39Z",  # BASE_TIME + 39 s, the latest landed event
        "consumer_lag": 7,
    }
