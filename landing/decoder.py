"""Kafka record batch -> rows of a raw table plus the rejected records, checked column by column.

The batch is parsed and checked with polars (``landing.columnar``); only the records that check cannot
vouch for are validated one by one by pydantic, which decides and explains.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from polars.exceptions import PanicException

from core import env
from landing.columnar import fast_path_shape, parse_chunk, unreadable
from landing.limits import EventWindow
from landing.record_batches import Records
from landing.tables import TableContract
from schemas import ContractError, scrub_raw

# Below this many lines a chunk polars cannot read goes to pydantic instead of being halved again.
MIN_CHUNK = 64


@dataclass
class RejectedRecord:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    error_class: str
    reason: str


def keepable(value: bytes) -> bytes:
    """What a dead letter may keep of its bytes: scrubbed of content, or nothing when that fails."""
    try:
        return scrub_raw(value)
    except Exception:
        return b""


def _reason(exc: Exception) -> str:
    if isinstance(exc, ContractError):
        return str(exc)
    # An unexpected failure: its class and first line only, never a value it may quote at length.
    first = (str(exc).splitlines() or [""])[0][:200]
    return f"could not be decoded: {type(exc).__name__}: {first}" if first else f"could not be decoded: {type(exc).__name__}"


def _classify(exc: Exception) -> str:
    if isinstance(exc, ContractError):
        return "invalid_json" if exc.field == "<json>" else "contract_violation"
    return type(exc).__name__


@dataclass
class Decoded:
    """A decoded batch: its valid rows (mapping fields still as key and value lists) and its rejects."""

    frame: pl.DataFrame
    projection: str  # SQL over `frame` giving exactly the raw table's columns and types
    count: int
    rejected: list[RejectedRecord]
    content_dropped: int

    @contextmanager
    def registered(self, con: duckdb.DuckDBPyConnection) -> Iterator[str]:
        """The rows as a SQL relation of `con`, for as long as the block runs."""
        con.register("tw_batch", self.frame)
        try:
            yield f"(SELECT {self.projection} FROM tw_batch)"
        finally:
            con.unregister("tw_batch")


class BatchDecoder:
    """Turns a batch of Kafka records into rows of the contract's table plus the rejected records.

    The batch is parsed and checked column by column (``landing.columnar``); only the records that
    check cannot vouch for are validated one by one by pydantic, which decides and explains.
    """

    def __init__(
        self,
        contract: TableContract,
        topic: str,
        max_event_bytes: int | None = None,
        window: EventWindow | None = None,
    ) -> None:
        self.contract = contract
        self.topic = topic
        # An event is a few hundred bytes; anything past the limit is a bug or content that slipped through.
        self.max_event_bytes = max_event_bytes or env.max_event_bytes()
        self.window = window
        self.slow_rows = 0  # rows validated by pydantic, for benchmarks and tests

    def decode(self, records: Records, landed_at: datetime) -> Decoded:
        values = records.values
        raw = pa.array(values, pa.binary())
        sizes = pc.binary_length(raw)
        rejected: dict[int, RejectedRecord] = {}
        slow: list[int] = []
        unfit = pc.fill_null(pc.or_(pc.equal(sizes, 0), pc.greater(sizes, self.max_event_bytes)), True)
        if pc.any(unfit).as_py():
            for i in pc.indices_nonzero(unfit).to_pylist():
                where = (records.partitions[i], records.offsets[i], records.keys[i])
                if not values[i]:
                    rejected[i] = RejectedRecord(*where, values[i], "empty", "empty message")
                else:
                    rejected[i] = RejectedRecord(
                        *where,
                        keepable(values[i]),
                        "oversized",
                        f"message of {len(values[i])} bytes exceeds the {self.max_event_bytes}-byte limit",
                    )
            raw = pc.if_else(unfit, pa.scalar(None, pa.binary()), raw)
        try:
            text = raw.cast(pa.string())
        except pa.ArrowInvalid:  # some value is not UTF-8: pydantic names the problem
            keep = [v if i not in rejected and _is_utf8(v) else None for i, v in enumerate(values)]
            slow = [i for i, v in enumerate(keep) if v is None and i not in rejected]
            text = pa.array(keep, pa.binary()).cast(pa.string())
        lines = pl.Series("value", text)
        eligible = fast_path_shape(lines)
        slow.extend((~eligible & lines.is_not_null()).arg_true().to_list())
        check = self.contract.check
        kafka = pl.DataFrame(
            {
                "i": pl.int_range(len(values), dtype=pl.Int32, eager=True),
                "kafka_partition": pl.Series(records.partitions, dtype=pl.Int32),
                "kafka_offset": pl.Series(records.offsets, dtype=pl.Int64),
            }
        )
        checked: list[pl.DataFrame] = []
        chunks = [(eligible.arg_true(), False)]
        while chunks:
            idx, screened = chunks.pop()
            try:
                parsed = parse_chunk(check, lines.gather(idx))
                checked.append(check.apply(pl.concat([parsed, kafka[idx]], how="horizontal"), self.topic, landed_at))
            except (Exception, PanicException):
                # A line that is not JSON spoils its whole chunk: set aside every such line in one pass and read
                # the rest again. Should that still fail (anything else polars chokes on), halve until the
                # culprit is isolated. pydantic then decides the lines set aside, one by one.
                bad = unreadable(lines.gather(idx)) if not screened else None
                if bad is not None and bad.any():
                    slow.extend(idx.filter(bad).to_list())
                    chunks.append((idx.filter(~bad), True))
                elif len(idx) <= MIN_CHUNK:
                    slow.extend(idx.to_list())
                else:
                    half = len(idx) // 2
                    chunks += [(idx[:half], True), (idx[half:], True)]
        frame = pl.concat(checked) if checked else None
        if frame is not None:
            slow.extend(frame.filter(~pl.col("ok"))["i"].to_list())
            frame = frame.filter(pl.col("ok")).drop("i", "ok")
        content_dropped = 0
        if slow:
            self.slow_rows += len(slow)
            one_by_one, content_dropped = self._validate_one_by_one(records, sorted(slow), rejected, landed_at)
            frame = one_by_one if frame is None else pl.concat([frame, one_by_one], how="diagonal_relaxed")
        if frame is None:
            frame = self._frame({c: [] for c in check.outputs})
        if self.window is not None and frame.height:
            frame = self._reject_outside_window(frame, records, rejected, landed_at)
        return Decoded(
            frame, check.projection, len(values) - len(rejected), [rejected[i] for i in sorted(rejected)], content_dropped
        )

    def _reject_outside_window(
        self, frame: pl.DataFrame, records: Records, rejected: dict[int, RejectedRecord], landed_at: datetime
    ) -> pl.DataFrame:
        """Dead-letter the rows whose time no daily partition will ever build (see EventWindow)."""
        assert self.window is not None
        when = self.contract.day_from
        latest = self.window.too_new(landed_at)
        too_new = pl.col(when) > latest
        too_old = pl.col("event_date") < self.window.first_day
        outside = frame.filter(too_new | too_old).select("kafka_partition", "kafka_offset", when)
        if not outside.height:
            return frame
        index = {(p, o): i for i, (p, o) in enumerate(zip(records.partitions, records.offsets, strict=True))}
        hours = self.window.max_ahead.total_seconds() / 3600
        for partition, offset, at in outside.iter_rows():
            i = index[(partition, offset)]
            if at > latest:
                reason = (
                    f"{when}: {at.isoformat()} is more than {hours:g} h ahead of the landing clock "
                    f"({landed_at.isoformat(timespec='seconds')}); TIERWISE_MAX_FUTURE_HOURS sets the limit"
                )
            else:
                reason = (
                    f"{when}: {at.isoformat()} is before TIERWISE_PARTITIONS_START ({self.window.first_day}); "
                    "no daily partition would ever count it"
                )
            rejected[i] = RejectedRecord(
                partition, offset, records.keys[i], keepable(records.values[i] or b""), "out_of_window", reason
            )
        return frame.filter(~(too_new | too_old))

    def decode_arrow(self, records: Records, landed_at: datetime) -> tuple[pa.Table, list[RejectedRecord], int]:
        """Decode into an Arrow table of the raw table's columns (for Parquet files)."""
        decoded = self.decode(records, landed_at)
        con = duckdb.connect()
        try:
            with decoded.registered(con) as rows:
                table = con.sql(f"SELECT * FROM {rows}").to_arrow_table()
        finally:
            con.close()
        return table.cast(self.contract.arrow_schema), decoded.rejected, decoded.content_dropped

    def _frame(self, cols: dict[str, list[Any]]) -> pl.DataFrame:
        return pl.DataFrame(cols, schema_overrides={"kafka_partition": pl.Int32, "kafka_offset": pl.Int64}, strict=False)

    def _validate_one_by_one(
        self, records: Records, indexes: list[int], rejected: dict[int, RejectedRecord], landed_at: datetime
    ) -> tuple[pl.DataFrame, int]:
        outputs = self.contract.check.outputs
        cols: dict[str, list[Any]] = {c: [] for c in outputs}
        payload = [c for c in outputs if c in self.contract.payload_columns]
        maps = [c.removesuffix("__keys") for c in outputs if c.endswith("__keys")]
        parse = self.contract.parse
        dropped = 0
        for i in indexes:
            value = records.values[i]
            try:
                event = parse(value)  # type: ignore[arg-type]
                row = event.to_row()
            except Exception as exc:  # whatever one record does, it is that record's dead letter
                rejected[i] = RejectedRecord(
                    records.partitions[i],
                    records.offsets[i],
                    records.keys[i],
                    keepable(value or b""),
                    _classify(exc),
                    _reason(exc),
                )
                continue
            dropped += event.content_fields_dropped
            for c in payload:
                cols[c].append(row[c])
            for m in maps:
                cols[f"{m}__keys"].append(list(row[m]) if row[m] else [])
                cols[f"{m}__values"].append(list(row[m].values()) if row[m] else [])
            cols["kafka_partition"].append(records.partitions[i])
            cols["kafka_offset"].append(records.offsets[i])
            cols["kafka_topic"].append(self.topic)
            cols["landed_at"].append(landed_at)
        return self._frame(cols), dropped


def _is_utf8(value: bytes | None) -> bool:
    if value is None:
        return False
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True
