"""``tierwise replay FILE...``: load saved events (JSONL, CSV, OTLP/JSON) through the emitter.

Files are streamed record by record (constant memory whatever their size). Each record is validated
against the contract; valid ones go through the same ``TelemetryEmitter`` path as live traffic (so a
broker outage during a replay spills and recovers like any other), invalid ones go to the dead-letter
topic with Kafka Connect error headers, and the summary names their file and line.

Formats, by extension unless given: ``.csv`` is CSV with a header row of field names (``tags`` as a
JSON object string, empty cells are missing values); anything else is JSON Lines, where a line holding
an OTLP/JSON export (``{"resourceSpans": [...]}``, as the OpenTelemetry Collector's file exporter
writes them) is converted span by span with the OTLP adapter. A ``.json`` file holding one pretty-
printed OTLP document is read whole.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from core.errors import TierwiseError
from schemas import is_gpu_heartbeat, parse_event, scrub_raw
from streaming.clients import close_producer, reliable_producer
from streaming.dlq import dlq_headers

STAGE = "validation"
SOURCE = "tierwise-replay"

# CSV cells are text; the contract's numbers and flags are strict, so convert the known ones.
_INT_FIELDS = frozenset(
    {"input_tokens", "output_tokens", "cached_input_tokens", "cache_creation_input_tokens", "reasoning_tokens", "gpu_count"}
)
_FLOAT_FIELDS = frozenset({"duration_ms", "ttft_ms", "eval_score", "utilization"})
_BOOL_FIELDS = frozenset({"batch", "shadow"})
_JSON_FIELDS = frozenset({"tags"})
_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


@dataclass
class Record:
    """One record read from a file: a decoded object or the reason it could not be decoded."""

    line: int
    raw: bytes
    obj: Any = None  # dict for JSON/CSV, a validated event from the OTLP adapter
    error: Exception | None = None


@dataclass
class LineRejection:
    file: str
    line: int
    reason: str


@dataclass
class ReplaySummary:
    read: int = 0
    accepted: int = 0
    gpu: int = 0
    invalid: int = 0
    dead_lettered: int = 0
    files: int = 0
    rejections: list[LineRejection] = field(default_factory=list)

    def note(self, rejection: LineRejection, keep: int) -> None:
        self.invalid += 1
        if len(self.rejections) < keep:
            self.rejections.append(rejection)


def detect_format(path: Path, fmt: str = "auto") -> str:
    if fmt != "auto":
        return fmt
    if path.suffix.lower() == ".csv":
        return "csv"
    if path.suffix.lower() == ".json":
        # One line that is a whole JSON value means JSON Lines; otherwise a pretty-printed document.
        with open(path, "rb") as fh:
            first = fh.readline().strip()
        try:
            orjson.loads(first)
        except orjson.JSONDecodeError:
            return "otlp"
    return "jsonl"


def read_records(path: Path, fmt: str, on_bytes: Callable[[int], None] | None = None) -> Iterator[Record]:
    """Stream the file's records; ``on_bytes`` reports progress in bytes read."""
    if fmt == "csv":
        yield from _read_csv(path, on_bytes)
    elif fmt == "otlp":
        yield from _read_otlp_document(path, on_bytes)
    else:
        yield from _read_jsonl(path, on_bytes)


def _read_jsonl(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[Record]:
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, start=1):
            if on_bytes:
                on_bytes(len(line))
            line = line.strip()
            if not line:
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield Record(n, line, error=_json_error(exc))
                continue
            if isinstance(obj, dict) and "resourceSpans" in obj:
                yield from _otlp_records(n, line, obj)
            else:
                yield Record(n, line, obj)


