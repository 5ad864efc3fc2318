"""ISO weeks as the weekly report names them: '2026-W48' is Monday 2026-11-23 up to (not including) 2026-11-30."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from core.errors import TierwiseError

_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        match = _WEEK.fullmatch(text.strip())
        if not match:
            raise TierwiseError(f"--week {text!r} is not an ISO week like 2026-W48")
        year, week = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise TierwiseError(f"--week {text!r}: {year} has no ISO week {week}") from None
        return cls(year, week)

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def last_full(cls, today: date) -> IsoWeek:
        """The newest week that has ended: the one before today's."""
        return cls.of(today - timedelta(days=7))

    @property
    def start(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def end(self) -> date:
        """Exclusive: the next Monday."""
        return self.start + timedelta(days=7)

    def previous(self, weeks: int = 1) -> IsoWeek:
        return IsoWeek.of(self.start - timedelta(days=7 * weeks))

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"
