"""The exactly-once checker of the fault tests: acknowledged event ids against what the marts count.

An event is acknowledged when the producer got Kafka's ack for it. After a fault and the recovery,
every acknowledged id must be in `priced_requests` exactly once, `spend_daily` must count exactly as
many requests, and the raw table must hold each id once. `lost` and `duplicated` are what the fault
table prints; `tests/integration/test_fault_harness.py` proves the checker fails on a lost or doubled row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb


@dataclass(frozen=True)
class Tally:
    events: int  # acknowledged ids in scope
    lost: int  # acknowledged, absent from the marts (or missing from spend_daily's request count)
    duplicated: int  # extra copies of an id in the marts or the raw table, plus requests spend_daily counts twice
    unexpected: int  # ids in the marts nobody acknowledged

    @property
    def exact(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.unexpected == 0


def tally(warehouse: Path, acknowledged: Iterable[str], scope: Iterable[str] | None = None) -> Tally:
    """Compare the marts with every acknowledged id; report on `scope` (default: all of them)."""
    ids = set(acknowledged)
    within = ids if scope is None else set(scope)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        marts = dict(con.execute("SELECT event_id, count(*) FROM main.priced_requests GROUP BY event_id").fetchall())
        raw = dict(con.execute("SELECT event_id, count(*) FROM raw.usage_events GROUP BY event_id").fetchall())
        spend = int(con.execute("SELECT coalesce(sum(requests), 0) FROM main.spend_daily").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()
    rows = sum(marts.values())
    whole = within == ids
    return Tally(
        events=len(within),
        lost=len(within - marts.keys()) + (max(0, rows - spend) if whole else 0),
        duplicated=sum(marts[i] - 1 for i in within if i in marts)
        + sum(raw[i] - 1 for i in within if i in raw)
        + (max(0, spend - rows) if whole else 0),
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


# Rows of the fault table, printed at the end of the session (tests/conftest.py).
FAULT_TABLE: list[Row] = []


@dataclass
class Row:
    scenario: str
    events: int
    lost: int
    duplicated: int
    recover_s: float

    def line(self) -> str:
        return f"| {self.scenario} | {self.events} | {self.lost} | {self.duplicated} | {self.recover_s:.1f} s |"
