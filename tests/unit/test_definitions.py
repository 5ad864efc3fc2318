"""All Dagster definitions load, and the asset graph is wired the way the docs say."""

from __future__ import annotations

import dagster as dg

from pipelines.definitions import defs
from pipelines.instance import WAREHOUSE_POOL


def test_definitions_load_with_landing_dbt_jobs_and_sensors() -> None:
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {"raw/usage_events", "raw/gpu_usage", "spend_daily", "priced_requests"} <= keys
    assert {j for j in repo.job_names if not j.startswith("__")} >= {"landing_job", "dbt_job"}
    assert {s.name for s in repo.sensor_defs} == {
        "kafka_lag_sensor",
        "dirty_days_sensor",
        "stale_run_sensor",
        "alert_lag_sensor",
    }


def test_dbt_staging_reads_the_landed_raw_tables() -> None:
    graph = defs.get_repository_def().asset_graph
    parents = {k.to_user_string() for k in graph.get(dg.AssetKey("stg_usage_events")).parent_keys}
    assert "raw/usage_events" in parents
    gpu_parents = {k.to_user_string() for k in graph.get(dg.AssetKey("stg_gpu_usage")).parent_keys}
    assert "raw/gpu_usage" in gpu_parents


def test_every_warehouse_writer_is_in_the_single_slot_pool() -> None:
    graph = defs.get_repository_def().asset_graph
    for key in (dg.AssetKey(["raw", "usage_events"]), dg.AssetKey("spend_daily")):
        node = graph.get(key)
        assert node.pools == {WAREHOUSE_POOL}, key


def test_marts_are_daily_partitioned_with_single_run_backfills() -> None:
    graph = defs.get_repository_def().asset_graph
    node = graph.get(dg.AssetKey("spend_daily"))
    assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition)
    assert node.backfill_policy == dg.BackfillPolicy.single_run()
    assert graph.get(dg.AssetKey(["raw", "usage_events"])).partitions_def is None


def test_the_instance_config_enables_run_monitoring_and_one_slot_pools() -> None:
    import yaml

    from pipelines.instance import REPO_DAGSTER_YAML

    config = yaml.safe_load(REPO_DAGSTER_YAML.read_text())
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_monitoring"]["free_slots_after_run_end_seconds"] > 0
    assert config["concurrency"]["pools"]["default_limit"] == 1


def test_seeds_and_staging_are_one_unpartitioned_selection_apart_from_the_marts() -> None:
    graph = defs.get_repository_def().asset_graph
    for key in ("model_prices", "gpu_prices", "stg_usage_events", "stg_model_prices"):
        node = graph.get(dg.AssetKey(key))
        assert node.partitions_def is None, key  # no column of "missing" daily partitions in the UI
        assert node.group_name == "staging", key
        assert node.pools == {WAREHOUSE_POOL}, key
    for key, group in (("spend_daily", "spend"), ("priced_requests", "spend"), ("tier_recommendation", "projections")):
        node = graph.get(dg.AssetKey(key))
        assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition), key
        assert node.group_name == group, key
        assert node.owners, key
    assert graph.get(dg.AssetKey(["raw", "usage_events"])).group_name == "landing"
    repo = defs.get_repository_def()
    assert {"dbt_base_job", "dbt_job"} <= set(repo.job_names)


def test_weekly_report_is_weekly_partitioned_on_a_monday_schedule() -> None:
    repo = defs.get_repository_def()
    node = repo.asset_graph.get(dg.AssetKey("weekly_report"))
    assert isinstance(node.partitions_def, dg.WeeklyPartitionsDefinition)
    # ISO weeks: Monday to Monday, the partition key is the Monday
    assert node.partitions_def.time_window_for_partition_key("2026-11-23").end.date().isoformat() == "2026-11-30"
    assert node.group_name == "reports" and node.owners == ["team:finops"] and node.description
    assert {k.to_user_string() for k in node.parent_keys} == {
        "spend_daily",
        "unpriced_usage",
        "tier_recommendation",
        "breakeven_curves",
    }
    (schedule,) = repo.schedule_defs
    assert schedule.job_name == "weekly_report_job" and schedule.cron_schedule == "0 1 * * 1"