def _read_otlp_document(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[Record]:
    raw = path.read_bytes()
    if on_bytes:
        on_bytes(len(raw))
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        yield Record(1, raw[:2000], error=_json_error(exc))
        return
    yield from _otlp_records(1, raw[:0], doc)


def _otlp_records(line: int, raw: bytes, doc: Any) -> Iterator[Record]:
    from ingest.adapters import events_from_otlp_json

    try:
        for out in events_from_otlp_json(doc):
            if isinstance(out, Exception):
                yield Record(line, raw, error=out)
            else:
                yield Record(line, out.model_dump_json().encode(), obj=out)
    except Exception as exc:  # the whole document is unusable
        yield Record(line, raw, error=exc)


def _read_csv(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[Record]:
    with open(path, "rb") as binary:
        counting = _CountingReader(binary, on_bytes)
        text = io.TextIOWrapper(counting, encoding="utf-8", newline="")
        reader = csv.DictReader(text)
        if not reader.fieldnames:
            return
        for row in reader:
            line = reader.line_num
            obj: dict[str, Any] = {}
            try:
                for key, cell in row.items():
                    if key is None:
                        raise ValueError(f"line has more cells than the header's {len(reader.fieldnames)} columns")
                    if cell is None or cell == "":
                        continue
                    obj[key] = _csv_value(key, cell)
            except ValueError as exc:
                yield Record(line, orjson.dumps(row, default=str), error=_contract("<csv>", str(exc)))
                continue
            yield Record(line, orjson.dumps(obj), obj)


def _csv_value(key: str, cell: str) -> Any:
    """Convert a cell to the type the contract expects; leave it as text when it does not parse, so
    the contract names the field in its error."""
    try:
        if key in _INT_FIELDS:
            return int(cell)
        if key in _FLOAT_FIELDS:
            return float(cell)
        if key in _BOOL_FIELDS and cell.strip().lower() in _TRUE | _FALSE:
            return cell.strip().lower() in _TRUE
        if key in _JSON_FIELDS:
            return orjson.loads(cell)
    except (ValueError, orjson.JSONDecodeError):
        return cell
    return cell


class _CountingReader(io.RawIOBase):
    """Reports bytes as the CSV reader consumes them, for the progress bar."""

    def __init__(self, inner: Any, on_bytes: Callable[[int], None] | None) -> None:
        self._inner, self._on_bytes = inner, on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        if self._on_bytes and data:
            self._on_bytes(len(data))
        return len(data)


def _contract(field_name: str, reason: str) -> Exception:
    from schemas import ContractError

    return ContractError(field_name, reason)


def _json_error(exc: Exception) -> Exception:
    return _contract("<json>", f"not valid JSON ({str(exc).splitlines()[0][:120]})")


def validate(record: Record) -> tuple[Any, bool]:
    """The validated event and whether it is a GPU heartbeat; raises ContractError."""
    from schemas import ContractError, GpuUsage, UsageEvent

    if record.error is not None:
        raise record.error
    obj = record.obj
    if isinstance(obj, (UsageEvent, GpuUsage)):
        return obj, isinstance(obj, GpuUsage)
    if not isinstance(obj, dict):
        raise ContractError("<root>", f"must be a JSON object (got {type(obj).__name__})")
    return parse_event(obj), is_gpu_heartbeat(obj)


class FileDeadLetters:
    """Sends rejected records to the dead-letter topics with the reason in Connect headers."""

    def __init__(self, bootstrap: str, usage_dlq: str, gpu_dlq: str) -> None:
        self.usage_dlq, self.gpu_dlq = usage_dlq, gpu_dlq
        self._producer = reliable_producer(bootstrap, client_id="tierwise-replay-dlq", linger_ms=20, max_block_ms=10_000)
        self.sent = 0

    def send(self, record: Record, exc: Exception, gpu: bool, file: str) -> None:
        from kafka.errors import KafkaError

        topic = self.gpu_dlq if gpu else self.usage_dlq
        headers = dlq_headers(type(exc).__name__, f"{file}:{record.line}: {exc}", stage=STAGE, source=SOURCE)
        try:
            # Kept for repair, but never with request/response text in it.
            self._producer.send(topic, value=scrub_raw(record.raw) if record.raw else b"{}", headers=headers)
        except KafkaError as err:
            raise TierwiseError(f"cannot dead-letter to {topic}: {type(err).__name__}: {err}") from None
        self.sent += 1

    def close(self, timeout: float = 30.0) -> None:
        from kafka.errors import KafkaError

        try:
            self._producer.flush(timeout)
        except KafkaError as err:
            raise TierwiseError(f"dead letters not acknowledged within {timeout:.0f}s: {err}") from None
        finally:
            close_producer(self._producer)


def replay_files(
    paths: list[Path],
    emit: Callable[[Any], bool],
    dead_letters: FileDeadLetters | None = None,
    *,
    fmt: str = "auto",
    keep_reasons: int = 20,
    progress: bool = True,
) -> ReplaySummary:
    """Validate every record of ``paths``; hand valid events to ``emit``, dead-letter the rest."""
    require_files(paths)
    summary = ReplaySummary()
    with _progress(paths, progress) as advance:
        for path in paths:
            kind = detect_format(path, fmt)
            summary.files += 1
            for record in read_records(path, kind, on_bytes=advance):
                summary.read += 1
                try:
                    event, gpu = validate(record)
                except Exception as exc:
                    summary.note(LineRejection(str(path), record.line, _reason(exc)), keep_reasons)
                    if dead_letters is not None:
                        dead_letters.send(record, exc, is_gpu_heartbeat(record.obj), path.name)
                        summary.dead_lettered += 1
                    continue
                if emit(event):
                    summary.accepted += 1
                    summary.gpu += gpu
    return summary


def require_files(paths: list[Path]) -> None:
    """Refuse the whole replay up front when a path is not a file (nothing sent yet)."""
    for path in paths:
        if not path.is_file():
            raise TierwiseError(f"cannot replay {path}: no such file")


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class _progress:
    """A rich progress bar over the files' total bytes (a no-op when disabled)."""

    def __init__(self, paths: list[Path], enabled: bool) -> None:
        self.enabled = enabled
        self.total = sum(p.stat().st_size for p in paths)
        self._bar: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        if not self.enabled:
            return None
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(TextColumn("replaying"), BarColumn(), DownloadColumn(), TimeRemainingColumn(), transient=True)
        self._bar.start()
        task = self._bar.add_task("replay", total=self.total)
        bar = self._bar
        return lambda n: bar.advance(task, n)

    def __exit__(self, *_exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
