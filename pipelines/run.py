"""`tierwise run`: land what is pending and build the marts in-process with the same Dagster jobs the UI runs."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core import env
from core.errors import TierwiseError
from core.settings import Settings
from pipelines.dbt_cli import DbtRunReport, dbt_run_dir, read_run_results
from pipelines.instance import use_home_for_dagster
from pipelines.run_progress import RunProgress
from pipelines.step_errors import first_step_error

log = logging.getLogger(__name__)
# Dagster's console logger prints every engine event; the CLI prints its own summary instead.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class RunSummary:
    landed: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    built_ranges: list[tuple[date, date]] = field(default_factory=list)
    skipped_days: list[date] = field(default_factory=list)
    dbt_runs: list[DbtRunReport] = field(default_factory=list)


@contextlib.contextmanager
def _dbt_console(verbose: bool) -> Iterator[None]:
    """Where dagster-dbt's echo of every dbt log line goes while a dbt job runs in this process.

    dagster-dbt writes each dbt event to sys.stdout (DbtCliInvocation.stream_raw_events), which is the
    terminal under `tierwise run`. Unless verbose, send it to /dev/null at the Python level: dbt's own
    dbt.log in the run folder keeps everything, and Dagster's compute-log capture (which redirects the
    file descriptor behind sys.stdout) still records it for the UI.
    """
    if verbose:
        yield
        return
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def _metadata_value(mat: object, key: str) -> object:
    value = mat.metadata.get(key)  # type: ignore[attr-defined]
    return getattr(value, "value", value)


def _execute(
    instance: Any, job: Any, *, run_id: str | None = None, tags: dict[str, str] | None = None, verbose: bool = True
) -> Any:
    """Execute one job in this process, owned by this process (its tags), after the warehouse pool is free.

    Dead runs holding the pool are reaped first; waiting for a live one is bounded (pipelines.run_guard).
    An interrupt (SIGINT/SIGTERM) ends the run as failed in Dagster and reaches the caller as KeyboardInterrupt.
    """
    from pipelines.run_guard import PoolWaitTimeout, PoolWatchdog, owner_tags, pool_wait_limit, wait_for_pool

    limit = pool_wait_limit()
    wait_for_pool(instance, limit)
    run_id = run_id or str(uuid.uuid4())
    watchdog = PoolWatchdog(instance, run_id, limit)
    with watchdog.watching(), _dbt_console(verbose):
        try:
            result = job.execute_in_process(
                instance=instance,
                tags={**(tags or {}), **owner_tags()},
                raise_on_error=False,
                run_config=QUIET,
                run_id=run_id,
            )
        except PoolWaitTimeout:  # raised outside Dagster's handlers (e.g. just before the run began)
            result = None
    if watchdog.timed_out is not None:
        raise watchdog.timed_out
    if watchdog.interrupted or (result is not None and _interrupted(result)):
        raise KeyboardInterrupt
    if result is None:
        raise TierwiseError(f"run {run_id} did not start")
    return result


def _interrupted(result: Any) -> bool:
    interrupts = ("DagsterExecutionInterruptedError", "KeyboardInterrupt")
    return any(
        event.is_step_failure
        and event.step_failure_data is not None
        and event.step_failure_data.error is not None
        and event.step_failure_data.error.cls_name in interrupts
        for event in result.all_events
    )


def run_pipeline(
    settings: Settings | None = None,
    build: bool = True,
    *,
    verbose: bool = False,
    on_landed: Callable[[RunSummary], None] | None = None,
    on_dbt_run: Callable[[DbtRunReport], None] | None = None,
    progress: RunProgress | None = None,
) -> RunSummary:
    """Land what is pending, then build the marts for the dirty day ranges, one dbt run per range.

    The callbacks let the CLI print as it goes: `on_landed` once landing is done, `on_dbt_run` with each
    range's report as soon as its run ends; `progress` shows a live line meanwhile. A failed dbt run
    raises TierwiseError carrying the failing nodes' errors and the path of the full dbt log; `verbose`
    lets dbt's own output through to stdout.
    """
    settings = settings or Settings.from_env()
    progress = progress or RunProgress(enabled=False)
    settings.home.ensure()
    use_home_for_dagster(settings)
    import dagster as dg

    from pipelines.defs.dbt.project import prepare_manifest

    prepare_manifest()  # before the definitions load: they read the manifest
    from pipelines.definitions import build_definitions
    from pipelines.defs.dbt.assets import PARTITIONS, tierwise_dbt_base
    from pipelines.defs.dbt.planning import plan_dirty_ranges, range_tags, stale_base_keys

    defs = build_definitions(settings)
    summary = RunSummary()
    with dg.DagsterInstance.get() as instance:
        with progress.landing():
            landing = _execute(instance, defs.resolve_job_def("landing_job"))
        if not landing.success:
            raise TierwiseError(f"landing failed: {_first_error(landing)}")
        dirty: set[str] = set()
        for event in landing.get_asset_materialization_events():
            mat = event.materialization
            topic = str(_metadata_value(mat, "topic"))
            summary.landed[topic] = int(_metadata_value(mat, "landed"))  # type: ignore[arg-type]
            summary.duplicates[topic] = int(_metadata_value(mat, "duplicates_dropped"))  # type: ignore[arg-type]
            summary.rejected[topic] = int(_metadata_value(mat, "rejected"))  # type: ignore[arg-type]
            dirty.update(_metadata_value(mat, "dirty_days") or [])  # type: ignore[arg-type]
        if on_landed is not None:
            on_landed(summary)
        if not build:
            return summary
        ranges, summary.skipped_days = plan_dirty_ranges(dirty, set(PARTITIONS.get_partition_keys()))
        if summary.skipped_days:
            log.warning(
                "days outside the partition set (TIERWISE_PARTITIONS_START) are not built: %s",
                ", ".join(d.isoformat() for d in summary.skipped_days),
            )
        if ranges and (stale_base_keys(instance, tierwise_dbt_base) or not _has_staging(settings)):
            # Seeds and staging views first: missing, or changed since they were built.
            _build(
                instance, defs.resolve_job_def("dbt_base_job"), None, None, {}, settings, verbose, summary, on_dbt_run, progress
            )
        dbt_job = defs.resolve_job_def("dbt_job")
        for first, last in ranges:
            _build(instance, dbt_job, first, last, range_tags(first, last), settings, verbose, summary, on_dbt_run, progress)
            summary.built_ranges.append((first, last))
    return summary


def _has_staging(settings: Settings) -> bool:
    """Whether the warehouse has the staging views (a warehouse made anew under an old Dagster instance has not)."""
    from core.warehouse_lock import read_only

    if not settings.warehouse.exists():
        return False
    with read_only(settings.warehouse) as con:
        found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'stg_usage_events'").fetchone()
    return bool(found and found[0])


def _build(
    instance: object,
    job: object,
    first: date | None,
    last: date | None,
    tags: dict[str, str],
    settings: Settings,
    verbose: bool,
    summary: RunSummary,
    on_dbt_run: Callable[[DbtRunReport], None] | None,
    progress: RunProgress,
) -> None:
    """One dbt job run in this process, reported as it ends; a failure raises with dbt's own errors."""
    # Chosen here so the run's dbt folder (named after the run id by the asset) is known up front.
    run_id = str(uuid.uuid4())
    target = dbt_run_dir(settings.home.dbt, run_id)
    began = time.monotonic()
    scope = f"{first}..{last}" if first else "seeds+staging"
    with progress.dbt_build(f"dbt build {scope}", target / "dbt.log"):
        result = _execute(instance, job, run_id=run_id, tags=tags, verbose=verbose)
    report = DbtRunReport(
        first=first,
        last=last,
        ok=result.success,
        seconds=time.monotonic() - began,
        log_path=target / "dbt.log",
        nodes=read_run_results(target),
        error="" if result.success else _first_error(result),
    )
    summary.dbt_runs.append(report)
    if on_dbt_run is not None:
        on_dbt_run(report)
    if not result.success:
        raise TierwiseError(report.failure_text())


def _first_error(result: object) -> str:
    """The failed step's root cause in one line; with TIERWISE_DEBUG the whole chain goes to stderr first."""
    line, trace = first_step_error(result)
    if trace and env.debug():
        print(trace, file=sys.stderr)
    return line
