"""What has landed, what was rejected or deduplicated, and how far behind Kafka the warehouse is."""

from __future__ import annotations

from typing import Any

import duckdb

from core.errors import TierwiseError
from core.home import Home
from core.settings import Settings
from core.warehouse_lock import read_only
from landing.consumer import DEFAULT_CONSUMER
from landing.dirty_days import dirty_days_in, raw_tables_exist
from landing.warehouse import RAW_SCHEMA
from streaming.topics import GPU_TOPIC, USAGE_TOPIC

TABLES = {USAGE_TOPIC: ("usage_events", "event_time"), GPU_TOPIC: ("gpu_usage", "interval_end")}


def topic_stats(con: duckdb.DuckDBPyConnection, topic: str, table: str, time_col: str) -> dict[str, Any]:
    landed, newest = con.execute(
        f"SELECT count(*), max({time_col}) FROM {RAW_SCHEMA}.{table} WHERE kafka_topic = ?", [topic]
    ).fetchone()  # type: ignore[misc]
    rejected = con.execute(f"SELECT count(*) FROM {RAW_SCHEMA}.rejected_events WHERE topic = ?", [topic]).fetchone()[0]  # type: ignore[index]
    dups, content = con.execute(
        f"""SELECT coalesce(sum(duplicates_dropped), 0), coalesce(sum(content_fields_dropped), 0)
        FROM {RAW_SCHEMA}.landing_batches WHERE topic = ?""",
        [topic],
    ).fetchone()  # type: ignore[misc]
    return {
        "landed_rows": int(landed),
        "rejected_rows": int(rejected),
        "duplicates_dropped": int(dups),
        "content_fields_dropped": int(content),
        "newest_event_time": newest.isoformat() + "Z" if newest else None,
    }


EMPTY = {"landed_rows": 0, "rejected_rows": 0, "duplicates_dropped": 0, "content_fields_dropped": 0, "newest_event_time": None}


def collect_status(settings: Settings | None = None) -> dict[str, Any]:
    """Read-only: a status check never takes the warehouse's write lock, nor creates anything in it."""
    settings = settings or Settings.from_env()
    topics = [settings.topic(USAGE_TOPIC), settings.topic(GPU_TOPIC)]
    out: dict[str, Any] = {
        "home": str(settings.home.root),
        "warehouse": str(settings.warehouse),
        "topics": {},
        "dirty_days": [],
    }
    for topic in topics:
        out["topics"][topic] = dict(EMPTY)
    if settings.warehouse.exists():
        with read_only(settings.warehouse) as con:
            if raw_tables_exist(con, "landing_batches"):  # a warehouse landing never wrote to has no raw tables yet
                for name, topic in zip((USAGE_TOPIC, GPU_TOPIC), topics, strict=True):
                    table, time_col = TABLES[name]
                    out["topics"][topic] = topic_stats(con, topic, table, time_col)
                out["dirty_days"] = [d.isoformat() for d in dirty_days_in(con)]
    try:
        from streaming.broker import resolve_bootstrap
        from streaming.lag import consumer_lag

        bootstrap = resolve_bootstrap(settings.home)
        lag = consumer_lag(bootstrap, DEFAULT_CONSUMER, topics)
        out["kafka"] = {"bootstrap": bootstrap, "reachable": True}
        for topic in topics:
            out["topics"][topic]["consumer_lag"] = lag.get(topic)
    except TierwiseError as exc:
        out["kafka"] = {"reachable": False, "error": str(exc)}
        for topic in topics:
            out["topics"][topic]["consumer_lag"] = None
    return out


def kafka_lag(home: Home, topics: list[str]) -> dict[str, int | None] | None:
    """Consumer lag per topic now, or None when Kafka does not answer (the report says so)."""
    try:
        from streaming.broker import resolve_bootstrap
        from streaming.lag import consumer_lag

        lag = consumer_lag(resolve_bootstrap(home), DEFAULT_CONSUMER, topics)
    except TierwiseError:
        return None
    return {t: lag.get(t) for t in topics}
