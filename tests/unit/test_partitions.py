"""Pure helpers between Dagster partitions, dirty days and dbt vars."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.errors import TierwiseError
from landing.dirty_days import contiguous_ranges
from pipelines.dbt_cli import window_vars
from pipelines.defs.dbt.planning import plan_dirty_ranges, range_tags


def test_window_becomes_inclusive_start_exclusive_end_vars() -> None:
    start = datetime(2026, 3, 30, tzinfo=UTC)  # a Dagster partition window's bounds
    end = datetime(2026, 4, 2, tzinfo=UTC)
    assert window_vars(start.date(), end.date()) == {"start_date": "2026-03-30", "end_date": "2026-04-02"}


def test_empty_window_is_refused() -> None:
    with pytest.raises(TierwiseError, match="must be after"):
        window_vars(date(2026, 1, 2), date(2026, 1, 2))


def test_contiguous_ranges_split_on_gaps_and_ignore_duplicates() -> None:
    days = [date(2026, 1, 5), date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 2), date(2026, 1, 3), date(2026, 2, 1)]
    assert contiguous_ranges(days) == [
        (date(2026, 1, 1), date(2026, 1, 3)),
        (date(2026, 1, 5), date(2026, 1, 5)),
        (date(2026, 2, 1), date(2026, 2, 1)),
    ]


def test_ranges_cross_month_and_year_boundaries() -> None:
    days = [date(2025, 12, 31), date(2026, 1, 1)]
    assert contiguous_ranges(days) == [(date(2025, 12, 31), date(2026, 1, 1))]


def test_range_tags_are_the_ones_dagster_reads_for_a_single_run_backfill() -> None:
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    tags = range_tags(date(2026, 1, 1), date(2026, 1, 3))
    assert tags == {ASSET_PARTITION_RANGE_START_TAG: "2026-01-01", ASSET_PARTITION_RANGE_END_TAG: "2026-01-03"}


def test_dirty_days_become_one_run_per_range_and_days_before_the_partitions_are_set_apart() -> None:
    valid = {f"2026-01-{d:02d}" for d in range(1, 32)}
    dirty = ["2026-01-05", "2025-12-30", "2026-01-03", "2026-01-04", "2026-01-20", "2026-01-04"]
    ranges, outside = plan_dirty_ranges(dirty, valid)
    assert ranges == [(date(2026, 1, 3), date(2026, 1, 5)), (date(2026, 1, 20), date(2026, 1, 20))]
    assert outside == [date(2025, 12, 30)]


def test_sensor_requests_carry_the_range_tags_and_a_key_per_landing() -> None:
    from pipelines.defs.dbt.sensors import dirty_day_requests

    requests = dirty_day_requests(
        ["2026-01-03", "2026-01-04", "2026-01-09"], {"2026-01-03", "2026-01-04", "2026-01-09"}, cursor_id=42
    )
    assert [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"]) for r in requests] == [
        ("2026-01-03", "2026-01-04"),
        ("2026-01-09", "2026-01-09"),
    ]
    # A later landing that leaves the same days dirty must be able to request them again.
    assert len({r.run_key for r in requests} | {r.run_key for r in dirty_day_requests(["2026-01-09"], {"2026-01-09"}, 43)}) == 3
