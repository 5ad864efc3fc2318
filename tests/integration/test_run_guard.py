"""A run whose process died never holds the warehouse pool; a wait for a live holder is bounded.

Real Dagster instance (SQLite, the repo's dagster.yaml) and real in-process runs; no broker.
"""

from __future__ import annotations

import subprocess
import sys
import time

import dagster as dg
import pytest

from core.errors import TierwiseError
from core.home import Home
from core.settings import Settings
from pipelines.instance import WAREHOUSE_POOL, use_home_for_dagster
from pipelines.run_guard import (
    OWNER_PID_TAG,
    PoolWatchdog,
    owner_alive,
    owner_tags,
    pool_holders,
    reap_dead_runs,
    wait_for_pool,
)


@dg.op(pool=WAREHOUSE_POOL)
def touch_warehouse() -> int:
    return 1


pool_job = dg.GraphDefinition(name="pool_job", node_defs=[touch_warehouse]).to_job()


@pytest.fixture
def instance(tw_home: Home) -> dg.DagsterInstance:
    use_home_for_dagster(Settings.from_env())
    with dg.DagsterInstance.get() as inst:
        yield inst


def _holding_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> str:
    """A STARTED run that claimed the pool's one slot, as a run killed mid-step leaves it."""
    run = instance.create_run_for_job(pool_job, tags=tags)
    instance.handle_new_event(
        dg.EventLogEntry(
            error_info=None,
            level="debug",
            user_message="",
            run_id=run.run_id,
            timestamp=time.time(),
            dagster_event=dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=run.job_name),
        )
    )
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
    assert storage.claim_concurrency_slot(WAREHOUSE_POOL, run.run_id, "touch_warehouse").is_claimed
    return run.run_id


def _dead_owner() -> dict[str, str]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    tags = owner_tags(proc.pid)
    proc.kill()
    proc.wait()
    return tags


def test_a_dead_owner_is_reaped_and_its_slot_freed(instance: dg.DagsterInstance) -> None:
    dead = _dead_owner()
    assert owner_alive(dead) is False and owner_alive(owner_tags()) is True
    # A pid reused by another process is not the owner.
    assert owner_alive({**owner_tags(), "tierwise/process_started": "1.00"}) is False
    run_id = _holding_run(instance, dead)
    assert [h.run_id for h in pool_holders(instance)] == [run_id]

    assert reap_dead_runs(instance) == [run_id]
    run = instance.get_run_by_id(run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
    assert pool_holders(instance) == []
    # The next run gets the slot at once.
    wait_for_pool(instance, limit_s=0)
    assert pool_job.execute_in_process(instance=instance).success


def test_a_live_holder_is_named_after_the_wait_limit(instance: dg.DagsterInstance) -> None:
    run_id = _holding_run(instance, owner_tags())  # owned by this (live) process
    began = time.monotonic()
    with pytest.raises(TierwiseError) as err:
        wait_for_pool(instance, limit_s=1.5, poll_s=0.2)
    assert 1.5 <= time.monotonic() - began < 10
    message = str(err.value)
    assert "\n" not in message
    assert f"held by run {run_id} (pool_job, STARTED, pid {owner_tags()[OWNER_PID_TAG]} on " in message
    assert "TIERWISE_POOL_WAIT_S" in message
    # Unfinished runs of live owners are left alone.
    assert reap_dead_runs(instance) == []


def test_dagsters_own_wait_for_the_slot_is_bounded(instance: dg.DagsterInstance) -> None:
    holder = _holding_run(instance, owner_tags())
    run_id = "0b5e2a39-9c86-4c0a-a6a7-4ba1ad7f0b11"
    watchdog = PoolWatchdog(instance, run_id, limit_s=1.5)
    began = time.monotonic()
    with watchdog.watching():
        result = pool_job.execute_in_process(instance=instance, run_id=run_id, raise_on_error=False)
    assert time.monotonic() - began < 20
    assert not result.success
    assert watchdog.timed_out is not None and f"held by run {holder} " in str(watchdog.timed_out)
    run = instance.get_run_by_id(run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
    # The blocked run left nothing queued in the pool; the holder still holds its slot.
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    assert {p.run_id for p in info.pending_steps} == {holder}
