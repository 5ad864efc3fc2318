"""`tierwise run`: land what is pending and build the marts in-process with the same Dagster jobs the UI runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from pipelines.settings import Settings, use_home_for_dagster
from tierwise.errors import TierwiseError

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


def _metadata_value(mat: object, key: str) -> object:
    value = mat.metadata.get(key)  # type: ignore[attr-defined]
    return getattr(value, "value", value)


def run_pipeline(settings: Settings | None = None, build: bool = True) -> RunSummary:
    settings = settings or Settings.from_env()
    settings.home.ensure()
    use_home_for_dagster(settings)
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.defs.dbt.partitions import plan_dirty_ranges, range_tags

    defs = build_definitions(settings)
    summary = RunSummary()
    with dg.DagsterInstance.get() as instance:
        landing = defs.resolve_job_def("landing_job").execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET
        )
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
        if not build:
            return summary
        from pipelines.defs.dbt.assets import PARTITIONS

        ranges, summary.skipped_days = plan_dirty_ranges(dirty, set(PARTITIONS.get_partition_keys()))
        if summary.skipped_days:
            log.warning("days outside the partition set (TIERWISE_PARTITIONS_START) are not built: %s",
                        ", ".join(d.isoformat() for d in summary.skipped_days))  # fmt: skip
        dbt_job = defs.resolve_job_def("dbt_job")
        for first, last in ranges:
            result = dbt_job.execute_in_process(
                instance=instance, tags=range_tags(first, last), raise_on_error=False, run_config=QUIET
            )
            if not result.success:
                raise TierwiseError(f"dbt build for {first}..{last} failed: {_first_error(result)}")
            summary.built_ranges.append((first, last))
    return summary


def _first_error(result: object) -> str:
    for event in result.all_events:  # type: ignore[attr-defined]
        if event.is_failure and event.step_failure_data is not None:
            err = event.step_failure_data.error
            if err is not None:
                return err.message.strip().splitlines()[-1] if err.message else err.cls_name or "error"
    return "see the Dagster run logs"
