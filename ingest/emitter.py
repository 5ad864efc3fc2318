"""The producer SDK: emit usage and GPU events without ever slowing or breaking the caller's request.

``emit()`` validates on the caller's thread, puts the event's JSON on a bounded in-memory queue and
returns. One background thread hands queued events to an idempotent kafka-python producer
(``acks='all'``, key = the event id, or deployment for GPU heartbeats: usage spreads evenly over the
partitions whatever the mix of workloads, and a resent event lands on the partition of its first copy).
When Kafka is away or slow, events go to an append-only spill file under
``$TIERWISE_HOME/spill`` and are replayed, oldest first, once Kafka answers again.

Ordering and duplicates. The thread is in one of two modes. *Direct*: the spill is empty and events
go straight to the producer. *Spilling*: entered when an event waits for its ack longer than
``stall_timeout_s``, when the producer refuses or fails a record, when there is no connection, or
when the queue overflows. While spilling, every new event is appended to the spill; records already
inside the producer stay there and are retried by the producer itself under its idempotent sequence
numbers, so a broker that wrote them before dying does not get them twice. Replay starts only after
those have been acknowledged (or given back, in which case they are stored ahead of the spill), and
direct mode resumes only once the whole spill is delivered. So per-workload order holds, and an
event is resent only when the producer gives it back after the broker may have written it, or when
a process stops before its replay checkpoint is stored: at-least-once, deduplicated downstream by
``event_id``.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential

from ingest.spill import Chunk, SpillStore, Writer
from streaming.clients import close_producer, reliable_producer
from streaming.topics import GPU_TOPIC, USAGE_TOPIC

if TYPE_CHECKING:
    pass

log = logging.getLogger("tierwise.emitter")

# kafka-python errors that no retry or replay can fix: the record itself is refused.
_PERMANENT_ERRORS = ("MessageSizeTooLargeError", "InvalidRecordError", "CorruptRecordError", "RecordListTooLargeError")


def _is_permanent(exc: BaseException) -> bool:
    return type(exc).__name__ in _PERMANENT_ERRORS


@dataclass(frozen=True)
class EmitterStats:
    """A snapshot of the emitter's counters (each event is counted once per outcome).

    ``sent``: acknowledged by Kafka on the direct path. ``spilled``: written to the spill file.
    ``replayed``: acknowledged by Kafka from the spill (including spills left by an earlier emitter).
    ``dropped``: lost (disk full while spilling, or a record Kafka refuses for good). ``invalid``:
    rejected by validation.
    """

    sent: int
    spilled: int
    replayed: int
    dropped: int
    invalid: int
    queued: int
    in_flight: int
    spilling: bool
    spill_bytes: int
    connected: bool


class _Item(NamedTuple):
    seq: int
    gpu: bool
    key: bytes | None
    value: bytes


class _Unacked(NamedTuple):
    item: _Item
    sent_at: float


@dataclass
class _Replay:
    """One chunk of the spill handed to the producer; committed when every record resolved."""

    chunk: Chunk
    outstanding: int
    sent_at: float
    acked: int = 0
    dropped: int = 0
    retry: bool = False


def producer_settings(linger_ms: int, compression_type: str | None, producer_config: dict[str, Any] | None) -> dict[str, Any]:
    """The emitter's kafka-python producer settings, the caller's `producer_config` last."""
    # acks='all' and idempotence are forced by reliable_producer, whatever producer_config says.
    return {
        "linger_ms": linger_ms,
        "compression_type": compression_type,
        "batch_size": 64 * 1024,
        # Records inside the producer are retried under their idempotent sequence numbers; give
        # them long enough to outlive a broker restart rather than handing them back early.
        "delivery_timeout_ms": 300_000,
        "request_timeout_ms": 15_000,
        "max_block_ms": 5_000,
        "bootstrap_timeout_ms": 5_000,
        # Reconnect within a second of the broker coming back (the default backs off to 30 s).
        "reconnect_backoff_max_ms": 1_000,
        **(producer_config or {}),
    }


class TelemetryEmitter:
    """Send validated usage/GPU events to Kafka; spill to disk and replay when Kafka is away.

    Thread-safe. Use as a context manager or call ``close()``; an emitter left open is closed at
    interpreter exit. ``bootstrap=None`` uses ``KAFKA_BOOTSTRAP_SERVERS`` else this home's local
    broker; ``spill_dir=None`` uses ``$TIERWISE_HOME/spill``.
    """

    def __init__(
        self,
        bootstrap: str | None = None,
        topic: str = USAGE_TOPIC,
        gpu_topic: str = GPU_TOPIC,
        spill_dir: str | Path | None = None,
        *,
        strict: bool = False,
        queue_size: int = 100_000,
        block_when_full: bool = False,
        max_in_flight: int = 20_000,
        stall_timeout_s: float = 3.0,
        connect_grace_s: float = 2.0,
        replay_chunk: int = 2000,
        linger_ms: int = 5,
        compression_type: str | None = None,
        client_id: str = "tierwise-emitter",
        producer_config: dict[str, Any] | None = None,
        spill_writer: Writer | None = None,
    ) -> None:
        from core.home import Home

        home = Home.from_env()
        self.bootstrap = bootstrap or _default_bootstrap(home)
        self.topic, self.gpu_topic = topic, gpu_topic
        self.strict = strict
        self._queue_size = queue_size
        # Batch tools (replay) would rather wait for room than spill a file they could simply re-read.
        self._block = block_when_full
        self._max_in_flight = max_in_flight
        self._stall_s = stall_timeout_s
        self._grace_s = connect_grace_s
        self._replay_chunk = replay_chunk
        self._client_id = client_id
        self._producer_config = producer_settings(linger_ms, compression_type, producer_config)
        spill_root = Path(spill_dir) if spill_dir is not None else home.spill
        self._spill = SpillStore(spill_root, writer=spill_writer)
        self.spill_dir = self._spill.dir

        self._init_state()
        self._start_threads()

    def _init_state(self) -> None:
        """Queues, counters and flags shared by the caller's threads and the sender thread."""
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._spill_lock = threading.Lock()  # order of appends to the spill; taken before _lock
        self._queue: deque[_Item] = deque()
        self._unacked: dict[int, _Unacked] = {}  # direct records inside the producer, oldest first
        self._failed: list[_Item] = []  # direct records the producer gave back
        self._replay: _Replay | None = None
        self._seq = 0
        self._sent = self._spilled = self._replayed = self._dropped = self._invalid = 0
        # A spill left by an earlier emitter holds older events: deliver it before any new one.
        self._spilling = self._spill.pending()
        self._stalled_logged = False
        self._idle = False
        self._closing = False
        self._closed = False
        self._deadline = float("inf")
        self._started = time.monotonic()
        self._connect_failures = 0
        self.last_error: str | None = None  # why Kafka last refused or could not be reached, for the CLI
        self._replay_not_before = 0.0
        self._producer: Any = None
        self._stop = threading.Event()

    def _start_threads(self) -> None:
        """The sender thread, the connector (so emit() never waits for a broker) and the exit hook."""
        self._thread = threading.Thread(target=self._run, name="tierwise-emitter", daemon=True)
        self._connector = threading.Thread(target=self._connect, name="tierwise-emitter-connect", daemon=True)
        self._thread.start()
        self._connector.start()
        self._atexit = _close_at_exit(self)
        atexit.register(self._atexit)

    # caller side ------------------------------------------------------------------------------
    def emit(self, event: Any) -> bool:
        """Validate and enqueue one event (a UsageEvent/GpuUsage, a dict, or JSON text/bytes).

        Returns True when the event was accepted (it will reach Kafka, now or after a spill), False
        when it was invalid or the emitter is closed. Never raises unless ``strict=True``.
        """
        try:
            item = self._prepare(event)
        except Exception as exc:
            return self._reject(exc)
        with self._lock:
            if self._closing:
                self._dropped += 1
                if self.strict:
                    raise RuntimeError("emit() after close()")
                log.error("emit() after close(): event %s dropped", _event_id_of(item))
                return False
            while self._block and len(self._queue) >= self._queue_size and not self._closing:
                self._cond.wait(0.1)
            item = item._replace(seq=self._seq)
            self._seq += 1
            if len(self._queue) < self._queue_size:
                self._queue.append(item)
                if self._idle:
                    self._cond.notify()
                return True
        self._overflow(item)
        return True

    def emit_gpu(self, event: Any) -> bool:
        """Same as ``emit`` for a GPU heartbeat given in any form (``emit`` routes dicts with an
        ``interval_start`` here by itself; use this when the input must be a heartbeat)."""
        from schemas import GpuUsage, parse_gpu

        try:
            if not isinstance(event, GpuUsage):
                event = parse_gpu(orjson.loads(event) if isinstance(event, (str, bytes, bytearray)) else event)
        except Exception as exc:
            return self._reject(exc)
        return self.emit(event)

    def _prepare(self, event: Any) -> _Item:
        from schemas import GpuUsage, UsageEvent, parse_event

        if isinstance(event, (str, bytes, bytearray)):
            event = orjson.loads(event)
        if isinstance(event, dict):
            event = parse_event(event)
        if isinstance(event, UsageEvent):
            key = event.event_id
            gpu = False
        elif isinstance(event, GpuUsage):
            key = event.deployment
            gpu = True
        else:
            raise TypeError(f"cannot emit a {type(event).__name__}: pass a UsageEvent, GpuUsage, dict or JSON")
        # Unset optional fields are left out rather than sent as nulls: smaller messages, and the shape
        # landing's columnar check takes without looking for repeated keys (ingest/columnar.py).
        return _Item(-1, gpu, key.encode() if key else None, event.model_dump_json(exclude_none=True).encode())

    def _reject(self, exc: Exception) -> bool:
        with self._lock:
            self._invalid += 1
            n = self._invalid
        if self.strict:
            raise exc
        # Log the first few and then every thousandth so a broken producer cannot flood the log.
        if n <= 10 or n % 1000 == 0:
            log.warning("invalid event rejected (%d so far): %s", n, _one_line(exc))
        return False

    def _overflow(self, item: _Item) -> None:
        """The queue is full (the sender is stuck): park everything on disk, in order."""
        with self._spill_lock:
            with self._lock:
                items = [*self._queue, item]
                self._queue.clear()
                self._enter_spill("in-memory queue full")
            self._append_to_spill(items)

    # the sender thread ------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                self._wait_for_work()
                self._absorb_failures()
                self._check_health()
                self._drain_queue()
                if self._spilling:
                    self._replay_step()
                self._sync_spill()
                with self._lock:
                    self._cond.notify_all()  # wake flush() waiters to re-check
                if self._should_stop():
                    break
        except Exception:
            log.exception("emitter thread failed; remaining events go to the spill")
        finally:
            self._shutdown()

    def _wait_for_work(self) -> None:
        with self._lock:
            can_send = self._spilling or (self._producer is not None and len(self._unacked) < self._max_in_flight)
            if (self._queue and can_send) or (self._failed and not self._unacked):
                return  # progress is possible now: no waiting
            busy = self._queue or self._spilling or self._unacked or self._replay is not None or self._closing
            self._idle = True
            self._cond.wait(0.05 if busy else 0.5)
            self._idle = False

    def _enter_spill(self, reason: str) -> None:
        """Switch to spilling (call with _lock held)."""
        self.last_error = reason
        if not self._spilling:
            self._spilling = True
            log.warning("Kafka at %s unavailable (%s); spilling to %s", self.bootstrap, reason, self.spill_dir)

    def _check_health(self) -> None:
        now = time.monotonic()
        with self._lock:
            if self._spilling:
                return
            if self._producer is None:
                if self._connect_failures or now - self._started > self._grace_s:
                    self._enter_spill("no connection")
                return
            if self._unacked:
                oldest = next(iter(self._unacked.values())).sent_at
                if now - oldest > self._stall_s:
                    self._enter_spill(f"no acknowledgement for {now - oldest:.1f}s")

    def _drain_queue(self) -> None:
        with self._lock:
            if not self._queue:
                return
            spilling = self._spilling
        if spilling:
            with self._spill_lock:
                with self._lock:
                    items = list(self._queue)
                    self._queue.clear()
                self._append_to_spill(items)
        else:
            self._send_direct()

    def _send_direct(self) -> None:
        producer = self._producer
        with self._lock:
            if self._spilling or producer is None:
                return
            room = min(self._max_in_flight - len(self._unacked), len(self._queue), 5000)
            batch = [self._queue.popleft() for _ in range(max(room, 0))]
            now = time.monotonic()
            for item in batch:
                self._unacked[item.seq] = _Unacked(item, now)
        for i, item in enumerate(batch):
            try:
                future = producer.send(self.gpu_topic if item.gpu else self.topic, value=item.value, key=item.key)
            except Exception as exc:
                with self._lock:
                    self._unacked.pop(item.seq, None)
                    if _is_permanent(exc):
                        self._dropped += 1
                        log.error("Kafka refused event %s for good: %s", _event_id_of(item), _one_line(exc))
                        continue
                    for rest in batch[i:]:
                        self._unacked.pop(rest.seq, None)
                    # Older than anything spilled from now on: stored ahead of the spill.
                    self._failed.extend(batch[i:])
                    self._enter_spill(f"send failed: {_one_line(exc)}")
                return
            future.add_callback(self._on_ack, item.seq)
            future.add_errback(self._on_fail, item.seq)

    def _on_ack(self, seq: int, _metadata: Any) -> None:
        with self._lock:
            if self._unacked.pop(seq, None) is not None:
                self._sent += 1
                self._stalled_logged = False
                if not self._unacked or len(self._unacked) == self._max_in_flight - 1:
                    self._cond.notify_all()  # flush() waiters, or the sender waiting for room

    def _on_fail(self, seq: int, exc: BaseException) -> None:
        with self._lock:
            entry = self._unacked.pop(seq, None)
            if entry is None:
                return
            if _is_permanent(exc):
                self._dropped += 1
                log.error("Kafka refused event %s for good: %s", _event_id_of(entry.item), _one_line(exc))
            else:
                self._failed.append(entry.item)
                self._enter_spill(f"send failed: {_one_line(exc)}")
            self._cond.notify_all()

    def _absorb_failures(self) -> None:
        """Store records the producer gave back ahead of the spill, once none is still in flight."""
        with self._spill_lock:
            with self._lock:
                if not self._failed or self._unacked:
                    return
                items = sorted(self._failed, key=lambda it: it.seq)
                self._failed.clear()
            self._append_to_spill(items, ahead=True)

    def _append_to_spill(self, items: list[_Item], *, ahead: bool = False) -> None:
        """Append under _spill_lock (the caller holds it), or with ``ahead`` store them before everything
        spilled (records older than it); a full disk is the only way to lose events."""
        if not items:
            return
        try:
            (self._spill.prepend if ahead else self._spill.append)([it.value for it in items])
        except OSError as exc:
            self._count_dropped(len(items), exc)
            return
        with self._lock:
            self._spilled += len(items)

    def _count_dropped(self, n: int, exc: OSError) -> None:
        with self._lock:
            self._dropped += n
            total = self._dropped
        log.error("could not spill %d event(s) to %s (%s); %d dropped so far", n, self.spill_dir, exc, total)

    def _sync_spill(self) -> None:
        try:
            self._spill.sync()  # fsync once per batch written, not per event
        except OSError as exc:
            log.error("fsync of the spill in %s failed: %s", self.spill_dir, exc)

    def _replay_step(self) -> None:
        producer = self._producer
        if producer is None:
            return
        now = time.monotonic()
        with self._lock:
            if self._unacked or self._failed:
                return  # older records first
            rep = self._replay
            if rep is not None:
                if rep.outstanding > 0:
                    if now - rep.sent_at > self._stall_s and not self._stalled_logged:
                        self._stalled_logged = True
                        log.warning("Kafka at %s does not acknowledge the replay; waiting", self.bootstrap)
                    return
                self._replay = None
        if rep is not None and not self._finish_chunk(rep):
            return
        if now < self._replay_not_before:
            return
        with self._spill_lock:
            chunk = self._spill.read_chunk(max_records=self._replay_chunk)
            if chunk is None:
                with self._lock:
                    if self._spill.clear_if_drained():
                        self._spilling = False
                        log.info("Kafka at %s is back; spill delivered, sending directly again", self.bootstrap)
                return
        self._send_chunk(producer, chunk)

    def _finish_chunk(self, rep: _Replay) -> bool:
        if rep.retry:
            # Something in the chunk was given back: read it again shortly (acked ones resend once).
            self._spill.rewind()
            self._replay_not_before = time.monotonic() + 0.5
            return False
        self._spill.commit(rep.chunk)
        with self._lock:
            self._replayed += rep.acked
            self._dropped += rep.dropped
        if rep.chunk.torn:
            log.warning("skipped a torn line at the end of a spill segment in %s", self.spill_dir)
        return True

    def _send_chunk(self, producer: Any, chunk: Chunk) -> None:
        from schemas import is_gpu_heartbeat

        records: list[tuple[str, bytes | None, bytes]] = []
        bad = chunk.torn
        for line in chunk.lines:
            try:
                obj = orjson.loads(line)
                gpu = is_gpu_heartbeat(obj)
                key = obj.get("deployment") if gpu else obj.get("event_id")
                records.append((self.gpu_topic if gpu else self.topic, key.encode() if key else None, line))
            except (orjson.JSONDecodeError, AttributeError, TypeError):
                bad += 1
        if bad and chunk.lines:
            log.error("%d unreadable line(s) in the spill in %s skipped", bad, self.spill_dir)
        rep = _Replay(chunk, outstanding=len(records), sent_at=time.monotonic(), dropped=bad)
        with self._lock:
            self._replay = rep
        for i, (topic, key, value) in enumerate(records):
            try:
                future = producer.send(topic, value=value, key=key)
            except Exception as exc:
                with self._lock:
                    if _is_permanent(exc):
                        rep.outstanding -= 1
                        rep.dropped += 1
                        continue
                    rep.outstanding -= len(records) - i
                    rep.retry = True
                log.warning("replay send failed (%s); will retry", _one_line(exc))
                return
            future.add_callback(self._on_replay_ack, rep)
            future.add_errback(self._on_replay_fail, rep)

    def _on_replay_ack(self, rep: _Replay, _metadata: Any) -> None:
        with self._lock:
            rep.outstanding -= 1
            rep.acked += 1
            self._stalled_logged = False
            if rep.outstanding == 0:
                self._cond.notify_all()

    def _on_replay_fail(self, rep: _Replay, exc: BaseException) -> None:
        with self._lock:
            rep.outstanding -= 1
            if _is_permanent(exc):
                rep.dropped += 1
                log.error("Kafka refused a replayed event for good: %s", _one_line(exc))
            else:
                rep.retry = True
            if rep.outstanding == 0:
                self._cond.notify_all()

    # connection -------------------------------------------------------------------------------
    def _connect(self) -> None:
        """Create the producer, retrying with exponential backoff until it works or we close."""

        def note(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            with self._lock:
                self._connect_failures += 1
                first = self._connect_failures == 1
                if exc is not None:
                    self.last_error = _one_line(exc)
            (log.warning if first else log.debug)(
                "cannot reach Kafka at %s (%s); retrying in %.1fs",
                self.bootstrap,
                _one_line(exc) if exc else "?",
                state.upcoming_sleep,
            )

        retrying = Retrying(
            wait=wait_exponential(multiplier=0.25, min=0.25, max=10),
            retry=retry_if_exception_type(Exception),
            stop=lambda _state: self._stop.is_set(),
            sleep=self._stop.wait,
            before_sleep=note,
            reraise=True,
        )
        try:
            producer = retrying(self._make_producer)
        except Exception:
            return  # closing before Kafka was ever reached
        with self._lock:
            if self._closed:
                producer.close(timeout=0)
                return
            self._producer = producer
            self._cond.notify_all()
        # Our exit hook must run before kafka-python's own (atexit runs last-registered first).
        atexit.unregister(self._atexit)
        atexit.register(self._atexit)

    def _make_producer(self) -> Any:
        from kafka.errors import KafkaTimeoutError

        producer = reliable_producer(self.bootstrap, self._client_id, **self._producer_config)
        try:
            for topic in (self.topic, self.gpu_topic):
                # Load metadata now, so a send never blocks on it and a missing topic is named.
                try:
                    producer.partitions_for(topic)
                except KafkaTimeoutError:
                    raise KafkaTimeoutError(
                        f"topic {topic} has no metadata at {self.bootstrap}: it does not exist (run `tierwise kafka topics`)"
                        " or has no leader yet"
                    ) from None
        except Exception:
            producer.close(timeout=0)
            raise
        return producer

    # flush and close --------------------------------------------------------------------------
    def _drained(self) -> bool:
        return not self._queue and not self._unacked and not self._failed and self._replay is None and not self._spilling

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every accepted event is acknowledged by Kafka (spill included).

        Returns False if ``timeout`` passed first; whatever is spilled by then is on disk (fsynced).
        """
        with self._lock:
            done = self._cond.wait_for(lambda: self._drained() or self._closed, timeout)
            done = done and self._drained()
        if not done:
            self._sync_spill()
        return done

    def close(self, timeout: float = 30.0) -> None:
        """Flush for up to ``timeout`` seconds, then stop. What Kafka has not acknowledged by then is
        left in the spill for the next emitter on this spill directory (none is lost). When Kafka is
        unreachable, close does not wait for it."""
        with self._lock:
            if self._closing:
                already = True
            else:
                already = False
                self._closing = True
                self._deadline = time.monotonic() + timeout
                self._cond.notify_all()
        self._thread.join(None if already else timeout + 30)
        self._stop.set()
        # A connection attempt in progress cannot be interrupted; it closes its producer on its own.
        self._connector.join(0.5)
        atexit.unregister(self._atexit)

    def _should_stop(self) -> bool:
        with self._lock:
            if not self._closing:
                return False
            if self._drained() or time.monotonic() >= self._deadline:
                return True
            if self._queue or self._failed:
                return False
            # Kafka is away: everything is on disk or waiting in the producer; do not wait for it.
            now = time.monotonic()
            if self._producer is None:
                # A spill left by an earlier emitter makes us start in spilling mode: give the first
                # connection its grace period, or a short-lived emitter (the CLI's) never drains it.
                return self._spilling and (self._connect_failures > 0 or now - self._started > self._grace_s)
            stuck = self._replay is not None and self._replay.outstanding and now - self._replay.sent_at > self._stall_s
            oldest = next(iter(self._unacked.values())).sent_at if self._unacked else now
            return bool(self._spilling and (stuck or now - oldest > self._stall_s))

    def _shutdown(self) -> None:
        """Park everything Kafka has not acknowledged in the spill, then release producer and spill."""
        with self._spill_lock:
            with self._lock:
                self._closing = True
                abandoned = sorted([u.item for u in self._unacked.values()] + self._failed, key=lambda it: it.seq)
                self._unacked.clear()
                self._failed.clear()
                newer = list(self._queue)
                self._queue.clear()
                rep, self._replay = self._replay, None
                producer, self._producer = self._producer, None
                self._closed = True  # from here on the connector closes what it builds
            if rep is not None:
                if rep.outstanding == 0 and not rep.retry:
                    self._finish_chunk(rep)
                else:
                    self._spill.rewind()
            if abandoned:
                log.warning("%d event(s) unacknowledged at close stored in the spill", len(abandoned))
            self._append_to_spill(abandoned, ahead=True)
            self._append_to_spill(newer)
            try:
                self._spill.close()
            except OSError as exc:
                log.error("closing the spill in %s failed: %s", self.spill_dir, exc)
        if producer is not None:
            close_producer(producer)
        with self._lock:
            self._cond.notify_all()

    def stats(self) -> EmitterStats:
        spill_bytes = self._spill.pending_bytes()
        with self._lock:
            in_flight = len(self._unacked) + (self._replay.outstanding if self._replay else 0)
            return EmitterStats(
                sent=self._sent,
                spilled=self._spilled,
                replayed=self._replayed,
                dropped=self._dropped,
                invalid=self._invalid,
                queued=len(self._queue),
                in_flight=in_flight,
                spilling=self._spilling,
                spill_bytes=spill_bytes,
                connected=self._producer is not None,
            )

    def __enter__(self) -> TelemetryEmitter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _close_at_exit(emitter: TelemetryEmitter) -> Any:
    ref = weakref.ref(emitter)

    def hook() -> None:
        target = ref()
        if target is not None:
            target.close(timeout=5)

    return hook


def _default_bootstrap(home: Any) -> str:
    """The env var, else this home's broker address even while it is down (events spill meanwhile)."""
    from core.errors import TierwiseError
    from streaming.broker import LocalBroker, external_bootstrap

    address = external_bootstrap() or LocalBroker(home).bootstrap()
    if address is None:
        raise TierwiseError(f"no Kafka address known for {home.root}: run `tierwise kafka up`, or set KAFKA_BOOTSTRAP_SERVERS")
    return address


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _event_id_of(item: _Item) -> str:
    try:
        return str(orjson.loads(item.value).get("event_id", "?"))
    except orjson.JSONDecodeError:
        return "?"
