"""Sizes and time bounds of landing, in a module light enough for the CLI to import at start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core import env

# Records per DuckDB transaction: larger batches spread each commit's fixed costs (WAL flush, the
# dedupe probe) over more rows, at the price of memory (docs/landing.md has the measurements).
DEFAULT_BATCH_SIZE = 50_000


@dataclass(frozen=True)
class EventWindow:
    """Event times landing accepts: from the first daily partition up to a little past the landing clock.

    An event outside it would land in a raw table and never be built into a mart (its day is not a
    partition), so its spend would silently disappear: it is dead-lettered with the reason instead.
    """

    first_day: date  # TIERWISE_PARTITIONS_START
    max_ahead: timedelta  # TIERWISE_MAX_FUTURE_HOURS: producer clocks run ahead, but not by days

    @classmethod
    def from_env(cls) -> EventWindow:
        return cls(env.partitions_start(), timedelta(hours=env.max_future_hours()))

    def too_new(self, landed_at: datetime) -> datetime:
        return landed_at + self.max_ahead
