"""`tierwise report` (the weekly "should we switch tiers" report) and `tierwise dashboard` (the FinOps pages)."""

from __future__ import annotations

from pathlib import Path

import click

from core.home import Home, warehouse_path
from core.settings import Settings


@click.command()
@click.option("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W48 (default: the last full week).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the .md and .html files (default: $TIERWISE_HOME/reports).",
)
@click.option("--no-kafka", is_flag=True, help="Do not ask Kafka for the consumer lag (the report says it was not asked).")
def report(week: str | None, out: Path | None, no_kafka: bool) -> None:
    """The weekly report: spend and its change by tier and team, top movers, the recommendation of every workload
    with its break-even chart and migration readiness, the assumptions and the data quality; Markdown and HTML."""
    from reports.status import kafka_lag
    from reports.weekly import collect, week_default
    from reports.weekly_render import write
    from reports.weeks import IsoWeek
    from streaming.topics import GPU_TOPIC, USAGE_TOPIC

    chosen = IsoWeek.parse(week) if week else week_default()
    settings = Settings.from_env()
    topics = [settings.topic(USAGE_TOPIC), settings.topic(GPU_TOPIC)]
    lag = None if no_kafka else kafka_lag(settings.home, topics)
    result = collect(warehouse_path(), chosen, lag=lag)
    md, html = write(result, out or Home.from_env().reports)
    click.echo(f"weekly report {chosen} ({chosen.start} .. {chosen.end}, end exclusive)")
    click.echo(f"  {md}")
    click.echo(f"  {html}  (opens offline in any browser)")


COMMANDS: list[click.Command] = [report]
