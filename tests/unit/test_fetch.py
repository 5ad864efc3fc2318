"""Landing's record-batch reader gives exactly what kafka-python's own record iteration gives."""

from __future__ import annotations

import random

import pytest
from kafka.errors import CorruptRecordError
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from landing.record_batches import RecordChunk, Records, read_batch

CODECS = {
    "none": 0,
    "gzip": DefaultRecordBatch.CODEC_GZIP,
    "snappy": DefaultRecordBatch.CODEC_SNAPPY,
    "lz4": DefaultRecordBatch.CODEC_LZ4,
    "zstd": DefaultRecordBatch.CODEC_ZSTD,
}


def build(codec: int, n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=codec,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=2**30,
    )
    for i in range(n):
        key = None if i % 7 == 0 else f"wl-{rng.randrange(10 ** rng.randrange(1, 9))}".encode()
        # Values of every varint width: empty, 1 byte, around 64 and 128 (width changes), and 20 KB.
        size = rng.choice([0, 1, 63, 64, 127, 128, 400, 8191, 8192, 20_000])
        value = None if i % 11 == 0 else bytes(rng.randrange(256) for _ in range(size))
        headers = [("h", b"x" * rng.randrange(3))] * (i % 3)
        # Timestamps far apart make multi-byte timestamp deltas.
        builder.append(
            i * rng.choice([1, 2]),
            timestamp=1_700_000_000_000 + i * 10 ** rng.randrange(0, 7),
            key=key,
            value=value,
            headers=headers,
        )
    return bytes(builder.build())


@pytest.mark.parametrize("codec", CODECS)
def test_read_batch_matches_kafka_python(codec: str) -> None:
    # Every codec's library is a declared dependency: a producer may compress with any of them.
    data = build(CODECS[codec], 300, seed=len(codec))
    expected = list(DefaultRecordBatch(data))
    offsets, keys, values = read_batch(DefaultRecordBatch(data))
    assert offsets == [r.offset for r in expected]
    assert keys == [r.key for r in expected]
    assert values == [r.value for r in expected]


def test_trailing_garbage_in_a_batch_is_reported_as_corrupt() -> None:
    data = bytearray(build(0, 5, seed=1))
    batch = DefaultRecordBatch(bytes(data))
    batch._num_records -= 1  # one record more in the buffer than the header announces
    with pytest.raises(CorruptRecordError, match="after its records"):
        read_batch(batch)


def test_records_gather_chunks_and_consumer_records_alike() -> None:
    records = Records()
    records.add(RecordChunk(2, [10, 11], [b"k", None], [b"a", b"b"]))
    records.add(RecordChunk(0, [5], [None], [None]))
    assert (records.partitions, records.offsets, records.keys, records.values) == (
        [2, 2, 0],
        [10, 11, 5],
        [b"k", None, None],
        [b"a", b"b", None],
    )
    assert len(records) == 3

    class Rec:
        def __init__(self, partition: int, offset: int, key: bytes | None, value: bytes | None) -> None:
            self.partition, self.offset, self.key, self.value = partition, offset, key, value

    same = Records.of([Rec(2, 10, b"k", b"a"), Rec(2, 11, None, b"b"), Rec(0, 5, None, None)])
    assert same == records
