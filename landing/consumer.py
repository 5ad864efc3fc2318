"""Kafka -> DuckDB landing with exactly-once rows.

Kafka's "store offsets outside Kafka" pattern: the next offset of every partition is stored in
``raw.kafka_offsets`` in the same DuckDB transaction as the rows read up to it, and each run seeks
to those offsets. A crash anywhere before the commit loses the whole batch's transaction and the
next run re-reads it; a crash after it finds the new offsets. Rows are also unique by
``event_id`` (a producer resend lands once; duplicates are counted per batch).

Speed (docs/landing.md): record batches are read whole (``landing.record_batches``), validated column by
column (``landing.decoder``), and committed (``landing.writer``) on a worker thread while the next batch is fetched.

Offsets are mirrored to the Kafka consumer group after each commit for monitoring (lag) only;
they are never read back for correctness.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import duckdb

from core.kafka_security import client_config
from landing.dead_letters import DeadLetterSender
from landing.decoder import BatchDecoder
from landing.limits import DEFAULT_BATCH_SIZE, EventWindow
from landing.record_batches import RecordChunk, Records, use_record_chunks
from landing.tables import contract_for_topic
from landing.writer import LandingResult, WarehouseWriter
from streaming.topics import dlq_for

log = logging.getLogger(__name__)

DEFAULT_CONSUMER = "tierwise-landing"
LANDING_SWITCH_INTERVAL_S = 0.0001


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
        max_event_bytes: int | None = None,
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
            if self.mirror_offsets:
                # Once more with everything stored, even when nothing was pending: a mirror commit that
                # failed earlier would otherwise leave the lag sensor seeing work `tierwise status` does not.
                mirror_offsets(consumer, self.topic, self.writer.stored_offsets())
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
