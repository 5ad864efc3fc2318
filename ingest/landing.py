"""Kafka -> DuckDB landing with exactly-once rows.

Kafka's "store offsets outside Kafka" pattern: the next offset of every partition is stored in
``raw.kafka_offsets`` in the same DuckDB transaction as the rows read up to it, and each run seeks
to those offsets. A crash anywhere before the commit loses the whole batch's transaction and the
next run re-reads it; a crash after it finds the new offsets. Rows are also unique by
``(event_date, event_id)`` (a producer resend lands once; duplicates are counted per batch).

Speed (docs/landing.md): record batches are read whole (``ingest.fetch``), validated column by
column (``ingest.columnar``), and committed on a worker thread while the next batch is fetched.

Offsets are mirrored to the Kafka consumer group after each commit for monitoring (lag) only;
they are never read back for correctness.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from polars.exceptions import PanicException
from pydantic import BaseModel

from ingest.columnar import ColumnarCheck, compile_check, fast_path_shape, parse_chunk
from ingest.dlq import dlq_headers
from ingest.fetch import RecordChunk, Records, use_record_chunks
from ingest.kafka_clients import close_producer, reliable_producer
from ingest.kafka_security import client_config
from ingest.limits import DEFAULT_BATCH_SIZE, DEFAULT_MAX_EVENT_BYTES, EventWindow
from ingest.topics import GPU_TOPIC, USAGE_TOPIC, dlq_for
from ingest.warehouse import GPU_COLUMNS, RAW_SCHEMA, USAGE_COLUMNS, mark_dirty_days, transaction
from schemas import ContractError, GpuUsage, UsageEvent, parse_gpu, parse_usage, scrub_raw

log = logging.getLogger(__name__)

DEFAULT_CONSUMER = "tierwise-landing"
KAFKA_COLUMNS = ("kafka_topic", "kafka_partition", "kafka_offset", "landed_at")
LANDING_SWITCH_INTERVAL_S = 0.0001
# Below this many lines a chunk polars cannot read goes to pydantic instead of being halved again.
MIN_CHUNK = 64


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
    model: type[BaseModel]
    parse: Callable[[bytes], Any]
    # The field whose UTC day is the row's event_date (its daily partition), and, for intervals, the
    # field whose day ends the span of days the row touches.
    day_from: str
    day_until: str | None = None
    # Other row columns that are not contract fields, over the typed fields.
    derived: dict[str, pl.Expr] = field(default_factory=dict)

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(name, _arrow_type(t)) for name, t in self.columns.items()])

    @property
    def payload_columns(self) -> list[str]:
        return [c for c in self.columns if c not in KAFKA_COLUMNS]

    @cached_property
    def check(self) -> ColumnarCheck:
        return compile_check(self.model, self.columns, {"event_date": pl.col(self.day_from).dt.date(), **self.derived})

    def days_sql(self) -> str:
        """SQL over a relation of this table's rows: the UTC day of each day a row touches."""
        if self.day_until is None:
            return "event_date"
        # The last microsecond of an interval decides its last day.
        last = f"CAST({self.day_until} - INTERVAL 1 MICROSECOND AS DATE)"
        return f"CAST(unnest(generate_series(event_date, {last}, INTERVAL 1 DAY)) AS DATE)"


USAGE = Contract(
    "usage",
    "usage_events",
    USAGE_COLUMNS,
    UsageEvent,
    parse_usage,
    day_from="event_time",
    derived={"content_fields_dropped": pl.lit(0, pl.Int32)},
)
GPU = Contract("gpu", "gpu_usage", GPU_COLUMNS, GpuUsage, parse_gpu, day_from="interval_start", day_until="interval_end")
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


def keepable(value: bytes) -> bytes:
    """What a dead letter may keep of its bytes: scrubbed of content, or nothing when that fails."""
    try:
        return scrub_raw(value)
    except Exception:
        return b""


