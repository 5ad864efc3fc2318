"""The dbt marts as daily-partitioned Dagster assets; a backfill of any range is one dbt run."""

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.dbt.partitions import daily_partitions
from pipelines.defs.dbt.project import tierwise_dbt_project
from pipelines.defs.resources import WarehouseResource
from pipelines.run_guard import record_owner
from pipelines.settings import WAREHOUSE_POOL, Settings
from tierwise.dbt_runner import dbt_run_dir, prune_run_dirs, window_vars
from tierwise.dirty_days import clear_dirty_days

DBT_PROJECT = tierwise_dbt_project()
PARTITIONS = daily_partitions()


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    partitions_def=PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    name="tierwise_dbt",
)
def tierwise_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource) -> Iterator[Any]:
    record_owner(context.instance, context.run)
    window = context.partition_time_window
    dbt_vars = window_vars(window.start.date(), window.end.date())
    started = datetime.now(UTC).replace(tzinfo=None)
    # The run's dbt.log and artifacts live in the tierwise home, in a folder named after the run id, so
    # `tierwise run` can summarise the run and point at its full log (and runs from the UI leave theirs there too).
    home = Settings.from_env().home
    target = dbt_run_dir(home, context.run.run_id)
    prune_run_dirs(home.dbt)
    context.log.info(
        f"dbt build for {dbt_vars['start_date']} .. {dbt_vars['end_date']} (end exclusive); dbt log: {target / 'dbt.log'}"
    )
    # dbt's profile reads the warehouse path from the environment of the dbt process it starts.
    os.environ["TIERWISE_WAREHOUSE"] = warehouse.path
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context, target_path=target).stream()
    # The marts now reflect every row landed before `started` for these days.
    with warehouse.writer() as con:
        cleared = clear_dirty_days(con, window.start.date(), window.end.date(), started)
    context.log.info(f"cleared {cleared} dirty day marks")


dbt_job = dg.define_asset_job(
    "dbt_job",
    selection=dg.AssetSelection.assets(tierwise_dbt),
    description="Build the marts for a day range (one dbt run per range).",
)
