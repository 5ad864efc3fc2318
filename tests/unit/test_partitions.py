"""Pure helpers between Dagster partitions, dirty days and dbt vars."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pipelines.defs.dbt.partitions import range_tags, window_to_vars
from tierwise.dirty_days import contiguous_ranges


def test_window_becomes_inclusive_start_exclusive_end_vars() -> None:
    start = datetime(2026, 3, 30, tzinfo=UTC)
    end = datetime(2026, 4, 2, tzinfo=UTC)
    assert window_to_vars(start, end) == {"start_date": "2026-03-30", "end_date": "2026-04-02"}


def test_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="empty partition window"):
        window_to_vars(date(2026, 1, 2), date(2026, 1, 2))


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


def test_range_tags_name_the_first_and_last_partition() -> None:
    tags = range_tags(date(2026, 1, 1), date(2026, 1, 3))
    assert tags["dagster/asset_partition_range_start"] == "2026-01-01"
    assert tags["dagster/asset_partition_range_end"] == "2026-01-03"
