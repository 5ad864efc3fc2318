"""Kafka -> DuckDB landing with exactly-once rows.

Kafka's "store offsets outside Kafka" pattern: the next offset of every partition is stored in
``raw.kafka_offsets`` in the same DuckDB transaction as the rows read up to it, and each run seeks
to those offsets. A crash anywhere before the commit loses the whole batch's transaction and the
next run re-reads it; a crash after it finds the new offsets. Rows are also unique by ``event_id``
(a producer resend with the same id lands once; duplicates are counted per batch).

Offsets are mirrored to the Kafka consumer group after each commit for monitoring (lag) only;
they are never read back for correctness.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pyarrow as pa

from ingest.dlq import dlq_headers
from ingest.topics import GPU_TOPIC, USAGE_TOPIC, dlq_for
from ingest.warehouse import GPU_COLUMNS, RAW_SCHEMA, USAGE_COLUMNS
from schemas import ContractError, parse_gpu, parse_usage, strip_content

log = logging.getLogger(__name__)

DEFAULT_CONSUMER = "tierwise-landing"
# An event is a few hundred bytes; anything this big is a bug or content that slipped through.
DEFAULT_MAX_EVENT_BYTES = int(os.environ.get("TIERWISE_MAX_EVENT_BYTES", 64 * 1024))
KAFKA_COLUMNS = ("kafka_topic", "kafka_partition", "kafka_offset", "landed_at")


def _arrow_type(sql_type: str) -> pa.DataType:
    base = sql_type.replace(" NOT NULL", "").strip()
    if base.startswith("DECIMAL"):
        return pa.decimal128(38, 12)
    return {
        "VARCHAR": pa.string(),
        "TIMESTAMP": pa.timestamp("us"),
        "DATE": pa.date32(),
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
        "MAP(VARCHAR, VARCHAR)": pa.map_(pa.string(), pa.string()),
    }[base]


@dataclass(frozen=True)
class Contract:
    """What one landed topic parses into and where it goes."""

    kind: str
    table: str
    columns: dict[str, str]
    parse: Callable[[bytes], Any]

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(name, _arrow_type(t)) for name, t in self.columns.items()])

    @property
    def payload_columns(self) -> list[str]:
        return [c for c in self.columns if c not in KAFKA_COLUMNS]


USAGE = Contract("usage", "usage_events", USAGE_COLUMNS, parse_usage)
GPU = Contract("gpu", "gpu_usage", GPU_COLUMNS, parse_gpu)
CONTRACTS = {"usage": USAGE, "gpu": GPU}


def contract_for_topic(topic: str) -> Contract:
    """The contract of a topic by its suffix, so prefixed test topics work the same."""
    if topic.endswith(GPU_TOPIC):
        return GPU
    if topic.endswith(USAGE_TOPIC):
        return USAGE
    raise ValueError(f"no contract for topic {topic!r}")


@dataclass
class Rejected:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    error_class: str
    reason: str


@dataclass
class LandingResult:
    topic: str
    landed: int = 0
    duplicates: int = 0
    rejected: int = 0
    content_fields_dropped: int = 0
    batches: int = 0
    days: set[date] = field(default_factory=set)
    next_offsets: dict[int, int] = field(default_factory=dict)

    def add(self, other: LandingResult) -> None:
        self.landed += other.landed
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.content_fields_dropped += other.content_fields_dropped
        self.batches += other.batches
        self.days |= other.days
        self.next_offsets.update(other.next_offsets)


def _classify(exc: Exception) -> str:
    if isinstance(exc, ContractError):
        return "invalid_json" if exc.field == "<json>" else "contract_violation"
    return type(exc).__name__


def _without_content(value: bytes) -> bytes:
    """A rejected event is kept for repair, but never with prompt or completion text in it.

    JSON objects lose their content fields; bytes that are not a JSON object are kept as they are
    (nothing in them can be told apart as content).
    """
    try:
        doc = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return value
    if not isinstance(doc, dict):
        return value
    clean, dropped = strip_content(doc)
    return json.dumps(clean).encode() if dropped else value


class BatchDecoder:
    """Turns a batch of Kafka records into an Arrow table of rows plus the rejected records."""

    def __init__(self, contract: Contract, topic: str, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self.contract = contract
        self.topic = topic
        self.max_event_bytes = max_event_bytes

    def decode(self, records: Iterable[Any], landed_at: datetime) -> tuple[pa.Table, list[Rejected], int]:
        cols: dict[str, list[Any]] = {c: [] for c in self.contract.columns}
        payload_cols = self.contract.payload_columns
        rejected: list[Rejected] = []
        content_dropped = 0
        parse = self.contract.parse
        for rec in records:
            value = rec.value
            if value is None or len(value) == 0:
                rejected.append(Rejected(rec.partition, rec.offset, rec.key, value, "empty", "empty message"))
                continue
            if len(value) > self.max_event_bytes:
                rejected.append(
                    Rejected(rec.partition, rec.offset, rec.key, _without_content(value), "oversized",
                             f"message of {len(value)} bytes exceeds the {self.max_event_bytes}-byte limit")
                )  # fmt: skip
                continue
            try:
                row = parse(value).to_row()
            except (ContractError, ValueError, TypeError) as exc:
                rejected.append(
                    Rejected(rec.partition, rec.offset, rec.key, _without_content(value), _classify(exc), str(exc))
                )
                continue
            for c in payload_cols:
                cols[c].append(row[c])
            content_dropped += row.get("content_fields_dropped", 0) or 0
            cols["kafka_partition"].append(rec.partition)
            cols["kafka_offset"].append(rec.offset)
        n = len(cols["kafka_offset"])
        cols["kafka_topic"] = [self.topic] * n
        cols["landed_at"] = [landed_at] * n
        if "tags" in cols:
            cols["tags"] = [list(t.items()) if t else None for t in cols["tags"]]
        table = pa.Table.from_pydict(cols, schema=self.contract.arrow_schema)
        return table, rejected, content_dropped


class WarehouseWriter:
    """Writes one decoded batch, its rejects and its offsets in one DuckDB transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, contract: Contract, topic: str, consumer: str) -> None:
        self.con = con
        self.contract = contract
        self.topic = topic
        self.consumer = consumer

    def stored_offsets(self) -> dict[int, int]:
        rows = self.con.execute(
            f"SELECT kafka_partition, next_offset FROM {RAW_SCHEMA}.kafka_offsets WHERE consumer = ? AND topic = ?",
            [self.consumer, self.topic],
        ).fetchall()
        return {int(p): int(o) for p, o in rows}

    def commit_batch(
        self,
        table: pa.Table,
        rejected: list[Rejected],
        next_offsets: dict[int, int],
        landed_at: datetime,
        content_dropped: int,
    ) -> LandingResult:
        con = self.con
        target = f"{RAW_SCHEMA}.{self.contract.table}"
        result = LandingResult(self.topic, batches=1, next_offsets=dict(next_offsets))
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("tw_batch", table)
            # First occurrence (lowest partition/offset) wins inside the batch; older rows win across batches.
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE tw_new AS
                SELECT b.* FROM (
                    SELECT * FROM tw_batch
                    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY kafka_partition, kafka_offset) = 1
                ) b ANTI JOIN {target} t ON b.event_id = t.event_id"""
            )
            con.unregister("tw_batch")
            landed = con.execute("SELECT count(*) FROM tw_new").fetchone()[0]  # type: ignore[index]
            con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM tw_new")
            # Every day these rows belong to must be rebuilt downstream (late days included).
            days = con.execute(
                f"""INSERT INTO {RAW_SCHEMA}.dirty_days AS d
                SELECT ?, event_date, ?, count(*) FROM tw_new GROUP BY event_date
                ON CONFLICT (topic, event_date) DO UPDATE SET rows_since = d.rows_since + excluded.rows_since
                RETURNING event_date""",
                [self.topic, landed_at],
            ).fetchall()
            if rejected:
                con.executemany(  # rejects are rare: row-wise is fine here
                    f"""INSERT INTO {RAW_SCHEMA}.rejected_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT DO NOTHING""",
                    [[self.topic, r.partition, r.offset, r.key, r.value, r.error_class, r.reason, landed_at]
                     for r in rejected],
                )  # fmt: skip
            if next_offsets:
                con.executemany(
                    f"""INSERT INTO {RAW_SCHEMA}.kafka_offsets VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (consumer, topic, kafka_partition)
                    DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at""",
                    [[self.consumer, self.topic, p, o, landed_at] for p, o in next_offsets.items()],
                )
            duplicates = table.num_rows - landed
            con.execute(
                f"INSERT INTO {RAW_SCHEMA}.landing_batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                [uuid.uuid4().hex, self.topic, landed, duplicates, len(rejected), content_dropped, landed_at],
            )
            con.execute("DROP TABLE tw_new")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        result.landed = int(landed)
        result.duplicates = int(duplicates)
        result.rejected = len(rejected)
        result.content_fields_dropped = content_dropped
        result.days = {d for (d,) in days}
        return result


def dead_letter(producer: Any, topic: str, dlq_topic: str, rejected: list[Rejected], source: str) -> None:
    """Send rejects to the DLQ and wait for the acks before the batch commits (at-least-once)."""
    for r in rejected:
        producer.send(
            dlq_topic,
            key=r.key,
            value=r.value or b"",
            headers=dlq_headers(r.error_class, r.reason, topic=topic, partition=r.partition, offset=r.offset,
                                stage="landing", source=source),
        )  # fmt: skip
    producer.flush(timeout=30)


class TopicLander:
    """Drains one topic from the stored offsets up to the high watermark seen at start."""

    def __init__(
        self,
        bootstrap: str,
        con: duckdb.DuckDBPyConnection,
        topic: str,
        consumer: str = DEFAULT_CONSUMER,
        batch_size: int = 20_000,
        dlq_topic: str | None = None,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        mirror_offsets: bool = True,
        idle_timeout_s: float = 60.0,
    ) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.bootstrap = bootstrap
        self.topic = topic
        self.contract = contract_for_topic(topic)
        self.consumer_name = consumer
        self.batch_size = batch_size
        self.dlq_topic = dlq_topic or dlq_for(topic)
        self.decoder = BatchDecoder(self.contract, topic, max_event_bytes)
        self.writer = WarehouseWriter(con, self.contract, topic, consumer)
        self.mirror_offsets = mirror_offsets

    def _consumer(self) -> Any:
        from kafka import KafkaConsumer

        return KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.consumer_name,  # only for the lag mirror; partitions are assigned by hand
            client_id=f"{self.consumer_name}-{self.contract.kind}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.batch_size,
            fetch_max_bytes=32 * 1024 * 1024,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_wait_ms=200,
            request_timeout_ms=30_000,
        )

    def _producer(self) -> Any:
        from kafka import KafkaProducer

        return KafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=f"{self.consumer_name}-dlq",
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_request_size=8 * 1024 * 1024,
        )

    def land(self, max_batches: int | None = None, on_batch: Callable[[LandingResult], None] | None = None) -> LandingResult:
        from kafka import TopicPartition
        from kafka.structs import OffsetAndMetadata

        total = LandingResult(self.topic)
        consumer = self._consumer()
        producer = None
        try:
            parts = consumer.partitions_for_topic(self.topic)
            if not parts:
                raise LookupError(f"topic {self.topic} does not exist on {self.bootstrap}")
            tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
            consumer.assign(tps)
            stored = self.writer.stored_offsets()
            begin = consumer.beginning_offsets(tps)
            end = consumer.end_offsets(tps)
            position: dict[int, int] = {}
            for tp in tps:
                # Retention may have deleted what we never read: start at the earliest still there.
                start = max(stored.get(tp.partition, 0), begin[tp])
                consumer.seek(tp, start)
                position[tp.partition] = start
            pending = {tp.partition for tp in tps if position[tp.partition] < end[tp]}
            batches = 0
            while pending and (max_batches is None or batches < max_batches):
                records: list[Any] = []
                idle_since = time.monotonic()
                while pending and len(records) < self.batch_size:
                    polled = consumer.poll(timeout_ms=500, max_records=self.batch_size - len(records))
                    if not polled:
                        for tp in tps:
                            # Offsets with no record (e.g. transaction markers) end a partition too.
                            if tp.partition in pending and consumer.position(tp) >= end[tp]:
                                pending.discard(tp.partition)
                        if records or time.monotonic() - idle_since > self.idle_timeout_s:
                            if not records:
                                raise TimeoutError(
                                    f"no records from {self.topic} on {self.bootstrap} for "
                                    f"{self.idle_timeout_s:.0f}s although partitions {sorted(pending)} "
                                    "are behind their high watermark"
                                )
                            break
                        continue
                    idle_since = time.monotonic()
                    for tp, recs in polled.items():
                        # Stop at the high watermark seen at start: one run lands a bounded slice.
                        limit = end[tp]
                        keep = [r for r in recs if r.offset < limit] if recs[-1].offset >= limit else recs
                        if keep:
                            records.extend(keep)
                            position[tp.partition] = keep[-1].offset + 1
                        if position[tp.partition] >= limit or len(keep) < len(recs):
                            pending.discard(tp.partition)
                            consumer.pause(tp)
                if not records:
                    break
                landed_at = datetime.now(UTC).replace(tzinfo=None)
                table, rejected, content_dropped = self.decoder.decode(records, landed_at)
                if rejected:
                    producer = producer or self._producer()
                    dead_letter(producer, self.topic, self.dlq_topic, rejected, source=self.consumer_name)
                next_offsets = {}
                for r in records:
                    next_offsets[r.partition] = r.offset + 1
                batch = self.writer.commit_batch(table, rejected, next_offsets, landed_at, content_dropped)
                total.add(batch)
                batches += 1
                if on_batch:
                    on_batch(batch)
                if self.mirror_offsets:
                    self._mirror(consumer, next_offsets, TopicPartition, OffsetAndMetadata)
        finally:
            consumer.close(autocommit=False)
            if producer is not None:
                producer.close(timeout=10)
        return total

    def _mirror(self, consumer: Any, next_offsets: dict[int, int], tp_cls: Any, om_cls: Any) -> None:
        try:
            consumer.commit({tp_cls(self.topic, p): om_cls(o, "", -1) for p, o in next_offsets.items()})
        except Exception as exc:  # monitoring only: the truth is in DuckDB
            log.warning("could not mirror offsets of %s to Kafka: %s", self.topic, exc)
