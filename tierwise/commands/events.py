"""`tierwise emit | replay | simulate`: put usage events on Kafka from the command line."""

from __future__ import annotations

import logging
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from core import env
from core.errors import TierwiseError
from core.home import Home
from streaming.broker import probe_timeout, resolve_bootstrap, wait_for_metadata
from streaming.topics import GPU_TOPIC, USAGE_TOPIC, dlq_for, missing_topics

INCOMPLETE_EXIT = 3  # replay: some records were invalid, or none was sent


def _connect() -> tuple[Home, str]:
    """This home and a bootstrap address that answers, else a one-line error naming it."""
    home = Home.from_env().ensure()
    bootstrap = resolve_bootstrap(home)
    wait_for_metadata(bootstrap, timeout_s=probe_timeout())
    return home, bootstrap


def _event_from_flags(values: dict[str, Any], tags: tuple[str, ...]) -> dict[str, Any]:
    event = {k: v for k, v in values.items() if v is not None}
    event.setdefault("event_id", str(uuid.uuid4()))
    event.setdefault("event_time", datetime.now(UTC).isoformat())
    if tags:
        parsed: dict[str, str] = {}
        for tag in tags:
            key, sep, value = tag.partition("=")
            if not sep or not key:
                raise TierwiseError(f"--tag must look like key=value, got {tag!r}")
            parsed[key] = value
        event["tags"] = parsed
    return event


