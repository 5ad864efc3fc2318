"""The spill file: append, ordered replay across segments and restarts, checkpoints, and a full disk."""

from __future__ import annotations

import errno
import json
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from ingest.emitter import TelemetryEmitter
from ingest.spill import SpillStore
from streaming.broker import free_port
from tests.factories import gpu_event, usage_event, wait_for


def lines(prefix: str, n: int) -> list[bytes]:
    return [f'{{"id":"{prefix}{i}"}}'.encode() for i in range(n)]


def drain(store: SpillStore, max_records: int = 3) -> list[bytes]:
    """Replay everything as the emitter does: read a chunk, 'deliver' it, commit it."""
    out: list[bytes] = []
    while (chunk := store.read_chunk(max_records=max_records)) is not None:
        out.extend(chunk.lines)
        store.commit(chunk)
    return out


def test_appended_lines_replay_in_order_and_the_files_go_once_delivered(tmp_path: Path) -> None:
    store = SpillStore(tmp_path)
    store.append(lines("a", 4))
    store.append(lines("b", 3))
    store.sync()
    assert store.pending()
    assert drain(store) == lines("a", 4) + lines("b", 3)
    assert not store.pending()
    assert store.clear_if_drained()
    store.close()
    assert list(tmp_path.glob("seg-*")) == []


def test_checkpoint_survives_a_restart_so_only_the_rest_is_replayed(tmp_path: Path) -> None:
    store = SpillStore(tmp_path)
    store.append(lines("e", 10))
    first = store.read_chunk(max_records=4)
    assert first is not None and first.lines == lines("e", 4)
    store.commit(first)
    second = store.read_chunk(max_records=3)  # read, never acknowledged: must come back
    assert second is not None
    store.close()

    again = SpillStore(tmp_path)
    assert again.pending()
    assert drain(again) == lines("e", 10)[4:]
    again.close()
    assert list(tmp_path.glob("seg-*")) == []


def test_prepended_lines_come_before_everything_already_spilled(tmp_path: Path) -> None:
    store = SpillStore(tmp_path)
    store.append(lines("new", 3))
    store.prepend(lines("old", 2))
    store.append(lines("newer", 1))
    assert drain(store) == lines("old", 2) + lines("new", 3) + lines("newer", 1)
    store.close()


def test_a_leftover_spill_is_replayed_before_what_the_next_owner_appends(tmp_path: Path) -> None:
    first = SpillStore(tmp_path)
    first.append(lines("left", 3))
    first.close()
    second = SpillStore(tmp_path)
    second.append(lines("mine", 2))
    assert drain(second) == lines("left", 3) + lines("mine", 2)
    second.close()


def test_a_torn_last_line_from_a_crash_is_skipped_and_replay_goes_on(tmp_path: Path) -> None:
    first = SpillStore(tmp_path)
    first.append(lines("ok", 2))
    first.close()
    (segment,) = tmp_path.glob("seg-*.jsonl")
    with open(segment, "ab") as fh:
        fh.write(b'{"id":"torn')  # the writer died mid-line
    second = SpillStore(tmp_path)
    second.append(lines("later", 1))
    torn_seen = []
    out: list[bytes] = []
    while (chunk := second.read_chunk()) is not None:
        out.extend(chunk.lines)
        torn_seen.append(chunk.torn)
        second.commit(chunk)
    assert out == lines("ok", 2) + lines("later", 1)
    assert sum(torn_seen) == 1
    second.close()


def test_a_busy_directory_gets_a_private_one_adopted_by_the_next_owner(tmp_path: Path) -> None:
    owner = SpillStore(tmp_path)
    other = SpillStore(tmp_path)
    assert other.dir != owner.dir and other.dir.parent == tmp_path
    other.append(lines("other", 2))
    other.close()  # left pending in its private directory
    owner.append(lines("owner", 1))
    owner.close()
    heir = SpillStore(tmp_path)
    assert drain(heir) == lines("other", 2) + lines("owner", 1)
    heir.close()
    assert not other.dir.exists()


