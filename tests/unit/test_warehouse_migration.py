"""A warehouse made before events carried service tiers, 1-hour cache writes and the variant price rates
keeps working: opening it adds the columns, old rows read as what they meant, new rows land by name."""

from __future__ import annotations

from pathlib import Path

import duckdb

from landing.warehouse import ADDED_COLUMNS, USAGE_COLUMNS, create_raw_tables


def test_old_raw_tables_gain_the_new_columns_and_keep_their_rows(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    old_usage = {c: t for c, t in USAGE_COLUMNS.items() if c not in ("service_tier", "cache_creation_1h_input_tokens")}
    con.execute("CREATE SCHEMA raw")
    con.execute(f"CREATE TABLE raw.usage_events ({', '.join(f'{c} {t}' for c, t in old_usage.items())})")
    con.execute(
        """CREATE TABLE raw.imported_prices (provider VARCHAR NOT NULL, model VARCHAR NOT NULL,
             valid_from TIMESTAMP NOT NULL, valid_to TIMESTAMP, input_cost_per_token DECIMAL(38, 12) NOT NULL,
             cache_read_cost_per_token DECIMAL(38, 12), cache_creation_cost_per_token DECIMAL(38, 12),
             output_cost_per_token DECIMAL(38, 12) NOT NULL, reasoning_cost_per_token DECIMAL(38, 12),
             batch_input_cost_per_token DECIMAL(38, 12), batch_output_cost_per_token DECIMAL(38, 12),
             source_key VARCHAR NOT NULL, litellm_mode VARCHAR NOT NULL, source_file VARCHAR,
             imported_at TIMESTAMP NOT NULL, PRIMARY KEY (provider, model, valid_from))"""
    )
    values = {
        "event_id": "'old'", "event_time": "'2026-01-01 10:00:00'", "event_date": "'2026-01-01'", "tier": "'closed_api'",
        "provider": "'openai'", "model": "'gpt-5.4'", "workload": "'w'", "environment": "'prod'", "operation": "'chat'",
        "input_tokens": "10", "output_tokens": "1", "cached_input_tokens": "0", "cache_creation_input_tokens": "4",
        "reasoning_tokens": "0", "status": "'ok'", "batch": "false", "shadow": "false", "schema_version": "'1'",
        "content_fields_dropped": "0", "kafka_topic": "'llm.usage.v1'", "kafka_partition": "0", "kafka_offset": "0",
        "landed_at": "'2026-01-01 10:00:01'",
    }  # fmt: skip
    con.execute(f"INSERT INTO raw.usage_events ({', '.join(values)}) VALUES ({', '.join(values.values())})")

    create_raw_tables(con)
    create_raw_tables(con)  # and again: nothing to add the second time

    for table, column, _ in ADDED_COLUMNS:
        found = con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = ? AND column_name = ?",
            [table, column],
        ).fetchone()
        assert found == (1,), (table, column)
    # the old row's cache writes were all 5-minute writes, at no named service tier
    assert con.execute("SELECT cache_creation_1h_input_tokens, service_tier FROM raw.usage_events").fetchall() == [(0, None)]
    con.execute(
        "INSERT INTO raw.usage_events BY NAME SELECT * REPLACE ('new' AS event_id, 'flex' AS service_tier, "
        "4 AS cache_creation_1h_input_tokens) FROM raw.usage_events"
    )
    assert con.execute(
        "SELECT event_id, service_tier, cache_creation_1h_input_tokens FROM raw.usage_events ORDER BY event_id"
    ).fetchall() == [("new", "flex", 4), ("old", None, 0)]
