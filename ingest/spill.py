"""Append-only spill files: where the emitter parks events while Kafka is away.

A spill directory holds numbered segments ``seg-<gen>.jsonl`` (one validated event JSON per line) and,
beside each, ``seg-<gen>.jsonl.replayed``: the byte offset up to which the segment has been delivered
to Kafka. Segments are replayed in ascending ``gen``; new events go to the highest segment, and events
known to be older than everything on disk (records the producer gave back) go to a new lowest one, so
the per-workload order of the original emits survives an outage.

One emitter owns a directory at a time (``flock`` on ``.lock``). A second emitter pointed at a busy
directory gets a private ``emitter-*`` subdirectory; the next owner of the parent adopts such leftovers.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger("tierwise.spill")

SEGMENT_GLOB = "seg-*.jsonl"
CHECKPOINT_SUFFIX = ".replayed"
LOCK_NAME = ".lock"
ORPHAN_PREFIX = "emitter-"
# Generations start mid-range so segments can be numbered both after and before the existing ones.
FIRST_GEN = 10**11

Writer = Callable[[BinaryIO, bytes], None]


def write_all(fh: BinaryIO, data: bytes) -> None:
    """Write every byte (an unbuffered file may take a write in parts)."""
    view = memoryview(data)
    while view:
        n = fh.write(view)
        if n is None or n <= 0:
            raise OSError("spill write made no progress")
        view = view[n:]


@dataclass
class Chunk:
    """Lines read from one segment, not yet delivered; commit it once Kafka acknowledged all of it."""

    gen: int
    start: int
    end: int
    lines: list[bytes]
    torn: int = 0  # a partial last line left by a crashed writer, skipped


def _segment_name(gen: int) -> str:
    return f"seg-{gen:013d}.jsonl"


def _gen_of(path: Path) -> int | None:
    try:
        return int(path.name[4:-6])
    except ValueError:
        return None


class SpillStore:
    """Durable FIFO of event lines with a replayed-offset checkpoint per segment.

    Thread-safe: appends may come from the caller's thread while the emitter's thread reads.
    """

    def __init__(self, directory: Path, writer: Writer | None = None, fsync: Callable[[int], None] = os.fsync):
        self.root = Path(directory)
        self.root.mkdir(parents=True, exist_ok=True)
        self._write = writer or write_all
        self._fsync = fsync
        self._mu = threading.RLock()
        self.dir, self._lock_fh = self._claim()
        self._size: dict[int, int] = {}  # bytes of complete lines in each segment
        self._done: dict[int, int] = {}  # committed (replayed) offset of each segment
        self._cursor: dict[int, int] = {}  # read position, ahead of _done while a chunk is out
        self._active: int | None = None  # the segment this store appends to
        self._fh: BinaryIO | None = None
        self._dirty = False
        if self.dir == self.root:
            self._adopt_orphans()
        self._scan()

    # ownership ---------------------------------------------------------------------------------
    def _claim(self) -> tuple[Path, BinaryIO]:
        fh = open(self.root / LOCK_NAME, "ab")  # noqa: SIM115 - held open for the store's lifetime
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return self.root, fh
        except BlockingIOError:
            fh.close()
        # Another live emitter owns the directory: never share a file with it, use a private one.
        private = self.root / f"{ORPHAN_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        private.mkdir()
        fh = open(private / LOCK_NAME, "ab")  # noqa: SIM115
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        log.warning("spill dir %s is in use by another emitter; spilling to %s", self.root, private)
        return private, fh

    def _adopt_orphans(self) -> None:
        """Move segments of dead emitters' private directories in front of ours (they are older)."""
        for sub in sorted(self.root.glob(f"{ORPHAN_PREFIX}*")):
            if not sub.is_dir():
                continue
            try:
                fh = open(sub / LOCK_NAME, "ab")  # noqa: SIM115
            except OSError:
                continue
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue  # still alive
            segments = sorted(p for p in sub.glob(SEGMENT_GLOB) if _gen_of(p) is not None)
            existing = [g for g in (_gen_of(p) for p in self.root.glob(SEGMENT_GLOB)) if g is not None]
            gen = min(existing, default=FIRST_GEN) - len(segments)
            for seg in segments:
                target = self.root / _segment_name(gen)
                ckpt = seg.with_name(seg.name + CHECKPOINT_SUFFIX)
                if ckpt.exists():
                    os.replace(ckpt, target.with_name(target.name + CHECKPOINT_SUFFIX))
                os.replace(seg, target)
                gen += 1
            fh.close()
            for leftover in sub.iterdir():
                leftover.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                sub.rmdir()
            if segments:
                log.info("adopted %d spill segment(s) left by %s", len(segments), sub.name)

    def _scan(self) -> None:
        for path in self.dir.glob(SEGMENT_GLOB):
            gen = _gen_of(path)
            if gen is None:
                continue
            size = path.stat().st_size
            done = min(self._read_checkpoint(path), size)
            self._size[gen] = size
            self._done[gen] = done
            self._cursor[gen] = done

    @staticmethod
    def _read_checkpoint(path: Path) -> int:
        try:
            return int(path.with_name(path.name + CHECKPOINT_SUFFIX).read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _path(self, gen: int) -> Path:
        return self.dir / _segment_name(gen)

    # writing -----------------------------------------------------------------------------------
    def append(self, lines: Sequence[bytes]) -> None:
        """Append lines (no trailing newline) after everything else; raises OSError (disk full)."""
        if not lines:
            return
        with self._mu:
            if self._active is None:
                self._active = max(self._size, default=FIRST_GEN - 1) + 1
                self._open_new(self._active)
            assert self._fh is not None
            self._write_lines(self._fh, self._active, lines)
            self._dirty = True

    def prepend(self, lines: Sequence[bytes]) -> None:
        """Store lines ahead of every segment on disk: for records older than anything spilled."""
        if not lines:
            return
        with self._mu:
            gen = min(self._size, default=FIRST_GEN) - 1
            path = self._path(gen)
            fh = open(path, "ab", buffering=0)  # noqa: SIM115
            self._size[gen] = self._done[gen] = self._cursor[gen] = 0
            try:
                self._write_lines(fh, gen, lines)
                self._fsync(fh.fileno())
            except OSError:
                fh.close()
                path.unlink(missing_ok=True)
                for table in (self._size, self._done, self._cursor):
                    table.pop(gen, None)
                raise
            fh.close()
            self._fsync_dir()
            self.rewind()

    def _open_new(self, gen: int) -> None:
        self._fh = open(self._path(gen), "ab", buffering=0)  # noqa: SIM115 - closed in close()/_retire
        self._size[gen] = self._done[gen] = self._cursor[gen] = 0
        self._fsync_dir()

    def _write_lines(self, fh: BinaryIO, gen: int, lines: Sequence[bytes]) -> None:
        data = b"\n".join(lines) + b"\n"
        before = self._size[gen]
        try:
            self._write(fh, data)
        except OSError:
            # Cut a half-written batch off so the next append starts on a line boundary.
            with contextlib.suppress(OSError):
                os.ftruncate(fh.fileno(), before)
            raise
        self._size[gen] = before + len(data)

    def sync(self) -> None:
        """fsync the active segment if something was appended since the last sync (once per batch)."""
        with self._mu:
            if self._dirty and self._fh is not None:
                self._fsync(self._fh.fileno())
                self._dirty = False

    def _fsync_dir(self) -> None:
        # A new segment's directory entry must survive a crash too, not only its bytes.
        with contextlib.suppress(OSError):
            fd = os.open(self.dir, os.O_RDONLY)
            try:
                self._fsync(fd)
            finally:
                os.close(fd)

    # reading -----------------------------------------------------------------------------------
    def pending(self) -> bool:
        with self._mu:
            return any(self._done[g] < self._size[g] for g in self._size)

    def pending_bytes(self) -> int:
        with self._mu:
            return sum(self._size[g] - self._done[g] for g in self._size)

    def read_chunk(self, max_records: int = 1000, max_bytes: int = 1 << 20) -> Chunk | None:
        """The next unread lines of the oldest segment with any, or None when all were read."""
        with self._mu:
            for gen in sorted(self._size):
                pos, size = self._cursor[gen], self._size[gen]
                if pos >= size:
                    continue
                return self._read(gen, pos, size, max_records, max_bytes)
        return None

    def _read(self, gen: int, pos: int, size: int, max_records: int, max_bytes: int) -> Chunk:
        want = max_bytes
        with open(self._path(gen), "rb") as fh:
            while True:
                fh.seek(pos)
                buf = fh.read(min(want, size - pos))
                cut = buf.rfind(b"\n")
                if cut >= 0:
                    break
                if pos + len(buf) >= size:
                    # No newline up to the end: a torn line from a crashed writer (never ours).
                    self._cursor[gen] = size
                    return Chunk(gen, pos, size, [], torn=1)
                want *= 2  # one line longer than max_bytes
        lines = buf[:cut].split(b"\n")
        if len(lines) > max_records:
            lines = lines[:max_records]
        end = pos + sum(len(line) + 1 for line in lines)
        self._cursor[gen] = end
        return Chunk(gen, pos, end, lines)

    def commit(self, chunk: Chunk) -> None:
        """Record that the chunk reached Kafka; persist the offset so a restart resumes after it."""
        with self._mu:
            if chunk.gen not in self._size or chunk.end <= self._done[chunk.gen]:
                return
            self._done[chunk.gen] = chunk.end
            if chunk.gen != self._active and self._done[chunk.gen] >= self._size[chunk.gen]:
                self._retire(chunk.gen)
                return
            path = self._path(chunk.gen)
            tmp = path.with_name(path.name + CHECKPOINT_SUFFIX + ".tmp")
            with open(tmp, "wb") as fh:
                fh.write(str(chunk.end).encode())
                fh.flush()
                self._fsync(fh.fileno())
            os.replace(tmp, path.with_name(path.name + CHECKPOINT_SUFFIX))

    def rewind(self) -> None:
        """Forget chunks read but not committed: they will be read again."""
        with self._mu:
            self._cursor.update(self._done)

    def _retire(self, gen: int) -> None:
        path = self._path(gen)
        path.unlink(missing_ok=True)
        path.with_name(path.name + CHECKPOINT_SUFFIX).unlink(missing_ok=True)
        for table in (self._size, self._done, self._cursor):
            table.pop(gen, None)
        if gen == self._active:
            if self._fh is not None:
                self._fh.close()
            self._fh, self._active, self._dirty = None, None, False

    def clear_if_drained(self) -> bool:
        """Delete every segment once all were replayed; True when the store is empty afterwards."""
        with self._mu:
            if self.pending():
                return False
            for gen in list(self._size):
                self._retire(gen)
            return True

    def close(self) -> None:
        """Sync, delete what was fully replayed, and release the directory for the next emitter."""
        with self._mu:
            if self._lock_fh is None:
                return
            self.sync()
            self.clear_if_drained()
            if self._fh is not None:
                self._fh.close()
                self._fh, self._active = None, None
            self._lock_fh.close()
            self._lock_fh = None
            if self.dir != self.root and not any(self.dir.glob(SEGMENT_GLOB)):
                for leftover in self.dir.iterdir():
                    leftover.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    self.dir.rmdir()
