"""`tierwise report` (the weekly "should we switch tiers" report) and `tierwise dashboard` (the FinOps pages)."""

from __future__ import annotations

from pathlib import Path

import click

from core.home import Home, warehouse_path
from core.settings import Settings

DASHBOARD_PORT = 8050


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


@click.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=DASHBOARD_PORT,
    show_default=True,
    help="A busy default moves to the next free port.",
)
@click.pass_context
def dashboard(ctx: click.Context, port: int) -> None:
    """The FinOps dashboard on http://127.0.0.1:PORT: spend over time, top movers, month-to-date burn, break-even
    and recommendations, latency, data quality. Reads the warehouse read-only; never blocks a pipeline run."""
    import uvicorn

    from reports.dashboard.app import create_app
    from reports.status import kafka_lag
    from streaming.topics import GPU_TOPIC, USAGE_TOPIC
    from tierwise.ui_port import choose_ui_port

    explicit = ctx.get_parameter_source("port") is not click.core.ParameterSource.DEFAULT
    chosen = choose_ui_port(port, explicit)
    if chosen != port:
        click.echo(f"port {port} is in use; using {chosen}")
    settings = Settings.from_env()
    topics = [settings.topic(USAGE_TOPIC), settings.topic(GPU_TOPIC)]
    app = create_app(warehouse_path(), lag=lambda: kafka_lag(settings.home, topics))
    click.echo(f"tierwise dashboard on http://127.0.0.1:{chosen} (warehouse {warehouse_path()}); Ctrl-C stops it")
    uvicorn.run(app, host="127.0.0.1", port=chosen, log_level="warning")


COMMANDS: list[click.Command] = [report, dashboard]
