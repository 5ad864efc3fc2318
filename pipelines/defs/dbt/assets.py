"""The dbt project as two Dagster asset definitions.

- ``tierwise_dbt_base``: seeds and staging views. Not partitioned: they hold no days, and rebuilding them
  under every daily partition only cost time (and showed hundreds of "missing" partitions in the UI).
- ``tierwise_dbt``: everything downstream (intermediate models and marts), daily-partitioned; a backfill
  of any range is one dbt run.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from decisions.config import load_into_warehouse
from landing.dirty_days import clear_dirty_days, dirty_days_in
from pipelines.dbt_cli import dbt_run_dir, prune_run_dirs, run_dbt, warehouse_vars, window_vars
from pipelines.defs.alerts.resource import AlertsResource
from pipelines.defs.dbt.partitions import daily_partitions
from pipelines.defs.dbt.planning import stale_base_keys
from pipelines.defs.dbt.project import DBT_PROJECT
from pipelines.defs.dbt.translator import BASE_SELECTION, STAGING_TESTS, TierwiseTranslator
from pipelines.defs.dirty_state import after_build
from pipelines.defs.resources import DbtRunsResource, WarehouseResource
from pipelines.instance import WAREHOUSE_POOL
from pipelines.run_guard import record_owner

PARTITIONS = daily_partitions()
TRANSLATOR = TierwiseTranslator()


def _run_folder(context: dg.AssetExecutionContext, dbt_runs: DbtRunsResource) -> Path:
    # The run's dbt.log and artifacts live in the tierwise home, in a folder named after the run id, so
    # `tierwise run` can summarise the run and point at its full log (and runs from the UI leave theirs there too).
    root = Path(dbt_runs.runs_dir)
    prune_run_dirs(root)
    return dbt_run_dir(root, context.run.run_id)


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    select=BASE_SELECTION,
    pool=WAREHOUSE_POOL,
    name="tierwise_dbt_base",
    dagster_dbt_translator=TRANSLATOR,
)
def tierwise_dbt_base(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, dbt_runs: DbtRunsResource
) -> Iterator[Any]:
    # The staging views read the raw tables and the workload config tables: make sure they exist (a writer
    # creates the raw tables), on a warehouse nothing landed in yet too.
    with warehouse.writer() as con:
        load_into_warehouse(con)
    target = _run_folder(context, dbt_runs)
    context.log.info(f"dbt build of seeds and staging; dbt log: {target / 'dbt.log'}")
    yield from dbt.cli(
        ["build", "--vars", json.dumps(warehouse_vars(warehouse.path))], context=context, target_path=target
    ).stream()


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    exclude=BASE_SELECTION,
    partitions_def=PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    name="tierwise_dbt",
    dagster_dbt_translator=TRANSLATOR,
)
def tierwise_dbt(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    dbt_runs: DbtRunsResource,
    alerts: AlertsResource,
) -> Iterator[Any]:
    record_owner(context.instance, context.run)
    stale = stale_base_keys(context.instance, tierwise_dbt_base)
    if stale:
        names = ", ".join(k.to_user_string() for k in stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
        raise dg.Failure(
            f"seeds and staging views are not built or changed since their last build ({names}): "
            "materialize dbt_base_job first (`tierwise run` does it on its own)"
        )
    window = context.partition_time_window
    dbt_vars = warehouse_vars(warehouse.path, window_vars(window.start.date(), window.end.date()))
    started = datetime.now(UTC).replace(tzinfo=None)
    target = _run_folder(context, dbt_runs)
    context.log.info(
        f"dbt build for {dbt_vars['start_date']} .. {dbt_vars['end_date']} (end exclusive); dbt log: {target / 'dbt.log'}"
    )
    # The staging views are built once, but their data tests check the raw rows, which change with every
    # landing: run them first, so a bad row stops the build before any mart reads it.
    tested = run_dbt(
        ["test", "--select", STAGING_TESTS], Path(warehouse.path), target_path=target, log_path=target, check=False
    )
    if not tested.ok:
        raise dg.Failure(f"a data test of the staging views failed; no mart was built (dbt log: {target / 'dbt.log'})")
    # The projections read the workload config (tierwise.yaml) from the warehouse: load it before every build.
    with warehouse.writer() as con:
        config = load_into_warehouse(con)
    context.log.info(f"workload config: {config or 'none, every workload on the stated defaults'}")
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context, target_path=target).stream()
    # The marts now reflect every row landed before `started` for these days.
    with warehouse.writer() as con:
        cleared = clear_dirty_days(con, window.start.date(), window.end.date(), started)
        still_dirty = dirty_days_in(con)
        # Spend, budget, forecast, break-even and license alerts from the marts this build just wrote.
        observed = alerts.after_build(con, context.log)
    alerts.settle(observed, context.log)
    context.log.info(f"cleared {cleared} dirty day marks; {len(still_dirty)} day(s) still wait for a rebuild")
    context.log_event(after_build(still_dirty))


dbt_base_job = dg.define_asset_job(
    "dbt_base_job",
    selection=dg.AssetSelection.assets(tierwise_dbt_base),
    description="Load the seeds and (re)create the staging views: needed once, and after they change.",
)
dbt_job = dg.define_asset_job(
    "dbt_job",
    selection=dg.AssetSelection.assets(tierwise_dbt),
    description="Build the marts for a day range (one dbt run per range).",
)
