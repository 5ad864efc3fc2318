"""Scale-out landing: many consumer-group workers, each writing immutable Parquet files.

One DuckDB file takes one writer, so workers never open it. A worker owns some partitions (the
consumer group decides which), and for each it writes the records of an offset range to
``<lake>/<topic>/p<partition>/<first>-<last>.parquet`` (atomically: temp file, then rename). The
file name is the commit: on (re)assignment a worker seeks past the last range on disk, so a crash
re-reads only what no file holds. A zombie that writes an overlapping range after losing its
partition cannot double count: the importer keeps one row per (partition, offset) and per event_id.

The importer (`import_lake`) is the single DuckDB writer: it loads new files into the raw tables in
one transaction and records which files it took. On object storage the same naming works
unchanged (see docs/landing.md).
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from core.kafka_security import client_config
from landing.consumer import mirror_offsets
from landing.dead_letters import DeadLetterSender
from landing.decoder import BatchDecoder, RejectedRecord
from landing.limits import EventWindow
from landing.record_batches import Records
from landing.tables import contract_for_topic
from landing.warehouse import RAW_SCHEMA, transaction
from landing.writer import insert_new_rows, record_batch
from streaming.topics import dlq_for

log = logging.getLogger(__name__)

DEFAULT_GROUP = "tierwise-lake"
RANGE_FILE = re.compile(r"^(\d{20})-(\d{20})\.parquet$")
REJECT_SCHEMA = pa.schema(
    [
        ("kafka_partition", pa.int32()),
        ("kafka_offset", pa.int64()),
        ("raw_key", pa.binary()),
        ("raw_value", pa.binary()),
        ("error_class", pa.string()),
        ("reason", pa.string()),
    ]
)


def partition_dir(lake: Path, topic: str, partition: int) -> Path:
    return lake / topic / f"p{partition:05d}"


def next_offset_on_disk(lake: Path, topic: str, partition: int) -> int | None:
    """One past the last offset any file of this partition holds, or None when there is none."""
    d = partition_dir(lake, topic, partition)
    if not d.is_dir():
        return None
    last = [int(m.group(2)) for f in d.iterdir() if (m := RANGE_FILE.match(f.name))]
    return max(last) + 1 if last else None


def _atomic_write(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass
class WorkerStats:
    files: int = 0
    rows: int = 0
    rejected: int = 0


class LakeWorker:
    """One scale-out landing process of a consumer group."""

    def __init__(
        self,
        bootstrap: str,
        lake: Path,
        topic: str,
        group: str = DEFAULT_GROUP,
        batch_size: int = 20_000,
        idle_exit_s: float | None = 5.0,
    ) -> None:
        self.bootstrap = bootstrap
        self.lake = lake
        self.topic = topic
        self.group = group
        self.batch_size = batch_size
        self.idle_exit_s = idle_exit_s
        self.decoder = BatchDecoder(contract_for_topic(topic), topic, window=EventWindow.from_env())
        self.buffers: dict[int, list[Any]] = {}
        self.stats = WorkerStats()
        self.dead_letters = DeadLetterSender(bootstrap, topic, dlq_for(topic), source=group)
        self._consumer: Any = None

    def _flush(self, partition: int, mirror: bool = True) -> None:
        records = self.buffers.pop(partition, [])
        if not records:
            return
        landed_at = datetime.now(UTC).replace(tzinfo=None)
        table, rejected, _ = self.decoder.decode_arrow(Records.of(records), landed_at)
        first, last = records[0].offset, records[-1].offset
        d = partition_dir(self.lake, self.topic, partition)
        d.mkdir(parents=True, exist_ok=True)
        if rejected:
            self.dead_letters.send(rejected)
            _atomic_write(_rejects_table(rejected), d / f"{first:020d}-{last:020d}.rejected")
        # Written last: its existence is what marks the range as done.
        _atomic_write(table, d / f"{first:020d}-{last:020d}.parquet")
        self.stats.files += 1
        self.stats.rows += table.num_rows
        self.stats.rejected += len(rejected)
        if mirror:
            mirror_offsets(self._consumer, self.topic, {partition: last + 1})

    def run(self, max_seconds: float | None = None) -> WorkerStats:
        from kafka import KafkaConsumer, TopicPartition
        from kafka.consumer.subscription_state import ConsumerRebalanceListener

        worker = self

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked: Any) -> None:
                # kafka-python calls this on its network thread, where a commit would block on itself
                # ("Cannot block on net.run() from the IO thread"). The file is the truth; the next owner
                # mirrors the offset after its first file.
                for tp in revoked:
                    worker._flush(tp.partition, mirror=False)

            def on_partitions_assigned(self, assigned: Any) -> None:
                for tp in assigned:
                    nxt = next_offset_on_disk(worker.lake, worker.topic, tp.partition)
                    if nxt is None:
                        worker._consumer.seek_to_beginning(tp)
                    else:
                        worker._consumer.seek(tp, nxt)

        self._consumer = KafkaConsumer(
            **client_config(self.bootstrap),
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.batch_size,
            fetch_max_wait_ms=200,
            client_id=f"{self.group}-{os.getpid()}",
        )
        self._consumer.subscribe([self.topic], listener=Listener())
        started = last_data = time.monotonic()
        try:
            while True:
                polled = self._consumer.poll(timeout_ms=500)
                now = time.monotonic()
                for tp, recs in polled.items():
                    buf = self.buffers.setdefault(tp.partition, [])
                    buf.extend(recs)
                    if len(buf) >= self.batch_size:
                        self._flush(tp.partition)
                if polled:
                    last_data = now
                elif self.buffers:
                    for p in list(self.buffers):
                        self._flush(p)
                if self.idle_exit_s is not None and now - last_data > self.idle_exit_s:
                    # Idle and caught up on what we own: exit (a long-running worker passes None).
                    owned = self._consumer.assignment()
                    end = self._consumer.end_offsets(list(owned)) if owned else {}
                    if all(self._consumer.position(TopicPartition(tp.topic, tp.partition)) >= end[tp] for tp in owned):
                        break
                if max_seconds is not None and now - started > max_seconds:
                    break
        finally:
            for p in list(self.buffers):
                self._flush(p)
            self._consumer.close(autocommit=False)
            self.dead_letters.close()
        return self.stats


def _rejects_table(rejected: list[RejectedRecord]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "kafka_partition": r.partition,
                "kafka_offset": r.offset,
                "raw_key": r.key,
                "raw_value": r.value,
                "error_class": r.error_class,
                "reason": r.reason,
            }
            for r in rejected
        ],
        schema=REJECT_SCHEMA,
    )


def import_lake(con: duckdb.DuckDBPyConnection, lake: Path, topic: str) -> dict[str, int]:
    """Load the lake files not yet imported into the raw tables, in one transaction."""
    contract = contract_for_topic(topic)
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.lake_files (
        path VARCHAR PRIMARY KEY, topic VARCHAR NOT NULL, imported_at TIMESTAMP NOT NULL)"""
    )
    root = lake / topic
    files = sorted(str(p) for p in root.glob("p*/*.parquet")) if root.is_dir() else []
    done = {r[0] for r in con.execute(f"SELECT path FROM {RAW_SCHEMA}.lake_files WHERE topic = ?", [topic]).fetchall()}
    new = [f for f in files if f not in done]
    if not new:
        return {"files": 0, "landed": 0, "duplicates": 0, "rejected": 0}
    rejects = [f[: -len(".parquet")] + ".rejected" for f in new if Path(f[: -len(".parquet")] + ".rejected").exists()]
    now = datetime.now(UTC).replace(tzinfo=None)
    target = f"{RAW_SCHEMA}.{contract.table}"
    with transaction(con):
        # A zombie worker may have written an overlapping range: one row per Kafka offset.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE tw_lake AS
            SELECT * FROM read_parquet(?, union_by_name = true)
            QUALIFY row_number() OVER (PARTITION BY kafka_partition, kafka_offset ORDER BY kafka_offset) = 1""",
            [new],
        )
        ((total,),) = con.execute("SELECT count(*) FROM tw_lake").fetchall()
        landed, _ = insert_new_rows(con, "tw_lake", target, topic, now)
        n_rejected = 0
        if rejects:
            n_rejected = len(
                con.execute(
                    f"""INSERT INTO {RAW_SCHEMA}.rejected_events
                    SELECT ?, kafka_partition, kafka_offset, raw_key, raw_value, error_class, reason, ?
                    FROM read_parquet(?) ON CONFLICT DO NOTHING RETURNING 1""",
                    [topic, now, rejects],
                ).fetchall()
            )
        con.execute(
            f"""INSERT INTO {RAW_SCHEMA}.kafka_offsets
            SELECT 'lake', ?, kafka_partition, max(kafka_offset) + 1, ? FROM tw_lake GROUP BY kafka_partition
            ON CONFLICT (consumer, topic, kafka_partition) DO UPDATE
            SET next_offset = greatest(kafka_offsets.next_offset, excluded.next_offset), updated_at = excluded.updated_at""",
            [topic, now],
        )
        con.executemany(f"INSERT INTO {RAW_SCHEMA}.lake_files VALUES (?, ?, ?)", [[f, topic, now] for f in new])
        duplicates = int(total) - landed
        record_batch(con, topic, landed, duplicates, n_rejected, 0, now)
        con.execute("DROP TABLE tw_lake")
    return {"files": len(new), "landed": landed, "duplicates": duplicates, "rejected": n_rejected}
