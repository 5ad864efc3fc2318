"""Runs whose process died must not hold the warehouse pool, and nobody waits for the pool forever.

A run executed in-process (`tierwise run`) or by a run worker records the process that owns it in its
tags (pid, host, the process's start time so a reused pid is not mistaken for it). Dagster itself
cannot tell that such a process is gone: the default run launcher has no worker health check, and an
in-process run has no launcher at all. So before `tierwise run` waits for the `tierwise_warehouse`
slot, and every 30 s in the daemon (`stale_run_sensor`), `reap_dead_runs` marks every unfinished run
whose owner is gone as failed and frees its slots; slots still held by finished runs are freed too.

Waiting for a slot that a live run holds has a limit (`TIERWISE_POOL_WAIT_S`, default 600 s) and then
fails with one line naming that run. Dagster's own wait for a slot inside an in-process run never
checks for interrupts (and spins); `PoolWatchdog` bounds it and turns a captured SIGINT/SIGTERM into
an interrupt of the waiting thread.
"""

from __future__ import annotations

import ctypes
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg
import psutil

from core import env
from core.errors import TierwiseError
from pipelines.instance import WAREHOUSE_POOL

log = logging.getLogger(__name__)

OWNER_PID_TAG = "tierwise/pid"
OWNER_HOST_TAG = "tierwise/host"
OWNER_STARTED_TAG = "tierwise/process_started"

UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def pool_wait_limit() -> float:
    """TIERWISE_POOL_WAIT_S: how long to wait for a pool slot held by a live run."""
    return env.pool_wait_s()


def owner_tags(pid: int | None = None) -> dict[str, str]:
    """Tags naming the process that executes a run (this one by default)."""
    proc = psutil.Process(pid or os.getpid())
    return {
        OWNER_PID_TAG: str(proc.pid),
        OWNER_HOST_TAG: socket.gethostname(),
        OWNER_STARTED_TAG: f"{proc.create_time():.2f}",
    }


