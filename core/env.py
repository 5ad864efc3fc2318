"""Every environment variable tierwise reads, in one place, each validated with an error that names it.

Nothing outside ``core`` reads the environment (a unit test holds the tree to that), so this table is
the whole list; the README's configuration table documents the same names (a unit test checks that).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from core.errors import TierwiseError


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable("TIERWISE_HOME", "./.tierwise", "all run-time state"),
    Variable("TIERWISE_WAREHOUSE", "$TIERWISE_HOME/warehouse.duckdb", "the DuckDB file"),
    Variable("TIERWISE_CONFIG", "$TIERWISE_HOME/tierwise.yaml", "the workload and organization config file"),
    Variable("TIERWISE_DEBUG", "unset", "show a traceback with an error"),
    Variable("TIERWISE_LOCK_TIMEOUT", "60", "seconds a writer waits out another process's warehouse lock"),
    Variable("TIERWISE_DBT_PROJECT_DIR", "the repository's dbt_project/", "the dbt project to build"),
    Variable("TIERWISE_TOPIC_PREFIX", "", "prefix of every topic name"),
    Variable("TIERWISE_PARTITIONS", "6", "partitions for new topics"),
    Variable("TIERWISE_PARTITIONS_START", "2026-01-01", "first daily partition of the marts"),
    Variable("TIERWISE_MAX_EVENT_BYTES", "65536", "larger Kafka messages are dead-lettered as oversized"),
    Variable("TIERWISE_CHECKPOINT_THRESHOLD", "256MB", "WAL size at which DuckDB checkpoints the warehouse"),
    Variable("KAFKA_BOOTSTRAP_SERVERS", "unset", "use this cluster; nothing local is started"),
    Variable("TIERWISE_KAFKA_TIMEOUT", "10", "seconds a command waits for a Kafka that should already run"),
    Variable("TIERWISE_KAFKA_LIB", "streaming/kafka_dist/target/lib", "where the broker jars are kept"),
    Variable("TIERWISE_KAFKA_HEAP", "512m", "local broker heap"),
    Variable("TIERWISE_KAFKA_DATA", "$TIERWISE_HOME/kafka/data", "local broker log directory"),
    Variable("JAVA_HOME", "unset", "the JDK that runs the local broker (else java on PATH)"),
    Variable("TIERWISE_MAX_FUTURE_HOURS", "24", "events dated further ahead of the landing clock are dead-lettered"),
    Variable("TIERWISE_POOL_WAIT_S", "600", "how long `tierwise run` waits for the pool slot a live run holds"),
    Variable("TIERWISE_REPLICATION_FACTOR", "min(3, brokers)", "replication factor of new topics"),
    Variable("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (core/kafka_security.py)"),
    Variable("COLUMNS", "120", "width the CLI's tables fit into"),
    Variable("TIERWISE_OTLP_TOKEN", "unset", "bearer token `tierwise ingest otlp` requires of exporters (unset: none)"),
    Variable("TIERWISE_ALERTS_CONFIG", "$TIERWISE_HOME/alerts.yaml", "the alert rules and channels (docs/alerts.md)"),
)


def _raw(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _path(name: str) -> Path | None:
    value = _raw(name)
    return Path(value).expanduser().resolve() if value else None


def _number(name: str, default: float, minimum: float) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise TierwiseError(f"{name} must be a number, got {value!r}") from None
    if number < minimum:
        raise TierwiseError(f"{name} must be at least {minimum:g}, got {value!r}")
    return number


def _whole(name: str, default: int, minimum: int) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise TierwiseError(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise TierwiseError(f"{name} must be at least {minimum}, got {number}")
    return number


def home_dir() -> Path:
    return Path(_raw("TIERWISE_HOME") or ".tierwise").expanduser().resolve()


def warehouse_override() -> Path | None:
    return _path("TIERWISE_WAREHOUSE")


def config_override() -> Path | None:
    return _path("TIERWISE_CONFIG")


def debug() -> bool:
    return _raw("TIERWISE_DEBUG") not in (None, "0", "false")


def lock_timeout_s() -> float:
    return _number("TIERWISE_LOCK_TIMEOUT", 60.0, 0.0)


def dbt_project_override() -> Path | None:
    return _path("TIERWISE_DBT_PROJECT_DIR")


def topic_prefix() -> str:
    return os.environ.get("TIERWISE_TOPIC_PREFIX", "")


def partitions() -> int:
    return _whole("TIERWISE_PARTITIONS", 6, 1)


def partitions_start() -> date:
    raw = _raw("TIERWISE_PARTITIONS_START") or "2026-01-01"
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise TierwiseError(f"TIERWISE_PARTITIONS_START must be a date like 2026-01-01, got {raw!r}") from None


def max_event_bytes() -> int:
    return _whole("TIERWISE_MAX_EVENT_BYTES", 64 * 1024, 1)


def checkpoint_threshold() -> str:
    return _raw("TIERWISE_CHECKPOINT_THRESHOLD") or "256MB"


def bootstrap_servers() -> str | None:
    return _raw("KAFKA_BOOTSTRAP_SERVERS")


def kafka_timeout_s() -> float:
    return _number("TIERWISE_KAFKA_TIMEOUT", 10.0, 0.1)


def kafka_lib() -> Path | None:
    return _path("TIERWISE_KAFKA_LIB")


def kafka_heap() -> str:
    return _raw("TIERWISE_KAFKA_HEAP") or "512m"


def kafka_data() -> Path | None:
    return _path("TIERWISE_KAFKA_DATA")


def java_home() -> Path | None:
    return _path("JAVA_HOME")


def columns() -> int | None:
    """The terminal width a shell exports (COLUMNS); None when unset or not a number."""
    value = _raw("COLUMNS")
    return int(value) if value and value.isdigit() and int(value) > 0 else None


def max_future_hours() -> float:
    return _number("TIERWISE_MAX_FUTURE_HOURS", 24.0, 0.0)


def pool_wait_s() -> float:
    return _number("TIERWISE_POOL_WAIT_S", 600.0, 0.0)


def replication_factor() -> int | None:
    """TIERWISE_REPLICATION_FACTOR when set; the caller bounds it by the cluster's brokers."""
    return _whole("TIERWISE_REPLICATION_FACTOR", 0, 1) if _raw("TIERWISE_REPLICATION_FACTOR") else None


def otlp_token() -> str | None:
    """The bearer token the OTLP receiver requires; unset (or blank) means no check."""
    return _raw("TIERWISE_OTLP_TOKEN")


def alerts_config_override() -> Path | None:
    return _path("TIERWISE_ALERTS_CONFIG")


def secret(name: str) -> str | None:
    """A secret an alert channel names in its config (`secret_env`, `url_env`, `password_env`): the config
    file holds only the variable's name, so the value never sits in a file or a log."""
    return _raw(name)