@click.command()
@click.option("--json", "json_text", default=None, help="The whole event as JSON; '-' reads it from stdin.")
@click.option("--workload", default=None, help="Workload the cost is attributed to.")
@click.option("--tier", type=click.Choice(["closed_api", "hosted_open_api", "self_hosted"]), default=None)
@click.option("--provider", default=None, help="e.g. openai, anthropic, google, together, vllm (tierwise's ids).")
@click.option("--model", default=None)
@click.option("--input-tokens", type=int, default=None)
@click.option("--output-tokens", type=int, default=None)
@click.option("--cached-input-tokens", type=int, default=None)
@click.option("--reasoning-tokens", type=int, default=None)
@click.option("--team", default=None)
@click.option("--environment", default=None)
@click.option("--deployment", default=None, help="Required for self_hosted.")
@click.option("--duration-ms", type=float, default=None)
@click.option("--status", type=click.Choice(["ok", "error"]), default=None)
@click.option("--error-type", default=None)
@click.option("--event-id", default=None, help="Default: a new UUID.")
@click.option("--event-time", default=None, help="RFC 3339 with offset. Default: now.")
@click.option("--tag", "tags", multiple=True, help="key=value, repeatable.")
@click.option("--topic", default=USAGE_TOPIC, show_default=True)
@click.option("--gpu-topic", default=GPU_TOPIC, show_default=True)
def emit(json_text: str | None, tags: tuple[str, ...], topic: str, gpu_topic: str, **flags: Any) -> None:
    """Validate one event and send it (a GPU heartbeat too, when the JSON has interval_start)."""
    import orjson

    from ingest.emitter import TelemetryEmitter
    from schemas import ContractError, is_gpu_heartbeat, parse_event

    if json_text is not None:
        text = sys.stdin.read() if json_text == "-" else json_text
        try:
            event = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise TierwiseError(f"--json is not valid JSON: {str(exc).splitlines()[0]}") from None
        if not isinstance(event, dict):
            raise TierwiseError("--json must be a JSON object")
    else:
        event = _event_from_flags(flags, tags)
    try:
        model = parse_event(event)
    except ContractError as exc:
        raise TierwiseError(f"invalid event: {exc}") from None
    home, bootstrap = _connect()
    target = gpu_topic if is_gpu_heartbeat(event) else topic
    missing = missing_topics(bootstrap, (target,))
    if not env.debug():
        # The outcome is reported below in one line; the emitter's own warnings would say it twice.
        logging.getLogger("tierwise.emitter").setLevel(logging.ERROR)
    emitter = TelemetryEmitter(bootstrap, topic=topic, gpu_topic=gpu_topic, spill_dir=home.spill)
    emitter.emit(model)
    emitter.close(timeout=probe_timeout())
    stats = emitter.stats()
    if stats.dropped:
        raise TierwiseError(f"event {model.event_id} could not be sent nor parked in {emitter.spill_dir}")
    if stats.spill_bytes:  # the new event is the newest: anything left in the spill includes it
        if missing:
            cause = f"topic {target} does not exist at {bootstrap} (create it with `tierwise kafka topics`)"
        else:
            cause = f"Kafka at {bootstrap} did not take it within {probe_timeout():.0f}s ({emitter.last_error or 'no ack'})"
        raise TierwiseError(
            f"event {model.event_id} not delivered: {cause}; it is parked in {emitter.spill_dir} "
            "and goes out first with the next `tierwise emit`"
        )
    earlier = stats.sent + stats.replayed - 1
    click.echo(f"sent {model.event_id} to {target} at {bootstrap}")
    if earlier > 0:
        click.echo(f"delivered {earlier} parked event(s) first, from {emitter.spill_dir}")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsonl", "csv", "otlp"]),
    default="auto",
    show_default=True,
    help="auto: .csv is CSV, a pretty-printed .json is one OTLP document, "
    "anything else JSON Lines (lines may be OTLP/JSON exports).",
)
@click.option("--topic", default=USAGE_TOPIC, show_default=True)
@click.option("--gpu-topic", default=GPU_TOPIC, show_default=True)
@click.option("--no-dlq", is_flag=True, help="Do not send invalid records to the dead-letter topics.")
@click.option("--show", "show", type=int, default=10, show_default=True, help="Invalid records to list.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def replay(files: tuple[Path, ...], fmt: str, topic: str, gpu_topic: str, no_dlq: bool, show: int, no_progress: bool) -> None:
    """Validate saved events (JSONL, CSV, OTLP/JSON) and send the valid ones; invalid ones go to the DLQ.

    Exit code 0 when every record was sent, 3 when some were invalid or none was sent, 2 on an error.
    """
    from ingest.emitter import TelemetryEmitter
    from ingest.replay import FileDeadLetters, replay_files, require_files

    paths = list(files)
    require_files(paths)  # before waiting for Kafka
    home, bootstrap = _connect()
    # A bounded queue that blocks the reader keeps memory flat for files of any size.
    emitter = TelemetryEmitter(
        bootstrap, topic=topic, gpu_topic=gpu_topic, spill_dir=home.spill, queue_size=10_000, block_when_full=True
    )
    dead = None if no_dlq else FileDeadLetters(bootstrap, dlq_for(topic), dlq_for(gpu_topic))
    try:
        summary = replay_files(
            paths, emitter.emit, dead, fmt=fmt, keep_reasons=show, progress=not no_progress and sys.stderr.isatty()
        )
    finally:
        emitter.close(timeout=60)
        if dead is not None:
            dead.close()
    stats = emitter.stats()
    click.echo(
        f"read {summary.read} record(s) from {summary.files} file(s): {summary.accepted} sent "
        f"({summary.gpu} GPU), {summary.invalid} invalid" + (f" (to {dlq_for(topic)})" if summary.dead_lettered else "")
    )
    if stats.spilled > stats.replayed:
        click.echo(f"Kafka fell behind: {stats.spilled - stats.replayed} event(s) wait in {emitter.spill_dir}")
    for r in summary.rejections:
        click.echo(f"  {r.file}:{r.line}: {r.reason}")
    if summary.invalid > len(summary.rejections):
        click.echo(f"  ... and {summary.invalid - len(summary.rejections)} more")
    if summary.invalid or not summary.accepted:
        # Scripts can tell a clean replay from one that left records behind (or sent nothing at all).
        click.get_current_context().exit(INCOMPLETE_EXIT)


@click.command()
@click.option("--days", type=click.IntRange(1, 3660), default=30, show_default=True)
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First simulated day (UTC). Default: the last --days days up to --end (today so far included).",
)
@click.option(
    "--end",
    metavar="YYYY-MM-DDTHH:MM",
    default=None,
    help="Simulate nothing at or after this time (UTC unless an offset is given; capped at now, the default). "
    "Give it (and --start) for reproducible output.",
)
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None, help="Average requests/s on the first day.")
@click.option(
    "--tokens-per-day",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Fleet tokens on the first day (default 100M). With --rate too, request sizes scale to match.",
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--dup-rate", type=click.FloatRange(0, 1), default=0.01, show_default=True)
@click.option("--late-rate", type=click.FloatRange(0, 1), default=0.02, show_default=True)
@click.option("--bad-rate", type=click.FloatRange(0, 1), default=0.002, show_default=True)
@click.option(
    "--gpu-interval", type=click.IntRange(1, 60), default=5, show_default=True, help="Minutes between GPU heartbeats."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write JSON Lines here instead of sending to Kafka.",
)
@click.option("--compression", type=click.Choice(["gzip", "none"]), default="gzip", show_default=True)
@click.option("--topic", default=USAGE_TOPIC, show_default=True)
@click.option("--gpu-topic", default=GPU_TOPIC, show_default=True)
def simulate(
    days: int,
    start: datetime | str | None,
    end: datetime | str | None,
    rate: float | None,
    tokens_per_day: float | None,
    seed: int,
    dup_rate: float,
    late_rate: float,
    bad_rate: float,
    gpu_interval: int,
    out: Path | None,
    compression: str,
    topic: str,
    gpu_topic: str,
) -> None:
    """Generate seeded, realistic traffic for all three tiers (the demo's data) and send or write it."""
    from ingest.simulator import SimConfig, resolve_volume, send_to_kafka, write_jsonl
    from pipelines.run_progress import hours_bar
    from streaming.topics import ensure_topics

    cfg = SimConfig(
        days=days,
        start=_as_date(start),
        end=_as_utc(end),
        rate=rate,
        tokens_per_day=tokens_per_day,
        seed=seed,
        dup_rate=dup_rate,
        late_rate=late_rate,
        bad_rate=bad_rate,
        gpu_interval_min=gpu_interval,
    )
    try:
        cfg = cfg.resolved(datetime.now(UTC))  # never simulate the future
    except ValueError as exc:
        raise TierwiseError(str(exc)) from None
    assert cfg.start is not None and cfg.end is not None
    req_s, scale = resolve_volume(cfg)
    click.echo(
        f"simulating {describe_window(cfg.start, cfg.end)} at {req_s:.3f} requests/s (token scale {scale:.2f}), seed {seed}"
    )
    show = sys.stderr.isatty()  # a bar of simulated hours, on a terminal only
    if out is not None:
        try:
            with hours_bar(show) as on_hour:
                summary = write_jsonl(cfg, str(out), on_hour)
        except OSError as exc:
            raise TierwiseError(f"cannot write {out}: {exc.strerror or exc}") from None
        where = str(out)
    else:
        _, bootstrap = _connect()
        ensure_topics(bootstrap, topics=(topic, gpu_topic, dlq_for(topic), dlq_for(gpu_topic)))
        with hours_bar(show) as on_hour:
            summary = send_to_kafka(cfg, bootstrap, topic, gpu_topic, None if compression == "none" else compression, on_hour)
        where = f"{topic} / {gpu_topic} at {bootstrap}"
    rate_s = summary.total / summary.seconds if summary.seconds else 0.0
    click.echo(
        f"{summary.total} messages to {where} in {summary.seconds:.1f}s ({rate_s:,.0f}/s): "
        f"{summary.usage} usage (incl. {summary.dup} duplicates, {summary.late} late), "
        f"{summary.gpu} GPU heartbeats, {summary.bad} malformed"
    )


def describe_window(start: date, end: datetime) -> str:
    """'2026-10-30 00:00 .. 2026-11-28 14:37 UTC (30 days)': the days the marts will show."""
    from ingest.simulator import last_day

    days = (last_day(end) - start).days + 1
    return f"{start} 00:00 .. {end.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({days} day{'s' if days != 1 else ''})"


def _as_utc(value: datetime | str | None) -> datetime | None:
    """--end as an ISO time (naive means UTC), or a datetime passed by `ctx.invoke`."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError:
            raise TierwiseError(f"--end must be a time like 2026-03-01T12:00 (UTC), got {value!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _as_date(value: datetime | date | str | None) -> date | None:
    """--start as parsed by click, or as passed by `ctx.invoke` (which skips conversion: a str)."""
    if value is None or type(value) is date:
        return value
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise TierwiseError(f"--start must be a date like 2026-03-01, got {value!r}") from None


COMMANDS: list[click.Command] = [emit, replay, simulate]