def enospc_after(n_bytes: int) -> Callable[[BinaryIO, bytes], None]:
    """A writer that lets ``n_bytes`` through and then fails as a full disk does."""
    budget = [n_bytes]

    def write(fh: BinaryIO, data: bytes) -> None:
        if len(data) > budget[0]:
            fh.write(data[: budget[0]])
            budget[0] = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        fh.write(data)
        budget[0] -= len(data)

    return write


def test_disk_full_raises_and_leaves_no_half_written_line(tmp_path: Path) -> None:
    first = lines("a", 2)
    store = SpillStore(tmp_path, writer=enospc_after(sum(len(x) + 1 for x in first) + 5))
    store.append(first)
    with pytest.raises(OSError) as info:
        store.append(lines("b", 3))
    assert info.value.errno == errno.ENOSPC
    assert drain(store) == first  # the partial batch was cut off
    store.close()


def unreachable() -> str:
    return f"127.0.0.1:{free_port()}"  # nothing listens there


def test_emitter_without_kafka_spills_everything_in_emit_order(tmp_path: Path) -> None:
    events = [usage_event(i) for i in range(50)] + [gpu_event(0)]
    emitter = TelemetryEmitter(unreachable(), spill_dir=tmp_path, connect_grace_s=0.1)
    try:
        assert all(emitter.emit(e) for e in events)
        assert emitter.emit({"event_id": "x"}) is False  # invalid: counted, not raised
        wait_for(lambda: emitter.stats().spilled == len(events), timeout=30, what="spill")
        assert emitter.flush(timeout=0.2) is False  # nothing can be acknowledged
    finally:
        emitter.close(timeout=5)
    stats = emitter.stats()
    assert (stats.sent, stats.spilled, stats.dropped, stats.invalid) == (0, len(events), 0, 1)
    leftover = SpillStore(tmp_path)
    ids = [json.loads(line)["event_id"] for line in drain(leftover, max_records=1000)]
    leftover.close()
    assert ids == [e["event_id"] for e in events]


def test_emitter_counts_events_it_cannot_spill_on_a_full_disk(tmp_path: Path) -> None:
    def full(_fh: BinaryIO, _data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    emitter = TelemetryEmitter(unreachable(), spill_dir=tmp_path, connect_grace_s=0.1, spill_writer=full)
    try:
        for i in range(20):
            assert emitter.emit(usage_event(i)) is True  # the caller never sees the disk error
        wait_for(lambda: emitter.stats().dropped == 20, timeout=30, what="drops")
    finally:
        emitter.close(timeout=5)
    stats = emitter.stats()
    assert (stats.spilled, stats.dropped) == (0, 20)


def test_strict_emitter_raises_on_an_invalid_event(tmp_path: Path) -> None:
    from schemas import ContractError

    emitter = TelemetryEmitter(unreachable(), spill_dir=tmp_path, strict=True)
    try:
        with pytest.raises(ContractError) as info:
            emitter.emit(usage_event(1, output_tokens=-1))
        assert info.value.field == "output_tokens"
    finally:
        emitter.close(timeout=2)


def test_a_full_queue_spills_on_the_callers_thread_without_losing_order(tmp_path: Path) -> None:
    events = [usage_event(i) for i in range(3000)]
    emitter = TelemetryEmitter(unreachable(), spill_dir=tmp_path, connect_grace_s=0.0, queue_size=8)
    try:
        for e in events:
            assert emitter.emit(e)
        wait_for(lambda: emitter.stats().spilled == len(events), timeout=30, what="spill")
    finally:
        emitter.close(timeout=5)
    assert emitter.stats().dropped == 0
    leftover = SpillStore(tmp_path)
    ids = [json.loads(line)["event_id"] for line in drain(leftover, max_records=5000)]
    leftover.close()
    assert ids == [e["event_id"] for e in events]