def record_owner(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    """Tag a run launched by the daemon with its run worker (in-process runs carry the tags from the start)."""
    if OWNER_PID_TAG not in run.tags:
        instance.add_run_tags(run.run_id, owner_tags())


def owner_alive(tags: dict[str, str]) -> bool | None:
    """True/False when the run's owner process can be checked from here; None when it cannot (no tags, other host)."""
    try:
        pid = int(tags[OWNER_PID_TAG])
        started = float(tags[OWNER_STARTED_TAG])
    except (KeyError, ValueError):
        return None
    if tags.get(OWNER_HOST_TAG) != socket.gethostname():
        return None
    try:
        proc = psutil.Process(pid)
        # A pid is reused after its process ends: the start time tells the two apart.
        return abs(proc.create_time() - started) < 1.0 and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # e.g. access denied: it exists
        return True


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark unfinished runs whose owner process is gone as failed and free their pool slots; free the
    slots of finished runs. Returns the ids of the runs it changed."""
    changed: list[str] = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        if owner_alive(dict(run.tags)) is False:
            instance.report_run_failed(
                run,
                f"The process that ran this run (pid {run.tags[OWNER_PID_TAG]} on {run.tags[OWNER_HOST_TAG]}) "
                "is gone (killed?); marked failed and its pool slots freed.",
            )
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            changed.append(run.run_id)
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        holding = storage.get_concurrency_run_ids()
        if holding:
            finished = instance.get_run_records(filters=dg.RunsFilter(run_ids=list(holding)))
            known = {r.dagster_run.run_id for r in finished}
            for record in finished:
                if record.dagster_run.is_finished:
                    storage.free_concurrency_slots_for_run(record.dagster_run.run_id)
                    changed.append(record.dagster_run.run_id)
            # Slots of a run that no longer exists (deleted from the UI) are nobody's.
            for run_id in holding - known:
                storage.free_concurrency_slots_for_run(run_id)
                changed.append(run_id)
    for run_id in changed:
        log.warning("freed the %s pool slots of run %s", WAREHOUSE_POOL, run_id)
    return changed


@dataclass(frozen=True)
class Holder:
    run_id: str
    step_key: str


def pool_holders(instance: dg.DagsterInstance, pool: str = WAREHOUSE_POOL, other_than: str | None = None) -> list[Holder]:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    info = storage.get_concurrency_info(pool)
    return [Holder(s.run_id, s.step_key) for s in info.claimed_slots if s.run_id != other_than]


def describe_run(instance: dg.DagsterInstance, run_id: str) -> str:
    run = instance.get_run_by_id(run_id)
    if run is None:
        return f"run {run_id}"
    where = ""
    if OWNER_PID_TAG in run.tags:
        where = f", pid {run.tags[OWNER_PID_TAG]} on {run.tags.get(OWNER_HOST_TAG, '?')}"
    return f"run {run_id} ({run.job_name}, {run.status.value}{where})"


def held_too_long(instance: dg.DagsterInstance, holder: Holder, waited: float, pool: str = WAREHOUSE_POOL) -> TierwiseError:
    return TierwiseError(
        f"the {pool} pool slot is held by {describe_run(instance, holder.run_id)}; gave up after {waited:.0f}s "
        "(TIERWISE_POOL_WAIT_S); stop that run or mark it failed in the Dagster UI"
    )


def wait_for_pool(
    instance: dg.DagsterInstance, limit_s: float | None = None, pool: str = WAREHOUSE_POOL, poll_s: float = 1.0
) -> None:
    """Return once no run holds the pool's slot, reaping dead runs meanwhile; fail after `limit_s`."""
    limit = pool_wait_limit() if limit_s is None else limit_s
    began = time.monotonic()
    while True:
        reap_dead_runs(instance)
        holders = pool_holders(instance, pool)
        if not holders:
            return
        waited = time.monotonic() - began
        if waited >= limit:
            raise held_too_long(instance, holders[0], waited, pool)
        time.sleep(poll_s)


class PoolWaitTimeout(Exception):
    """Raised in the thread executing a run whose step waited for the pool longer than the limit."""


def _raise_in_thread(thread_id: int, exc: type[BaseException]) -> None:
    # Dagster's in-process wait for a slot is a Python loop that never checks for interrupts; an
    # asynchronous exception is the one way to end it from outside, and Dagster then records the
    # run's failure and releases its pending claims as for any exception.
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc))


class PoolWatchdog:
    """Watches one in-process run while it executes: bounds its wait for a slot, notices interrupts."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, limit_s: float, pool: str = WAREHOUSE_POOL) -> None:
        self.instance = instance
        self.run_id = run_id
        self.limit_s = limit_s
        self.pool = pool
        self.timed_out: TierwiseError | None = None
        self.interrupted = False
        self._stop = threading.Event()
        self._target = threading.get_ident()

    def _blocked(self) -> bool:
        info = self.instance.event_log_storage.get_concurrency_info(self.pool)
        claimed = {s.step_key for s in info.claimed_slots if s.run_id == self.run_id}
        return any(p.run_id == self.run_id and p.step_key not in claimed for p in info.pending_steps)

    def _watch(self) -> None:
        from dagster._utils.interrupts import check_captured_interrupt

        blocked_since: float | None = None
        while not self._stop.wait(0.5):
            if check_captured_interrupt():
                self.interrupted = True
            try:
                blocked = self._blocked()
                if blocked:
                    reap_dead_runs(self.instance)
            except Exception as exc:  # storage briefly unavailable: look again next time
                log.debug("pool watchdog: %s", exc)
                continue
            if not blocked:
                blocked_since = None
                continue
            now = time.monotonic()
            blocked_since = blocked_since or now
            if self.interrupted:
                _raise_in_thread(self._target, KeyboardInterrupt)
                return
            if now - blocked_since >= self.limit_s:
                holders = pool_holders(self.instance, self.pool, other_than=self.run_id)
                if holders:
                    self.timed_out = held_too_long(self.instance, holders[0], now - blocked_since, self.pool)
                    _raise_in_thread(self._target, PoolWaitTimeout)
                    return

    @contextmanager
    def watching(self) -> Iterator[PoolWatchdog]:
        thread = threading.Thread(target=self._watch, name="tierwise-pool-watchdog", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()
