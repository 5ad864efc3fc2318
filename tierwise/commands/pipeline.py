"""`tierwise run` and `tierwise status`."""

from __future__ import annotations

import json
import sys

import click

from core.settings import Settings
from landing.limits import DEFAULT_BATCH_SIZE
from pipelines.dbt_cli import DbtRunReport
from pipelines.run import RunSummary


def echo_landed(summary: RunSummary, indent: str = "", dlq_words: str = "rejected") -> None:
    for topic, n in summary.landed.items():
        click.echo(
            f"{indent}{topic}: landed {n}, duplicates dropped {summary.duplicates.get(topic, 0)}, "
            f"{dlq_words} {summary.rejected.get(topic, 0)}"
        )


def echo_dbt_run(report: DbtRunReport, indent: str = "") -> None:
    """One line per successful dbt run; a failed one is reported by the TierwiseError it raises."""
    if report.ok:
        click.echo(f"{indent}{report.line()}")


@click.command()
@click.option("--land-only", is_flag=True, help="Land pending events without building the marts.")
@click.option("--verbose", "-v", is_flag=True, help="Stream dbt's output (every node) instead of one line per dbt run.")
def run(land_only: bool, verbose: bool) -> None:
    """Land whatever is pending in Kafka, then build the marts for the days that changed.

    Each dbt run prints one line; its full log stays in $TIERWISE_HOME/dbt/<run id>/dbt.log.
    """
    from pipelines.run import run_pipeline
    from pipelines.run_progress import RunProgress

    # A live line on a terminal only: --verbose streams dbt's own lines, and logs and pipes want none.
    with RunProgress(enabled=sys.stderr.isatty() and not verbose) as progress:
        summary = run_pipeline(
            Settings.from_env(),
            build=not land_only,
            verbose=verbose,
            on_landed=echo_landed,
            on_dbt_run=echo_dbt_run,
            progress=progress,
        )
    if not land_only and not summary.built_ranges:
        click.echo("marts up to date: no day changed since the last build")
    if summary.skipped_days:
        click.echo(f"not built (before TIERWISE_PARTITIONS_START): {len(summary.skipped_days)} day(s)")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Per topic: landed rows, rejected rows, duplicates dropped, consumer lag, newest event time."""
    from reports.status import collect_status

    info = collect_status()
    if as_json:
        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    kafka = info.get("kafka", {})
    click.echo(f"home {info['home']}")
    click.echo(f"kafka {kafka.get('bootstrap') if kafka.get('reachable') else 'unreachable: ' + kafka.get('error', '')}")
    for topic, s in info["topics"].items():
        click.echo(
            f"{topic}: landed {s['landed_rows']}, rejected {s['rejected_rows']}, duplicates {s['duplicates_dropped']}, "
            f"lag {s['consumer_lag'] if s['consumer_lag'] is not None else '?'}, newest {s['newest_event_time'] or '-'}"
        )
    if info.get("dirty_days"):
        click.echo(f"days waiting for a rebuild: {', '.join(info['dirty_days'])}")


@click.command()
@click.option("--topic", "topics", multiple=True, help="Topic to land (repeatable; default: usage and GPU topics).")
@click.option("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, show_default=True, help="Records per DuckDB transaction.")
def land(topics: tuple[str, ...], batch_size: int) -> None:
    """Land pending events straight into the warehouse, without Dagster (what the landing assets run)."""
    from core.warehouse_lock import open_with_retry
    from landing.consumer import TopicLander
    from landing.lake import import_lake
    from landing.warehouse import connect
    from streaming.broker import resolve_bootstrap
    from streaming.topics import GPU_TOPIC, USAGE_TOPIC

    settings = Settings.from_env()
    settings.home.ensure()
    bootstrap = resolve_bootstrap(settings.home)
    names = list(topics) or [settings.topic(USAGE_TOPIC), settings.topic(GPU_TOPIC)]
    con = open_with_retry(lambda: connect(settings.warehouse))
    try:
        for topic in names:
            imported = import_lake(con, settings.home.lake, topic)
            if imported["files"]:
                click.echo(
                    f"{topic}: imported {imported['files']} lake file(s): landed {imported['landed']}, "
                    f"duplicates dropped {imported['duplicates']}, rejected {imported['rejected']}"
                )
            result = TopicLander(bootstrap, con, topic, batch_size=batch_size).land()
            click.echo(
                f"{topic}: landed {result.landed}, duplicates dropped {result.duplicates}, "
                f"rejected {result.rejected} in {result.batches} batch(es)"
            )
    finally:
        con.close()


@click.command()
@click.option("--topic", required=True, help="Topic this worker consumes, e.g. llm.usage.v1.")
@click.option("--group", default="tierwise-lake", show_default=True, help="Consumer group shared by all workers.")
@click.option("--batch-size", type=int, default=20_000, show_default=True, help="Records per Parquet file.")
@click.option("--idle-exit", type=float, default=None, help="Exit after this many idle seconds (default: run forever).")
def worker(topic: str, group: str, batch_size: int, idle_exit: float | None) -> None:
    """Scale-out landing: one of several processes writing Parquet files into $TIERWISE_HOME/lake.

    Workers never open DuckDB; `tierwise land` (or the landing asset) imports their files.
    """
    from landing.lake import LakeWorker
    from streaming.broker import resolve_bootstrap

    settings = Settings.from_env()
    settings.home.ensure()
    stats = LakeWorker(
        resolve_bootstrap(settings.home), settings.home.lake, topic, group=group, batch_size=batch_size, idle_exit_s=idle_exit
    ).run()
    click.echo(f"{topic}: wrote {stats.files} file(s), {stats.rows} rows, {stats.rejected} rejected")


COMMANDS: list[click.Command] = [run, status, land, worker]