def _reason(exc: Exception) -> str:
    if isinstance(exc, ContractError):
        return str(exc)
    # An unexpected failure: its class and first line only, never a value it may quote at length.
    first = (str(exc).splitlines() or [""])[0][:200]
    return f"could not be decoded: {type(exc).__name__}: {first}" if first else f"could not be decoded: {type(exc).__name__}"


def _classify(exc: Exception) -> str:
    if isinstance(exc, ContractError):
        return "invalid_json" if exc.field == "<json>" else "contract_violation"
    return type(exc).__name__


@dataclass
class Decoded:
    """A decoded batch: its valid rows (mapping fields still as key and value lists) and its rejects."""

    frame: pl.DataFrame
    projection: str  # SQL over `frame` giving exactly the raw table's columns and types
    count: int
    rejected: list[Rejected]
    content_dropped: int

    @contextmanager
    def registered(self, con: duckdb.DuckDBPyConnection) -> Iterator[str]:
        """The rows as a SQL relation of `con`, for as long as the block runs."""
        con.register("tw_batch", self.frame)
        try:
            yield f"(SELECT {self.projection} FROM tw_batch)"
        finally:
            con.unregister("tw_batch")


class BatchDecoder:
    """Turns a batch of Kafka records into rows of the contract's table plus the rejected records.

    The batch is parsed and checked column by column (``ingest.columnar``); only the records that
    check cannot vouch for are validated one by one by pydantic, which decides and explains.
    """

    def __init__(
        self,
        contract: Contract,
        topic: str,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        window: EventWindow | None = None,
    ) -> None:
        self.contract = contract
        self.topic = topic
        self.max_event_bytes = max_event_bytes
        self.window = window
        self.slow_rows = 0  # rows validated by pydantic, for benchmarks and tests

    def decode(self, records: Records, landed_at: datetime) -> Decoded:
        values = records.values
        raw = pa.array(values, pa.binary())
        sizes = pc.binary_length(raw)
        rejected: dict[int, Rejected] = {}
        slow: list[int] = []
        unfit = pc.fill_null(pc.or_(pc.equal(sizes, 0), pc.greater(sizes, self.max_event_bytes)), True)
        if pc.any(unfit).as_py():
            for i in pc.indices_nonzero(unfit).to_pylist():
                where = (records.partitions[i], records.offsets[i], records.keys[i])
                if not values[i]:
                    rejected[i] = Rejected(*where, values[i], "empty", "empty message")
                else:
                    rejected[i] = Rejected(
                        *where,
                        keepable(values[i]),
                        "oversized",
                        f"message of {len(values[i])} bytes exceeds the {self.max_event_bytes}-byte limit",
                    )
            raw = pc.if_else(unfit, pa.scalar(None, pa.binary()), raw)
        try:
            text = raw.cast(pa.string())
        except pa.ArrowInvalid:  # some value is not UTF-8: pydantic names the problem
            keep = [v if i not in rejected and _is_utf8(v) else None for i, v in enumerate(values)]
            slow = [i for i, v in enumerate(keep) if v is None and i not in rejected]
            text = pa.array(keep, pa.binary()).cast(pa.string())
        lines = pl.Series("value", text)
        eligible = fast_path_shape(lines)
        slow.extend((~eligible & lines.is_not_null()).arg_true().to_list())
        check = self.contract.check
        kafka = pl.DataFrame(
            {
                "i": pl.int_range(len(values), dtype=pl.Int32, eager=True),
                "kafka_partition": pl.Series(records.partitions, dtype=pl.Int32),
                "kafka_offset": pl.Series(records.offsets, dtype=pl.Int64),
            }
        )
        checked: list[pl.DataFrame] = []
        chunks = [eligible.arg_true()]
        while chunks:
            idx = chunks.pop()
            try:
                parsed = parse_chunk(check, lines.gather(idx))
                checked.append(check.apply(pl.concat([parsed, kafka[idx]], how="horizontal"), self.topic, landed_at))
            except (Exception, PanicException):
                # A bad line (not JSON, a wrong type, anything polars chokes on) spoils its whole chunk:
                # halve until it is isolated; pydantic then decides each of its lines one by one.
                if len(idx) <= MIN_CHUNK:
                    slow.extend(idx.to_list())
                else:
                    chunks += [idx[: len(idx) // 2], idx[len(idx) // 2 :]]
        frame = pl.concat(checked) if checked else None
        if frame is not None:
            slow.extend(frame.filter(~pl.col("ok"))["i"].to_list())
            frame = frame.filter(pl.col("ok")).drop("i", "ok")
        content_dropped = 0
        if slow:
            self.slow_rows += len(slow)
            one_by_one, content_dropped = self._validate_one_by_one(records, sorted(slow), rejected, landed_at)
            frame = one_by_one if frame is None else pl.concat([frame, one_by_one], how="diagonal_relaxed")
        if frame is None:
            frame = self._frame({c: [] for c in check.outputs})
        if self.window is not None and frame.height:
            frame = self._reject_outside_window(frame, records, rejected, landed_at)
        return Decoded(
            frame, check.projection, len(values) - len(rejected), [rejected[i] for i in sorted(rejected)], content_dropped
        )

    def _reject_outside_window(
        self, frame: pl.DataFrame, records: Records, rejected: dict[int, Rejected], landed_at: datetime
    ) -> pl.DataFrame:
        """Dead-letter the rows whose time no daily partition will ever build (see EventWindow)."""
        assert self.window is not None
        when = self.contract.day_from
        latest = self.window.too_new(landed_at)
        too_new = pl.col(when) > latest
        too_old = pl.col("event_date") < self.window.first_day
        outside = frame.filter(too_new | too_old).select("kafka_partition", "kafka_offset", when)
        if not outside.height:
            return frame
        index = {(p, o): i for i, (p, o) in enumerate(zip(records.partitions, records.offsets, strict=True))}
        hours = self.window.max_ahead.total_seconds() / 3600
        for partition, offset, at in outside.iter_rows():
            i = index[(partition, offset)]
            if at > latest:
                reason = (
                    f"{when}: {at.isoformat()} is more than {hours:g} h ahead of the landing clock "
                    f"({landed_at.isoformat(timespec='seconds')}); TIERWISE_MAX_FUTURE_HOURS sets the limit"
                )
            else:
                reason = (
                    f"{when}: {at.isoformat()} is before TIERWISE_PARTITIONS_START ({self.window.first_day}); "
                    "no daily partition would ever count it"
                )
            rejected[i] = Rejected(
                partition, offset, records.keys[i], keepable(records.values[i] or b""), "out_of_window", reason
            )
        return frame.filter(~(too_new | too_old))

    def decode_arrow(self, records: Records, landed_at: datetime) -> tuple[pa.Table, list[Rejected], int]:
        """Decode into an Arrow table of the raw table's columns (for Parquet files)."""
        decoded = self.decode(records, landed_at)
        con = duckdb.connect()
        try:
            with decoded.registered(con) as rows:
                table = con.sql(f"SELECT * FROM {rows}").to_arrow_table()
        finally:
            con.close()
        return table.cast(self.contract.arrow_schema), decoded.rejected, decoded.content_dropped

    def _frame(self, cols: dict[str, list[Any]]) -> pl.DataFrame:
        return pl.DataFrame(cols, schema_overrides={"kafka_partition": pl.Int32, "kafka_offset": pl.Int64}, strict=False)

    def _validate_one_by_one(
        self, records: Records, indexes: list[int], rejected: dict[int, Rejected], landed_at: datetime
    ) -> tuple[pl.DataFrame, int]:
        outputs = self.contract.check.outputs
        cols: dict[str, list[Any]] = {c: [] for c in outputs}
        payload = [c for c in outputs if c in self.contract.payload_columns]
        maps = [c.removesuffix("__keys") for c in outputs if c.endswith("__keys")]
        parse = self.contract.parse
        dropped = 0
        for i in indexes:
            value = records.values[i]
            try:
                event = parse(value)  # type: ignore[arg-type]
                row = event.to_row()
            except Exception as exc:  # whatever one record does, it is that record's dead letter
                rejected[i] = Rejected(
                    records.partitions[i],
                    records.offsets[i],
                    records.keys[i],
                    keepable(value or b""),
                    _classify(exc),
                    _reason(exc),
                )
                continue
            dropped += event.content_fields_dropped
            for c in payload:
                cols[c].append(row[c])
            for m in maps:
                cols[f"{m}__keys"].append(list(row[m]) if row[m] else [])
                cols[f"{m}__values"].append(list(row[m].values()) if row[m] else [])
            cols["kafka_partition"].append(records.partitions[i])
            cols["kafka_offset"].append(records.offsets[i])
            cols["kafka_topic"].append(self.topic)
            cols["landed_at"].append(landed_at)
        return self._frame(cols), dropped


def _is_utf8(value: bytes | None) -> bool:
    if value is None:
        return False
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


def insert_new_rows(
    con: duckdb.DuckDBPyConnection, source: str, target: str, topic: str, at: datetime
) -> tuple[int, list[date]]:
    """Add the rows of `source` whose key `target` lacks, and mark their days for rebuilding.

    Runs inside the caller's transaction. Rows are unique by (event_date, event_id): the first
    occurrence (lowest partition, offset) wins inside `source`; a row already in `target` wins over
    any newcomer. Keyed by day as well because a resend carries the same event time, and the day lets
    DuckDB skip every row group of other days instead of comparing with every id ever landed.
    Returns the number of rows added and the UTC days they touch (late days included; an interval
    marks every day it spans).
    """
    contract = contract_for_topic(topic)
    ((rows, distinct),) = con.execute(f"SELECT count(*), count(DISTINCT (event_date, event_id)) FROM {source}").fetchall()
    if rows != distinct:  # the window is only paid for when a batch repeats itself
        source = (
            f"(SELECT * FROM {source} QUALIFY row_number() OVER "
            "(PARTITION BY event_date, event_id ORDER BY kafka_partition, kafka_offset) = 1)"
        )
    # Keys the target already holds, found by probing the target with the batch (the small side is
    # hashed, and the batch's key range prunes the target's row groups); usually none.
    ((seen,),) = con.execute(
        f"""CREATE OR REPLACE TEMP TABLE tw_seen AS
        SELECT DISTINCT t.event_date, t.event_id FROM {target} t
        SEMI JOIN {source} b ON b.event_date = t.event_date AND b.event_id = t.event_id"""
    ).fetchall()
    if seen:
        source = f"(SELECT b.* FROM {source} b ANTI JOIN tw_seen s USING (event_date, event_id))"
    ((added,),) = con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {source}").fetchall()
    if not added:
        return 0, []
    days_sql = f"SELECT day, count(*) FROM (SELECT {contract.days_sql()} AS day FROM {source}) GROUP BY day"
    return int(added), mark_dirty_days(con, topic, days_sql, at)


def record_batch(
    con: duckdb.DuckDBPyConnection, topic: str, landed: int, duplicates: int, rejected: int, content_dropped: int, at: datetime
) -> None:
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

    def commit_batch(self, batch: Decoded, next_offsets: dict[int, int], landed_at: datetime) -> LandingResult:
        con = self.con
        rejected = batch.rejected
        target = f"{RAW_SCHEMA}.{self.contract.table}"
        with transaction(con), batch.registered(con) as rows:
            landed, days = insert_new_rows(con, rows, target, self.topic, landed_at)
            if rejected:
                con.executemany(  # rejects are rare: row-wise is fine here
                    f"""INSERT INTO {RAW_SCHEMA}.rejected_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT DO NOTHING""",
                    [[self.topic, r.partition, r.offset, r.key, r.value, r.error_class, r.reason, landed_at] for r in rejected],
                )
            if next_offsets:
                con.executemany(
                    f"""INSERT INTO {RAW_SCHEMA}.kafka_offsets VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (consumer, topic, kafka_partition)
                    DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at""",
                    [[self.consumer, self.topic, p, o, landed_at] for p, o in next_offsets.items()],
                )
            duplicates = batch.count - landed
            record_batch(con, self.topic, landed, duplicates, len(rejected), batch.content_dropped, landed_at)
        return LandingResult(
            self.topic,
            landed=landed,
            duplicates=duplicates,
            rejected=len(rejected),
            content_fields_dropped=batch.content_dropped,
            batches=1,
            days=set(days),
            next_offsets=dict(next_offsets),
        )


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
                headers=dlq_headers(
                    r.error_class,
                    r.reason,
                    topic=self.topic,
                    partition=r.partition,
                    offset=r.offset,
                    stage="landing",
                    source=self.source,
                ),
            )
        self._producer.flush(timeout=30)

    def close(self) -> None:
        if self._producer is not None:
            close_producer(self._producer)
            self._producer = None


class TopicLander:
    """Drains one topic from the stored offsets up to the high watermark seen at start."""

    def __init__(
        self,
        bootstrap: str,
        con: duckdb.DuckDBPyConnection,
        topic: str,
        consumer: str = DEFAULT_CONSUMER,
        batch_size: int = DEFAULT_BATCH_SIZE,
        dlq_topic: str | None = None,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        mirror_offsets: bool = True,
        idle_timeout_s: float = 60.0,
        window: EventWindow | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.contract = contract_for_topic(topic)
        self.consumer_name = consumer
        self.batch_size = batch_size
        self.dlq_topic = dlq_topic or dlq_for(topic)
        self.decoder = BatchDecoder(self.contract, topic, max_event_bytes, window or EventWindow.from_env())
        self.writer = WarehouseWriter(con, self.contract, topic, consumer)
        self.mirror_offsets = mirror_offsets
        self.idle_timeout_s = idle_timeout_s

    def _consumer(self) -> Any:
        from kafka import KafkaConsumer

        return use_record_chunks(
            KafkaConsumer(
                **client_config(self.bootstrap),
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
        )

    def _fetch(
        self, consumer: Any, tps: list[Any], end: dict[Any, int], pending: set[int], position: dict[int, int]
    ) -> tuple[Records, dict[int, int]]:
        """Poll up to about one batch (whole record batches), never past the high watermark seen at start."""
        records = Records()
        next_offsets: dict[int, int] = {}
        idle_since = time.monotonic()
        while pending and len(records) < self.batch_size:
            polled = consumer.poll(timeout_ms=500, max_records=16)
            if not polled:
                for tp in tps:
                    # Offsets with no record (e.g. transaction markers) end a partition too.
                    if tp.partition in pending and consumer.position(tp) >= end[tp]:
                        pending.discard(tp.partition)
                if len(records) or time.monotonic() - idle_since > self.idle_timeout_s:
                    if not len(records) and pending:
                        raise TimeoutError(
                            f"no records from {self.topic} on {self.bootstrap} for {self.idle_timeout_s:.0f}s "
                            f"although partitions {sorted(pending)} are behind their high watermark"
                        )
                    break
                continue
            idle_since = time.monotonic()
            for tp, chunks in polled.items():
                # Stop at the high watermark seen at start: one run lands a bounded slice.
                limit = end[tp]
                for chunk in chunks:
                    if chunk.offsets[-1] >= limit:
                        keep = sum(1 for o in chunk.offsets if o < limit)
                        chunk = RecordChunk(chunk.partition, chunk.offsets[:keep], chunk.keys[:keep], chunk.values[:keep])
                    if chunk.offsets:
                        records.add(chunk)
                        position[tp.partition] = next_offsets[tp.partition] = chunk.offsets[-1] + 1
                if position[tp.partition] >= limit or chunks[-1].offsets[-1] >= limit:
                    pending.discard(tp.partition)
                    consumer.pause(tp)
        return records, next_offsets

    def _write(self, records: Records, next_offsets: dict[int, int], dead_letters: DeadLetterSender) -> LandingResult:
        landed_at = datetime.now(UTC).replace(tzinfo=None)
        batch = self.decoder.decode(records, landed_at)
        dead_letters.send(batch.rejected)  # acknowledged before the commit: a reject is never lost
        return self.writer.commit_batch(batch, next_offsets, landed_at)

    def _finish(
        self, batch: LandingResult, consumer: Any, total: LandingResult, on_batch: Callable[[LandingResult], None] | None
    ) -> None:
        total.add(batch)
        if on_batch:
            on_batch(batch)
        if self.mirror_offsets:
            mirror_offsets(consumer, self.topic, batch.next_offsets)

    def _connect(self, timeout_s: float = 120.0) -> tuple[Any, list[Any], dict[Any, int], dict[Any, int]]:
        """A consumer assigned every partition, with the partitions' first and next offsets.

        While a broker of the cluster is down and not yet fenced, kafka-python may keep asking it;
        a fresh consumer bootstraps again and finds the new leaders, so each attempt starts anew.
        """
        from kafka import TopicPartition
        from kafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError

        deadline = time.monotonic() + timeout_s
        while True:
            consumer = self._consumer()
            try:
                parts = consumer.partitions_for_topic(self.topic)
                if not parts:
                    raise LookupError(f"topic {self.topic} does not exist on {self.bootstrap}")
                tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
                consumer.assign(tps)
                begin = consumer.beginning_offsets(tps, timeout_ms=10_000)
                end = consumer.end_offsets(tps, timeout_ms=10_000)
                return consumer, tps, begin, end
            except (KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError) as exc:
                consumer.close(autocommit=False)
                if time.monotonic() > deadline:
                    raise
                log.info("retrying after a transient Kafka error: %s", exc)
                time.sleep(1.0)
            except BaseException:
                consumer.close(autocommit=False)
                raise

    def land(self, on_batch: Callable[[LandingResult], None] | None = None) -> LandingResult:
        total = LandingResult(self.topic)
        consumer, tps, begin, end = self._connect()
        dead_letters = DeadLetterSender(self.bootstrap, self.topic, self.dlq_topic, source=self.consumer_name)
        switch_interval = sys.getswitchinterval()
        try:
            stored = self.writer.stored_offsets()
            position: dict[int, int] = {}
            for tp in tps:
                # Retention may have deleted what we never read: start at the earliest still there.
                start = max(stored.get(tp.partition, 0), begin[tp])
                consumer.seek(tp, start)
                position[tp.partition] = start
            pending = {tp.partition for tp in tps if position[tp.partition] < end[tp]}
            # One batch is decoded and committed on a worker thread while the next one is fetched:
            # polars and DuckDB release the GIL, so consuming and writing overlap. Batches still
            # commit one at a time and in order, each with its own offsets. The writer takes the
            # GIL back after each native call; at Python's default 5 ms switch interval it would wait
            # behind the busy consumer thread every time, so the interval is shortened meanwhile.
            sys.setswitchinterval(LANDING_SWITCH_INTERVAL_S)
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tierwise-landing") as pool:
                inflight: Future[LandingResult] | None = None
                while pending:
                    records, next_offsets = self._fetch(consumer, tps, end, pending, position)
                    if not len(records):
                        break
                    if inflight is not None:
                        self._finish(inflight.result(), consumer, total, on_batch)
                    inflight = pool.submit(self._write, records, next_offsets, dead_letters)
                if inflight is not None:
                    self._finish(inflight.result(), consumer, total, on_batch)
        finally:
            sys.setswitchinterval(switch_interval)
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
