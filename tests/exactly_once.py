"""The exactly-once checker of the fault tests: acknowledged event ids against what the marts count.

An event is acknowledged when the producer got Kafka's ack for it. After a fault and the recovery,
every acknowledged id must be in `priced_requests` exactly once, `spend_daily` must count exactly as
many requests, and the raw table must hold each id once. `lost` and `duplicated` are what the fault
table prints; `tests/integration/test_fault_harness.py` proves the checker fails on a lost or doubled row.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb


@dataclass(frozen=True)
class Tally:
    events: int  # acknowledged
    lost: int  # acknowledged, absent from the marts
    duplicated: int  # extra copies of an id in the marts or raw table, plus any request counted twice by spend_daily
    unexpected: int  # ids in the marts nobody acknowledged

    @property
    def exact(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.unexpected == 0


def tally(warehouse: Path, acknowledged: Iterable[str]) -> Tally:
    ids = set(acknowledged)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        marts = dict(con.execute("SELECT event_id, count(*) FROM main.priced_requests GROUP BY event_id").fetchall())
        raw_extra = con.execute(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM raw.usage_events GROUP BY event_id)"
        ).fetchone()[0]  # type: ignore[index]
        spend = con.execute("SELECT coalesce(sum(requests), 0) FROM main.spend_daily").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    doubled_in_marts = sum(n - 1 for n in marts.values())
    counted_twice = max(0, int(spend) - len(marts))
    return Tally(
        events=len(ids),
        lost=len(ids - marts.keys()),
        duplicated=doubled_in_marts + int(raw_extra) + counted_twice,
        unexpected=len(marts.keys() - ids),
    )


def emit_acknowledged(bootstrap: str, topic: str, events: list[dict[str, Any]], spill_dir: Path, **kwargs: Any) -> set[str]:
    """Send events through the SDK and return the ids Kafka acknowledged (all of them, or the test fails)."""
    from ingest.emitter import TelemetryEmitter

    with TelemetryEmitter(bootstrap, topic=topic, spill_dir=spill_dir, **kwargs) as emitter:
        for event in events:
            assert emitter.emit(event), event
        assert emitter.flush(timeout=120)
        stats = emitter.stats()
    assert stats.dropped == 0 and stats.invalid == 0 and stats.sent + stats.replayed == len(events), stats
    return {e["event_id"] for e in events}


@dataclass
class Row:
    scenario: str
    events: int
    lost: int
    duplicated: int
    recover_s: float

    def line(self) -> str:
        return f"| {self.scenario} | {self.events} | {self.lost} | {self.duplicated} | {self.recover_s:.1f} s |"


class Clock:
    def __init__(self) -> None:
        self.began = time.monotonic()

    def seconds(self) -> float:
        return time.monotonic() - self.began
