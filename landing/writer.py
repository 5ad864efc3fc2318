"""One decoded batch, its rejects, its next offsets and its dirty days committed in ONE DuckDB transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb

from landing.decoder import Decoded
from landing.tables import TableContract, contract_for_topic
from landing.warehouse import RAW_SCHEMA, mark_dirty_days, transaction

# How far (in days) from a batch's own days landing looks for an earlier copy of the same event_id.
# Resends (spill replay, `tierwise replay`, producer retries, adapters that stamp the emit time) move
# an event's time by seconds to hours; a copy further away lands again and dbt's unique test on
# event_id fails the build, so it is seen rather than silently counted twice (docs/landing.md).
DEDUPE_WINDOW_DAYS = 1


@dataclass
class LandingResult:
    topic: str
    landed: int = 0
    duplicates: int = 0
    rejected: int = 0
    content_fields_dropped: int = 0
    batches: int = 0
    days: set[date] = field(default_factory=set)
    next_offsets: dict[int, int] = field(default_factory=dict)

    def add(self, other: LandingResult) -> None:
        self.landed += other.landed
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.content_fields_dropped += other.content_fields_dropped
        self.batches += other.batches
        self.days |= other.days
        self.next_offsets.update(other.next_offsets)


def insert_new_rows(
    con: duckdb.DuckDBPyConnection, source: str, target: str, topic: str, at: datetime
) -> tuple[int, list[date]]:
    """Add the rows of `source` whose event_id `target` lacks, and mark their days for rebuilding.

    Runs inside the caller's transaction. An event is its event_id (the key the dbt tests check too):
    the first occurrence (lowest partition, offset) wins inside `source`, and a row already in
    `target` wins over any newcomer. The probe of `target` looks only at the days the batch touches
    and DEDUPE_WINDOW_DAYS either side, so DuckDB skips the row groups of every other day instead of
    comparing with every id ever landed; a resend whose event time moved (across midnight, say) is
    still found. Returns the number of rows added and the UTC days they touch (late days included; an
    interval marks every day it spans).
    """
    contract = contract_for_topic(topic)
    ((rows, distinct, first, last),) = con.execute(
        f"SELECT count(*), count(DISTINCT event_id), min(event_date), max(event_date) FROM {source}"
    ).fetchall()
    if not rows:
        return 0, []
    if rows != distinct:  # the window is only paid for when a batch repeats itself
        source = (
            f"(SELECT * FROM {source} QUALIFY row_number() OVER "
            "(PARTITION BY event_id ORDER BY kafka_partition, kafka_offset) = 1)"
        )
    # Ids the target already holds, found by probing the target with the batch (the small side is
    # hashed, and the day range prunes the target's row groups); usually none.
    ((seen,),) = con.execute(
        f"""CREATE OR REPLACE TEMP TABLE tw_seen AS
        SELECT DISTINCT t.event_id FROM {target} t
        SEMI JOIN {source} b ON b.event_id = t.event_id
        WHERE t.event_date BETWEEN ? AND ?""",
        [first - timedelta(days=DEDUPE_WINDOW_DAYS), last + timedelta(days=DEDUPE_WINDOW_DAYS)],
    ).fetchall()
    if seen:
        source = f"(SELECT b.* FROM {source} b ANTI JOIN tw_seen s USING (event_id))"
    ((added,),) = con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {source}").fetchall()
    if not added:
        return 0, []
    days_sql = f"SELECT day, count(*) FROM (SELECT {contract.days_sql()} AS day FROM {source}) GROUP BY day"
    return int(added), mark_dirty_days(con, topic, days_sql, at)


def record_batch(
    con: duckdb.DuckDBPyConnection, topic: str, landed: int, duplicates: int, rejected: int, content_dropped: int, at: datetime
) -> None:
    """One row of `raw.landing_batches`: what `tierwise status` sums per topic."""
    con.execute(
        f"INSERT INTO {RAW_SCHEMA}.landing_batches VALUES (?, ?, ?, ?, ?, ?, ?)",
        [uuid.uuid4().hex, topic, landed, duplicates, rejected, content_dropped, at],
    )


class WarehouseWriter:
    """Writes one decoded batch, its rejects and its offsets in one DuckDB transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, contract: TableContract, topic: str, consumer: str) -> None:
        self.con = con
        self.contract = contract
        self.topic = topic
        self.consumer = consumer

    def stored_offsets(self) -> dict[int, int]:
        rows = self.con.execute(
            f"SELECT kafka_partition, next_offset FROM {RAW_SCHEMA}.kafka_offsets WHERE consumer = ? AND topic = ?",
            [self.consumer, self.topic],
        ).fetchall()
        return {int(p): int(o) for p, o in rows}

    def commit_batch(self, batch: Decoded, next_offsets: dict[int, int], landed_at: datetime) -> LandingResult:
        con = self.con
        rejected = batch.rejected
        target = f"{RAW_SCHEMA}.{self.contract.table}"
        with transaction(con), batch.registered(con) as rows:
            landed, days = insert_new_rows(con, rows, target, self.topic, landed_at)
            if rejected:
                con.executemany(  # rejects are rare: row-wise is fine here
                    f"""INSERT INTO {RAW_SCHEMA}.rejected_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT DO NOTHING""",
                    [[self.topic, r.partition, r.offset, r.key, r.value, r.error_class, r.reason, landed_at] for r in rejected],
                )
            if next_offsets:
                con.executemany(
                    f"""INSERT INTO {RAW_SCHEMA}.kafka_offsets VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (consumer, topic, kafka_partition)
                    DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at""",
                    [[self.consumer, self.topic, p, o, landed_at] for p, o in next_offsets.items()],
                )
            duplicates = batch.count - landed
            record_batch(con, self.topic, landed, duplicates, len(rejected), batch.content_dropped, landed_at)
        return LandingResult(
            self.topic,
            landed=landed,
            duplicates=duplicates,
            rejected=len(rejected),
            content_fields_dropped=batch.content_dropped,
            batches=1,
            days=set(days),
            next_offsets=dict(next_offsets),
        )
