"""The raw layer of the DuckDB warehouse: the tables landing writes and dbt reads.

Landing owns these tables (a price import also marks `dirty_days`); dbt only reads them (as sources).
Timestamps are UTC, stored as ``TIMESTAMP`` (naive), and daily partitions are UTC days. Money is
``DECIMAL(38, 12)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import duckdb

from core import env

RAW_SCHEMA = "raw"

USAGE_COLUMNS: dict[str, str] = {
    "event_id": "VARCHAR NOT NULL",
    "event_time": "TIMESTAMP NOT NULL",  # UTC; when the request finished
    "event_date": "DATE NOT NULL",  # UTC day of event_time: the daily partition key
    "tier": "VARCHAR NOT NULL",
    "provider": "VARCHAR NOT NULL",
    "model": "VARCHAR NOT NULL",
    "workload": "VARCHAR NOT NULL",
    "team": "VARCHAR",
    "environment": "VARCHAR NOT NULL",
    "operation": "VARCHAR NOT NULL",
    "input_tokens": "BIGINT NOT NULL",
    "output_tokens": "BIGINT NOT NULL",
    "cached_input_tokens": "BIGINT NOT NULL",
    "cache_creation_input_tokens": "BIGINT NOT NULL",
    "cache_creation_1h_input_tokens": "BIGINT NOT NULL",  # part of cache_creation_input_tokens
    "reasoning_tokens": "BIGINT NOT NULL",
    "duration_ms": "DOUBLE",
    "ttft_ms": "DOUBLE",
    "status": "VARCHAR NOT NULL",
    "error_type": "VARCHAR",
    "batch": "BOOLEAN NOT NULL",
    "service_tier": "VARCHAR",
    "deployment": "VARCHAR",
    "shadow": "BOOLEAN NOT NULL",
    "eval_score": "DOUBLE",
    "request_id": "VARCHAR",
    "response_id": "VARCHAR",
    "tags": "MAP(VARCHAR, VARCHAR)",
    "schema_version": "VARCHAR NOT NULL",
    "content_fields_dropped": "INTEGER NOT NULL",
    "kafka_topic": "VARCHAR NOT NULL",
    "kafka_partition": "INTEGER NOT NULL",
    "kafka_offset": "BIGINT NOT NULL",
    "landed_at": "TIMESTAMP NOT NULL",  # UTC arrival in the warehouse
}

# Columns added after the first release default to what events without them mean (older writers keep working).
COLUMN_DEFAULTS: dict[str, str] = {"cache_creation_1h_input_tokens": " DEFAULT 0"}

GPU_COLUMNS: dict[str, str] = {
    "event_id": "VARCHAR NOT NULL",
    "interval_start": "TIMESTAMP NOT NULL",
    "interval_end": "TIMESTAMP NOT NULL",
    "event_date": "DATE NOT NULL",  # UTC day of interval_start
    "deployment": "VARCHAR NOT NULL",
    "gpu_type": "VARCHAR NOT NULL",
    "gpu_count": "INTEGER NOT NULL",
    "utilization": "DOUBLE",
    "hourly_price_usd": "DECIMAL(38, 12)",
    "engine": "VARCHAR",
    "model": "VARCHAR",
    "quantization": "VARCHAR",
    "schema_version": "VARCHAR NOT NULL",
    "kafka_topic": "VARCHAR NOT NULL",
    "kafka_partition": "INTEGER NOT NULL",
    "kafka_offset": "BIGINT NOT NULL",
    "landed_at": "TIMESTAMP NOT NULL",
}

TABLES: dict[str, str] = {
    # Unique by event_id, enforced by landing's anti-join (landing/writer.py) rather than an index: an ART
    # index over every id would have to stay in memory and slows each insert (docs/landing.md).
    "usage_events": ",\n  ".join(f"{c} {t}{COLUMN_DEFAULTS.get(c, '')}" for c, t in USAGE_COLUMNS.items()),
    "gpu_usage": ",\n  ".join(f"{c} {t}" for c, t in GPU_COLUMNS.items()),
    # A message that could not land: kept byte for byte with the reason, also sent to the DLQ topic.
    "rejected_events": """
  topic VARCHAR NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset BIGINT NOT NULL,
  raw_key BLOB,
  raw_value BLOB,
  error_class VARCHAR NOT NULL,
  reason VARCHAR NOT NULL,
  rejected_at TIMESTAMP NOT NULL,
  PRIMARY KEY (topic, kafka_partition, kafka_offset)""",
    # Next offset to read per topic partition, committed in the same transaction as the rows.
    "kafka_offsets": """
  consumer VARCHAR NOT NULL,
  topic VARCHAR NOT NULL,
  kafka_partition INTEGER NOT NULL,
  next_offset BIGINT NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  PRIMARY KEY (consumer, topic, kafka_partition)""",
    # One row per landed batch: what arrived, what was a duplicate, what was rejected.
    "landing_batches": """
  batch_id VARCHAR NOT NULL PRIMARY KEY,
  topic VARCHAR NOT NULL,
  landed_rows BIGINT NOT NULL,
  duplicates_dropped BIGINT NOT NULL,
  rejected_rows BIGINT NOT NULL,
  content_fields_dropped BIGINT NOT NULL,
  landed_at TIMESTAMP NOT NULL""",
    # Token prices imported by `tierwise prices import` (landing/prices.py). Created with the other raw
    # tables so the staging view of the price catalog always reads it, before any import too.
    "imported_prices": """
  provider VARCHAR NOT NULL,
  model VARCHAR NOT NULL,
  valid_from TIMESTAMP NOT NULL,
  valid_to TIMESTAMP,
  input_cost_per_token DECIMAL(38, 12) NOT NULL,
  cache_read_cost_per_token DECIMAL(38, 12),
  cache_creation_cost_per_token DECIMAL(38, 12),
  output_cost_per_token DECIMAL(38, 12) NOT NULL,
  reasoning_cost_per_token DECIMAL(38, 12),
  batch_input_cost_per_token DECIMAL(38, 12),
  batch_output_cost_per_token DECIMAL(38, 12),
  batch_cache_read_cost_per_token DECIMAL(38, 12),
  batch_cache_creation_cost_per_token DECIMAL(38, 12),
  cache_creation_1h_cost_per_token DECIMAL(38, 12),
  priority_input_cost_per_token DECIMAL(38, 12),
  priority_output_cost_per_token DECIMAL(38, 12),
  priority_cache_read_cost_per_token DECIMAL(38, 12),
  flex_input_cost_per_token DECIMAL(38, 12),
  flex_output_cost_per_token DECIMAL(38, 12),
  flex_cache_read_cost_per_token DECIMAL(38, 12),
  long_context_threshold_tokens BIGINT,
  long_input_cost_per_token DECIMAL(38, 12),
  long_output_cost_per_token DECIMAL(38, 12),
  long_cache_read_cost_per_token DECIMAL(38, 12),
  long_cache_creation_cost_per_token DECIMAL(38, 12),
  source_key VARCHAR NOT NULL,
  litellm_mode VARCHAR NOT NULL,
  source_file VARCHAR,
  imported_at TIMESTAMP NOT NULL,
  PRIMARY KEY (provider, model, valid_from)""",
    # Days whose events arrived after their day was last built: downstream re-materializes them.
    # `source` is who marked the day: a landed topic, or `prices` for a price import.
    "dirty_days": """
  source VARCHAR NOT NULL,
  event_date DATE NOT NULL,
  last_marked_at TIMESTAMP NOT NULL,
  rows_since BIGINT NOT NULL,
  PRIMARY KEY (source, event_date)""",
}


# (table, column, type) added to a raw table after it first shipped: create_raw_tables adds them to old warehouses.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("usage_events", "cache_creation_1h_input_tokens", "BIGINT DEFAULT 0"),
    ("usage_events", "service_tier", "VARCHAR"),
    *(
        ("imported_prices", c, "BIGINT" if c == "long_context_threshold_tokens" else "DECIMAL(38, 12)")
        for c in (
            "batch_cache_read_cost_per_token",
            "batch_cache_creation_cost_per_token",
            "cache_creation_1h_cost_per_token",
            "priority_input_cost_per_token",
            "priority_output_cost_per_token",
            "priority_cache_read_cost_per_token",
            "flex_input_cost_per_token",
            "flex_output_cost_per_token",
            "flex_cache_read_cost_per_token",
            "long_context_threshold_tokens",
            "long_input_cost_per_token",
            "long_output_cost_per_token",
            "long_cache_read_cost_per_token",
            "long_cache_creation_cost_per_token",
        )
    ),
)


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for name, body in TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{name} (\n  {body}\n)")
    # Columns added since a warehouse was made (older rows read as NULL / 0, which price as before).
    for table, column, sql_type in ADDED_COLUMNS:
        con.execute(f"ALTER TABLE {RAW_SCHEMA}.{table} ADD COLUMN IF NOT EXISTS {column} {sql_type}")
    # Warehouses made before marks kept their newest time, and before a mark's maker was called its source.
    for old, new in (("first_marked_at", "last_marked_at"), ("topic", "source")):
        found = con.execute(
            "SELECT 1 FROM duckdb_columns() WHERE schema_name = ? AND table_name = 'dirty_days' AND column_name = ?",
            [RAW_SCHEMA, old],
        ).fetchall()
        if found:
            con.execute(f"ALTER TABLE {RAW_SCHEMA}.dirty_days RENAME COLUMN {old} TO {new}")


def mark_dirty_days(
    con: duckdb.DuckDBPyConnection, source: str, days_sql: str, at: datetime, params: Sequence[object] = ()
) -> list[date]:
    """Mark days for a rebuild of their marts: the one writer of `raw.dirty_days`.

    `days_sql` is a SELECT of (event_date, rows) with `params` for its placeholders; `source` says who
    marks (a landed topic, or `prices` for a price import). A day the same source already marked takes
    the newer mark time and adds the rows, so a build that started before this mark cannot clear it.
    Runs in the caller's transaction; returns the days marked.
    """
    rows = con.execute(
        f"""INSERT INTO {RAW_SCHEMA}.dirty_days AS d
        SELECT ?, m.event_date, ?, m.n_rows FROM ({days_sql}) AS m(event_date, n_rows)
        ON CONFLICT (source, event_date) DO UPDATE SET rows_since = d.rows_since + excluded.rows_since,
            last_marked_at = greatest(d.last_marked_at, excluded.last_marked_at)
        RETURNING event_date""",
        [source, at, *params],
    ).fetchall()
    return sorted(d for (d,) in rows)


# DuckDB checkpoints (rewrites the WAL into the file) once the WAL passes 16 MB by default, which
# for landing means every second batch and most of its write time. A larger WAL is replayed on open.
# TIERWISE_CHECKPOINT_THRESHOLD (default 256MB) sets it.


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; writers also make sure the raw tables exist."""
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config={"checkpoint_threshold": env.checkpoint_threshold()})
    create_raw_tables(con)
    return con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, rolled back on any exception (a kill simply never commits)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
