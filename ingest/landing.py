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
from ingest.kafka_clients import reliable_producer
from ingest.topics import GPU_TOPIC, USAGE_TOPIC, dlq_for
from ingest.warehouse import GPU_COLUMNS, RAW_SCHEMA, USAGE_COLUMNS, transaction
from schemas import ContractError, parse_gpu, parse_usage, scrub_raw

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
                    Rejected(rec.partition, rec.offset, rec.key, scrub_raw(value), "oversized",
                             f"message of {len(value)} bytes exceeds the {self.max_event_bytes}-byte limit")
                )  # fmt: skip
                continue
            try:
                row = parse(value).to_row()
            except (ContractError, ValueError, TypeError) as exc:
                rejected.append(
                    Rejected(rec.partition, rec.offset, rec.key, scrub_raw(value), _classify(exc), str(exc))
                )
                continue
            for c in payload_cols:
                cols[c].append(row[c])
            cols["kafka_partition"].append(rec.partition)
            cols["kafka_offset"].append(rec.offset)
        n = len(cols["kafka_offset"])
        cols["kafka_topic"] = [self.topic] * n
        cols["landed_at"] = [landed_at] * n
        if "tags" in cols:
            cols["tags"] = [list(t.items()) if t else None for t in cols["tags"]]
        if "content_fields_dropped" in cols:  # summed once per batch, not per row
            content_dropped = sum(cols["content_fields_dropped"])
        table = pa.Table.from_pydict(cols, schema=self.contract.arrow_schema)
        return table, rejected, content_dropped


def insert_new_rows(con: duckdb.DuckDBPyConnection, source: str, target: str, topic: str,
                    at: datetime) -> tuple[int, list[date]]:  # fmt: skip
    """Add the rows of `source` whose event_id `target` lacks, and mark their days for rebuilding.

    Runs inside the caller's transaction. The first occurrence (lowest partition, offset) of an id
    wins inside `source`; a row already in `target` wins over any newcomer. Returns the number of rows
    added and the UTC days they belong to (late days included).
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE tw_new AS
        SELECT b.* FROM (
            SELECT * FROM {source}
            QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY kafka_partition, kafka_offset) = 1
        ) b ANTI JOIN {target} t ON b.event_id = t.event_id"""
    )
    added = con.execute("SELECT count(*) FROM tw_new").fetchone()[0]  # type: ignore[index]
    con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM tw_new")
    days = con.execute(
        f"""INSERT INTO {RAW_SCHEMA}.dirty_days AS d
        SELECT ?, event_date, ?, count(*) FROM tw_new GROUP BY event_date
        ON CONFLICT (topic, event_date) DO UPDATE SET rows_since = d.rows_since + excluded.rows_since
        RETURNING event_date""",
        [topic, at],
    ).fetchall()
    con.execute("DROP TABLE tw_new")
    return int(added), [d for (d,) in days]


def record_batch(con: duckdb.DuckDBPyConnection, topic: str, landed: int, duplicates: int, rejected: int,
                 content_dropped: int, at: datetime) -> None:  # fmt: skip
    """One row of `raw.landing_batches`: what `tierwise status` sums per topic."""
    con.execute(
        f"INSERT INTO {RAW_SCHEMA}.landing_batches VALUES (?, ?, ?, ?, ?, ?, ?)",
        [uuid.uuid4().hex, topic, landed, duplicates, rejected, content_dropped, at],
    )


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
        with transaction(con):
            con.register("tw_batch", table)
            landed, days = insert_new_rows(con, "tw_batch", target, self.topic, landed_at)
            con.unregister("tw_batch")
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
            record_batch(con, self.topic, landed, duplicates, len(rejected), content_dropped, landed_at)
        return LandingResult(self.topic, landed=landed, duplicates=duplicates, rejected=len(rejected),
                             content_fields_dropped=content_dropped, batches=1, days=set(days),
                             next_offsets=dict(next_offsets))  # fmt: skip


class DeadLetterSender:
    """Sends rejected records to a dead-letter topic; the producer is made on the first reject."""

    def __init__(self, bootstrap: str, topic: str, dlq_topic: str, source: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.dlq_topic = dlq_topic
        self.source = source
        self._producer: Any = None

    def send(self, rejected: list[Rejected]) -> None:
        """Send and wait for the acks, before the batch commits (at-least-once)."""
        if not rejected:
            return
        if self._producer is None:
            self._producer = reliable_producer(self.bootstrap, client_id=f"{self.source}-dlq")
        for r in rejected:
            self._producer.send(
                self.dlq_topic,
                key=r.key,
                value=r.value or b"",
                headers=dlq_headers(r.error_class, r.reason, topic=self.topic, partition=r.partition, offset=r.offset,
                                    stage="landing", source=self.source),
            )  # fmt: skip
        self._producer.flush(timeout=30)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=10)
            self._producer = None


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
        self.bootstrap = bootstrap
        self.topic = topic
        self.contract = contract_for_topic(topic)
        self.consumer_name = consumer
        self.batch_size = batch_size
        self.dlq_topic = dlq_topic or dlq_for(topic)
        self.decoder = BatchDecoder(self.contract, topic, max_event_bytes)
        self.writer = WarehouseWriter(con, self.contract, topic, consumer)
        self.mirror_offsets = mirror_offsets
        self.idle_timeout_s = idle_timeout_s

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

    def land(self, on_batch: Callable[[LandingResult], None] | None = None) -> LandingResult:
        from kafka import TopicPartition

        total = LandingResult(self.topic)
        consumer = self._consumer()
        dead_letters = DeadLetterSender(self.bootstrap, self.topic, self.dlq_topic, source=self.consumer_name)
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
            while pending:
                records: list[Any] = []
                next_offsets: dict[int, int] = {}
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
                            position[tp.partition] = next_offsets[tp.partition] = keep[-1].offset + 1
                        if position[tp.partition] >= limit or len(keep) < len(recs):
                            pending.discard(tp.partition)
                            consumer.pause(tp)
                if not records:
                    break
                landed_at = datetime.now(UTC).replace(tzinfo=None)
                table, rejected, content_dropped = self.decoder.decode(records, landed_at)
                dead_letters.send(rejected)
                batch = self.writer.commit_batch(table, rejected, next_offsets, landed_at, content_dropped)
                total.add(batch)
                if on_batch:
                    on_batch(batch)
                if self.mirror_offsets:
                    mirror_offsets(consumer, self.topic, next_offsets)
        finally:
            consumer.close(autocommit=False)
            dead_letters.close()
        return total


def mirror_offsets(consumer: Any, topic: str, next_offsets: dict[int, int]) -> None:
    """Commit next offsets to the consumer group, for lag monitoring only: the truth is elsewhere."""
    from kafka import TopicPartition
    from kafka.structs import OffsetAndMetadata

    try:
        consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(o, "", -1) for p, o in next_offsets.items()})
    except Exception as exc:  # a failed mirror only makes the lag look larger until the next batch
        log.warning("could not mirror offsets of %s to Kafka: %s", topic, exc)
