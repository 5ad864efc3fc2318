"""The Dagster entry point: `dagster dev -m pipelines.definitions` (or `tierwise ui`).

The definitions read dbt's manifest: `dagster dev` prepares it (DbtProject.prepare_if_dev), and
`tierwise run`/`tierwise ui` and the tests call `prepare_manifest()` before they import this module.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from core.settings import Settings
from pipelines.dbt_cli import dbt_executable
from pipelines.defs.alerts.sensors import alert_lag_sensor
from pipelines.defs.dbt.assets import dbt_base_job, dbt_job, tierwise_dbt, tierwise_dbt_base
from pipelines.defs.dbt.project import DBT_PROJECT
from pipelines.defs.dbt.sensors import dirty_days_sensor
from pipelines.defs.landing.assets import landing_job, raw_gpu_usage, raw_usage_events
from pipelines.defs.landing.sensors import kafka_lag_sensor
from pipelines.defs.prices import imported_prices
from pipelines.defs.report.assets import ReportsResource, report_job, weekly_report, weekly_report_schedule
from pipelines.defs.resources import build_resources
from pipelines.defs.runs.sensors import stale_run_sensor


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or Settings.from_env()
    resources: dict[str, object] = dict(build_resources(settings))
    resources["dbt"] = DbtCliResource(
        project_dir=DBT_PROJECT, profiles_dir=str(DBT_PROJECT.profiles_dir), dbt_executable=str(dbt_executable())
    )
    resources["reports"] = ReportsResource(reports_dir=str(settings.home.reports))
    return dg.Definitions(
        assets=[raw_usage_events, raw_gpu_usage, imported_prices, tierwise_dbt_base, tierwise_dbt, weekly_report],
        jobs=[landing_job, dbt_base_job, dbt_job, report_job],
        schedules=[weekly_report_schedule],
        sensors=[kafka_lag_sensor, dirty_days_sensor, stale_run_sensor, alert_lag_sensor],
        resources=resources,
    )


defs = build_definitions()
