"""A price import marks the landed days it re-prices, and the dirty-days sensor learns of it from Dagster alone."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from core.home import Home
from landing import prices
from landing.dirty_days import PRICES_SOURCE, repricing_days
from landing.warehouse import connect, create_raw_tables, mark_dirty_days
from pipelines.instance import REPO_DAGSTER_YAML
from tierwise.cli import main

AT = datetime(2026, 4, 1, 9, 30)
GPT = {"gpt-5.4": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 4e-06, "output_cost_per_token": 2e-05}}


def days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]


def land(con: duckdb.DuckDBPyConnection, *event_days: str) -> None:
    """Minimal landed usage rows, one per day given."""
    for n, day in enumerate(event_days):
        con.execute(
            """insert into raw.usage_events (event_id, event_time, event_date, tier, provider, model, workload,
                 environment, operation, input_tokens, output_tokens, cached_input_tokens, cache_creation_input_tokens,
                 reasoning_tokens, status, batch, shadow, schema_version, content_fields_dropped, kafka_topic,
                 kafka_partition, kafka_offset, landed_at)
               values (?, ?::date + interval 12 hour, ?, 'closed_api', 'openai', 'gpt-5.4', 'w', 'prod', 'chat', 10, 10,
                 0, 0, 0, 'ok', false, false, '1', 0, 'llm.usage.v1', 0, ?, now()::timestamp)""",
            [f"e{n}", day, day, n],
        )


def marks(con: duckdb.DuckDBPyConnection) -> list[tuple[str, date, datetime, int]]:
    return con.execute("select * from raw.dirty_days order by source, event_date").fetchall()


# --- which days ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective", "first", "newest", "expected"),
    [
        ("2026-03-11", "2026-03-01", "2026-03-13", days("2026-03-11", "2026-03-13")),
        ("2026-03-13", "2026-03-01", "2026-03-13", [date(2026, 3, 13)]),  # the newest day itself
        ("2026-03-14", "2026-03-01", "2026-03-13", []),  # after everything landed: later landings price it
        ("2025-01-01", "2026-02-27", "2026-03-02", days("2026-02-27", "2026-03-02")),  # nothing before the first day
        ("2026-03-01", None, None, []),  # nothing landed
    ],
)
def test_repricing_days_run_from_the_effective_day_to_the_newest_landed_day(
    effective: str, first: str | None, newest: str | None, expected: list[date]
) -> None:
    to_day = date.fromisoformat
    assert repricing_days(to_day(effective), first and to_day(first), newest and to_day(newest)) == expected


# --- the one writer of raw.dirty_days --------------------------------------------------------------


def test_mark_dirty_days_adds_rows_takes_the_newest_mark_and_separates_sources() -> None:
    con = duckdb.connect()
    create_raw_tables(con)
    sql = "select * from (values (date '2026-03-02', 5), (date '2026-03-01', 2)) v(d, n) where n >= ?"
    assert mark_dirty_days(con, "llm.usage.v1", sql, AT, [1]) == [date(2026, 3, 1), date(2026, 3, 2)]
    later = datetime(2026, 4, 2)
    assert mark_dirty_days(con, "llm.usage.v1", sql, later, [3]) == [date(2026, 3, 2)]
    assert mark_dirty_days(con, PRICES_SOURCE, "select date '2026-03-02', 0", later) == [date(2026, 3, 2)]
    assert marks(con) == [
        ("llm.usage.v1", date(2026, 3, 1), AT, 2),
        # 5 + 5 rows; the newer mark time, so a build that started between the marks cannot clear it
        ("llm.usage.v1", date(2026, 3, 2), later, 10),
        ("prices", date(2026, 3, 2), later, 0),
    ]


# --- the import --------------------------------------------------------------------------------


def test_import_marks_every_landed_day_from_its_date_in_the_same_transaction(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    land(con, "2026-03-01", "2026-03-05", "2026-03-09")
    written = prices.write_imported_prices(con, prices.parse_litellm(GPT), date(2026, 3, 4), "gpt.json", at=AT)
    assert (written.imported, written.repriced_days) == (1, days("2026-03-04", "2026-03-09"))
    # days without events inside the range are marked too, so the range stays one dbt run
    assert marks(con) == [("prices", d, AT, 0) for d in days("2026-03-04", "2026-03-09")]


def test_a_failed_import_marks_nothing(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    land(con, "2026-03-01")
    bad = prices.parse_litellm(GPT)
    bad.prices.append(bad.prices[0])  # the same (provider, model, valid_from) twice: the insert fails
    with pytest.raises(duckdb.ConstraintException):
        prices.write_imported_prices(con, bad, date(2026, 3, 1), "bad.json", at=AT)
    assert marks(con) == []
    assert con.execute("select count(*) from raw.imported_prices").fetchone() == (0,)


def test_import_into_a_warehouse_without_landed_events_marks_nothing(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "bare.duckdb"))  # no raw tables at all
    written = prices.write_imported_prices(con, prices.parse_litellm(GPT), date(2026, 3, 4), None)
    assert (written.imported, written.repriced_days) == (1, [])


# --- the CLI and Dagster -------------------------------------------------------------------------


@pytest.fixture
def home(tw_home: Home) -> Home:
    con = connect(tw_home.warehouse)
    land(con, "2026-03-10", "2026-03-12", "2026-03-14")
    con.close()
    return tw_home


def run_import(tmp_path: Path, effective: str) -> int:
    path = tmp_path / "litellm.json"
    path.write_text(json.dumps(GPT))
    return main(["prices", "import", "litellm", str(path), "--effective-from", effective])


def test_cli_prints_the_days_it_marked_and_how_they_get_rebuilt(
    home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_import(tmp_path, "2026-03-12") == 0
    out = capsys.readouterr().out
    assert "marked 3 days for re-pricing from 2026-03-12 to 2026-03-14" in out
    assert "run `tierwise run` to rebuild them" in out  # no Dagster instance in this home yet
    assert run_import(tmp_path, "2026-03-20") == 0
    assert "no landed day on or after 2026-03-20: nothing to re-price" in capsys.readouterr().out


def test_cli_tells_the_homes_dagster_instance_and_the_sensor_requests_the_rebuild(
    home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (home.dagster / "dagster.yaml").write_text(REPO_DAGSTER_YAML.read_text())  # what `tierwise run`/`ui` set up
    assert run_import(tmp_path, "2026-03-13") == 0
    out = capsys.readouterr().out
    assert "marked 2 days for re-pricing from 2026-03-13 to 2026-03-14" in out
    assert f"the dirty-days sensor of {home.dagster} rebuilds them" in out

    from pipelines.defs.dbt.sensors import dirty_days_sensor
    from pipelines.defs.prices import IMPORTED_PRICES_KEY

    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        record = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=IMPORTED_PRICES_KEY), limit=1).records[0]
        metadata = {k: v.value for k, v in record.asset_materialization.metadata.items()}  # type: ignore[union-attr]
        assert metadata == {
            "effective_from": "2026-03-13",
            "imported": 1,
            "repriced_days": ["2026-03-13", "2026-03-14"],
            "dirty_days": ["2026-03-13", "2026-03-14"],
        }
        # The sensor as the daemon evaluates it: it reads the event log only, never the warehouse.
        # A fresh instance has never built the seeds and staging views: those come first, cursor kept.
        first = dirty_days_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert [r.job_name for r in first.run_requests or []] == ["dbt_base_job"]
        assert first.cursor is None
        record_base_built(instance)
        result = dirty_days_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        tags = [
            (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in result.run_requests or []
        ]
        assert tags == [("2026-03-13", "2026-03-14")]
        assert result.cursor == str(record.storage_id)


def record_base_built(instance: dg.DagsterInstance) -> None:
    """What a successful dbt_base_job leaves in the event log: each seed/staging asset at its code version."""
    from pipelines.defs.dbt.assets import tierwise_dbt_base

    for key in tierwise_dbt_base.keys:
        version = tierwise_dbt_base.code_versions_by_key[key]
        instance.report_runless_asset_event(dg.AssetMaterialization(key, tags={"dagster/code_version": str(version)}))


def test_imported_prices_is_a_declared_upstream_of_the_price_catalog() -> None:
    from pipelines.definitions import defs
    from pipelines.defs.prices import IMPORTED_PRICES_KEY

    graph = defs.get_repository_def().asset_graph
    assert IMPORTED_PRICES_KEY in graph.get(dg.AssetKey("stg_model_prices")).parent_keys
    assert not graph.get(IMPORTED_PRICES_KEY).is_materializable  # written by the CLI, never by a run
