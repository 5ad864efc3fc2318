"""Sizes that bound landing, in a module light enough for the CLI to import at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# Records per DuckDB transaction: larger batches spread each commit's fixed costs (WAL flush, the
# dedupe probe) over more rows, at the price of memory (docs/landing.md has the measurements).
DEFAULT_BATCH_SIZE = 50_000
# An event is a few hundred bytes; anything this big is a bug or content that slipped through.
DEFAULT_MAX_EVENT_BYTES = int(os.environ.get("TIERWISE_MAX_EVENT_BYTES", 64 * 1024))


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
        from pipelines.settings import Settings

        return Settings.from_env().event_window()

    def too_new(self, landed_at: datetime) -> datetime:
        return landed_at + self.max_ahead
