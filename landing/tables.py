"""The raw tables landing writes, one per topic contract: columns, Arrow types and the day a row counts on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import polars as pl
import pyarrow as pa
from pydantic import BaseModel

from landing.columnar import ColumnarCheck, compile_check
from landing.warehouse import GPU_COLUMNS, USAGE_COLUMNS
from schemas import GpuUsage, UsageEvent, parse_gpu, parse_usage
from streaming.topics import GPU_TOPIC, USAGE_TOPIC

KAFKA_COLUMNS = ("kafka_topic", "kafka_partition", "kafka_offset", "landed_at")


def _arrow_type(sql_type: str) -> pa.DataType:
    base = sql_type.replace(" NOT NULL", "").strip()
    if base.startswith("DECIMAL"):
        return pa.decimal128(38, 12)
    return {
        "VARCHAR": pa.string(),
        "TIMESTAMP": pa.timestamp("us"),
        "DATE": pa.date32(),
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
        "MAP(VARCHAR, VARCHAR)": pa.map_(pa.string(), pa.string()),
    }[base]


@dataclass(frozen=True)
class TableContract:
    """What one landed topic parses into and where it goes."""

    kind: str
    table: str
    columns: dict[str, str]
    model: type[BaseModel]
    parse: Callable[[bytes], Any]
    # The field whose UTC day is the row's event_date (its daily partition), and, for intervals, the
    # field whose day ends the span of days the row touches.
    day_from: str
    day_until: str | None = None
    # Other row columns that are not contract fields, over the typed fields.
    derived: dict[str, pl.Expr] = field(default_factory=dict)

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(name, _arrow_type(t)) for name, t in self.columns.items()])

    @property
    def payload_columns(self) -> list[str]:
        return [c for c in self.columns if c not in KAFKA_COLUMNS]

    @cached_property
    def check(self) -> ColumnarCheck:
        return compile_check(self.model, self.columns, {"event_date": pl.col(self.day_from).dt.date(), **self.derived})

    def days_sql(self) -> str:
        """SQL over a relation of this table's rows: the UTC day of each day a row touches."""
        if self.day_until is None:
            return "event_date"
        # The last microsecond of an interval decides its last day.
        last = f"CAST({self.day_until} - INTERVAL 1 MICROSECOND AS DATE)"
        return f"CAST(unnest(generate_series(event_date, {last}, INTERVAL 1 DAY)) AS DATE)"


USAGE = TableContract(
    "usage",
    "usage_events",
    USAGE_COLUMNS,
    UsageEvent,
    parse_usage,
    day_from="event_time",
    derived={"content_fields_dropped": pl.lit(0, pl.Int32)},
)
GPU = TableContract("gpu", "gpu_usage", GPU_COLUMNS, GpuUsage, parse_gpu, day_from="interval_start", day_until="interval_end")
CONTRACTS = {"usage": USAGE, "gpu": GPU}


def contract_for_topic(topic: str) -> TableContract:
    """The contract of a topic by its suffix, so prefixed test topics work the same."""
    if topic.endswith(GPU_TOPIC):
        return GPU
    if topic.endswith(USAGE_TOPIC):
        return USAGE
    raise ValueError(f"no contract for topic {topic!r}")
