"""A lean record path for the landing consumer: whole Kafka record batches as columns.

kafka-python decodes every record into a ``ConsumerRecord`` in pure Python (checksum fields,
timestamps, headers, sizes), about 5 µs per record: most of what a bare consume loop costs, and
nothing landing needs. Landing keeps kafka-python for everything else (metadata, leaders, fetch
sessions, retries, offsets) and only swaps how a fetched partition's records are unpacked: each
record batch (message format v2, the only one Kafka 4 writes) is CRC-checked and decompressed by
kafka-python, then its records are read straight into offset, key and value lists.

Only ``isolation_level="read_uncommitted"`` is supported (what landing uses): control batches are
skipped, and no record is filtered by transaction state.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka.consumer.fetcher import Fetcher
from kafka.errors import CorruptRecordError, KafkaConfigurationError


@dataclass(slots=True)
class RecordChunk:
    """The records of one batch of one partition (what a lean `poll()` returns per item)."""

    partition: int
    offsets: list[int]
    keys: list[bytes | None]
    values: list[bytes | None]

    @property
    def offset(self) -> int:  # kafka-python compares this with the fetch offset
        return self.offsets[-1]


@dataclass
class Records:
    """A landing batch as columns, whatever path read it."""

    partitions: list[int] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    keys: list[bytes | None] = field(default_factory=list)
    values: list[bytes | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.offsets)

    def add(self, chunk: RecordChunk) -> None:
        self.partitions.extend([chunk.partition] * len(chunk.offsets))
        self.offsets.extend(chunk.offsets)
        self.keys.extend(chunk.keys)
        self.values.extend(chunk.values)

    @classmethod
    def of(cls, records: Sequence[Any]) -> Records:
        """From kafka-python ConsumerRecords (or anything with partition, offset, key and value)."""
        return cls(
            [r.partition for r in records], [r.offset for r in records], [r.key for r in records], [r.value for r in records]
        )


def _varint(data: bytearray, pos: int) -> tuple[int, int]:
    """A zigzag varint at `pos`: (value, next position)."""
    shift = value = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (value >> 1) ^ -(value & 1), pos
        shift += 7


def read_batch(batch: Any) -> tuple[list[int], list[bytes | None], list[bytes | None]]:
    """Offsets, keys and values of a v2 record batch (headers, timestamps and attributes are skipped).

    Record: length, attributes, timestamp delta, offset delta, key length, key, value length, value,
    headers; lengths are zigzag varints (-1 = null). One-byte varints, the common case, are read inline.
    """
    try:
        batch._maybe_uncompress()
        data: bytearray = batch._buffer
        pos: int = batch._pos
        count: int = batch._num_records
    except AttributeError:  # a kafka-python without these internals: take its public, slower path
        recs = list(batch)
        return [r.offset for r in recs], [r.key for r in recs], [r.value for r in recs]
    base = batch.base_offset
    offsets: list[int] = []
    keys: list[bytes | None] = []
    values: list[bytes | None] = []
    for _ in range(count):
        length, pos = _varint(data, pos)
        end = pos + length
        p = pos + 1  # attributes: unused
        while data[p] >= 0x80:  # timestamp delta: skipped
            p += 1
        p += 1
        b = data[p]
        if b < 0x80:
            delta, p = (b >> 1) ^ -(b & 1), p + 1
        else:
            delta, p = _varint(data, p)
        b = data[p]
        if b < 0x80:
            size, p = (b >> 1) ^ -(b & 1), p + 1
        else:
            size, p = _varint(data, p)
        if size >= 0:
            keys.append(bytes(data[p : p + size]))
            p += size
        else:
            keys.append(None)
        b = data[p]
        if b < 0x80:
            size, p = (b >> 1) ^ -(b & 1), p + 1
        else:
            size, p = _varint(data, p)
        values.append(bytes(data[p : p + size]) if size >= 0 else None)
        offsets.append(base + delta)
        pos = end
    if pos != len(data):
        raise CorruptRecordError(f"record batch at offset {base} has {len(data) - pos} bytes after its records")
    return offsets, keys, values


class _ChunkRecords(Fetcher.PartitionRecords):
    def _maybe_skip_record(self, record: RecordChunk) -> bool:
        return record.offset < self.fetch_offset

    def _unpack_records(self, tp: Any, records: Any, key_deserializer: Any, value_deserializer: Any) -> Iterator[Any]:
        batch = records.next_batch()
        while batch is not None:
            if batch.magic != 2:
                raise CorruptRecordError(
                    f"message format v{batch.magic} at offset {batch.base_offset} of {tp}: "
                    "landing reads format v2 only (Kafka 4 writes nothing else)"
                )
            if self.check_crcs and not batch.validate_crc():
                raise CorruptRecordError(f"record batch of {tp} at offset {batch.base_offset} failed its CRC check")
            self.leader_epoch = batch.leader_epoch
            if not batch.is_control_batch:
                offsets, keys, values = read_batch(batch)
                # A fetch that starts inside a batch gets the whole batch: drop what lies before it.
                first = 0
                while first < len(offsets) and offsets[first] < self.fetch_offset:
                    first += 1
                if first:
                    offsets, keys, values = offsets[first:], keys[first:], values[first:]
                self.records_read += len(offsets)
                self.bytes_read += batch.size_in_bytes
                # v2 keeps a batch's last offset even when compaction removed its record: resume after it.
                self.next_fetch_offset = batch.next_offset
                if offsets:
                    yield RecordChunk(tp.partition, offsets, keys, values)
            else:
                self.next_fetch_offset = batch.next_offset
            batch = records.next_batch()
        self.drain()


class _ChunkFetcher(Fetcher):
    PartitionRecords = _ChunkRecords


def use_record_chunks(consumer: Any) -> Any:
    """Make `consumer.poll()` return RecordChunks (one per record batch) instead of ConsumerRecords.

    `max_records` then counts chunks. The consumer's fetcher keeps its state; only its class changes.
    """
    if consumer.config.get("isolation_level", "read_uncommitted") != "read_uncommitted":
        raise KafkaConfigurationError("record chunks support isolation_level='read_uncommitted' only")
    fetcher = consumer._fetcher
    if type(fetcher) is not Fetcher:
        raise KafkaConfigurationError(f"unexpected fetcher {type(fetcher).__name__}; kafka-python changed")
    fetcher.__class__ = _ChunkFetcher
    return consumer
