"""A small warehouse for the weekly report and dashboard tests, built by real dbt, with dollars worked out by hand.

Last full ISO week (W) and the week before (W-1), priced from the seeds:
- support (team cx), claude-sonnet-4-6 on anthropic: 100,000 input + 280,000 output tokens a request
  = $0.30 + $4.20 = $4.50 (the prompt stays under Sonnet's 200k long-context tier); 10 requests in W
  ($45.00), 4 in W-1 ($18.00).
- `<script>alert(1)</script>` (team `a|b`), qwen3.5-72b on together: $0.40 + $0.08 = $0.48 a request;
  5 requests in W ($2.40).
- legal-notes (team legal), mistral-unknown: no price, 2 requests in W (unpriced).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from landing.warehouse import connect
from reports.weeks import IsoWeek
from tests.integration.test_dbt_spend import add_event, build

HOSTILE = "<script>alert(1)</script>"
SONNET = Decimal("4.50")
QWEN = Decimal("0.48")


@dataclass(frozen=True)
class World:
    path: Path
    week: IsoWeek

    @property
    def total(self) -> Decimal:
        return 10 * SONNET + 5 * QWEN  # $47.40

    @property
    def previous_total(self) -> Decimal:
        return 4 * SONNET  # $18.00


def build_world(work: Path) -> World:
    week = IsoWeek.last_full(datetime.now(UTC).date())
    path = work / "warehouse.duckdb"
    con = connect(path)
    big = {"input_tokens": 1_000_000, "output_tokens": 100_000}
    sonnet = {"input_tokens": 100_000, "output_tokens": 280_000}

    def at(day: int, n: int, start: datetime | None = None) -> str:
        base = datetime.combine(start or week.start, datetime.min.time()) + timedelta(days=day, hours=9, minutes=n)
        return base.isoformat(sep=" ")

    for n in range(10):
        add_event(con, f"s{n}", at(n % 3, n), "closed_api", "anthropic", "claude-sonnet-4-6", "support", "cx", **sonnet)
    for n in range(4):
        prev = week.previous().start
        add_event(con, f"p{n}", at(1, n, prev), "closed_api", "anthropic", "claude-sonnet-4-6", "support", "cx", **sonnet)
    for n in range(5):
        add_event(con, f"h{n}", at(2, n), "hosted_open_api", "together", "qwen3.5-72b", HOSTILE, "a|b", **big)
    for n in range(2):
        add_event(con, f"u{n}", at(4, n), "closed_api", "mistral", "mistral-unknown", "legal-notes", "legal", **big)
    con.close()
    build(path, work)
    return World(path, week)
