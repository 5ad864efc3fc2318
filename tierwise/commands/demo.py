"""`tierwise demo` (what `make demo` runs) and `tierwise ui`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import click

from pipelines.settings import Settings, use_home_for_dagster


@click.command()
@click.option("--days", type=int, default=30, show_default=True, help="Days of simulated traffic.")
@click.option("--seed", type=int, default=7, show_default=True, help="Simulator seed (same seed, same events).")
@click.pass_context
def demo(ctx: click.Context, days: int, seed: int) -> None:
    """Broker up, topics, a month of simulated traffic, landing, dbt build, spend summary."""
    from ingest.broker import LocalBroker
    from ingest.topics import ensure_topics
    from tierwise.runner import run_pipeline

    settings = Settings.from_env()
    settings.home.ensure()
    status = LocalBroker(settings.home).up()
    click.echo(f"[1/4] Kafka: {status.describe()}")
    ensure_topics(status.bootstrap or "")
    # The simulated month ends today (UTC) so the marts' daily partitions cover it.
    start = datetime.now(UTC).date() - timedelta(days=days - 1)
    click.echo(f"[2/4] simulating {days} days of traffic from {start} (seed {seed})")
    root = ctx.find_root().command
    assert isinstance(root, click.Group)
    ctx.invoke(root.commands["simulate"], days=days, start=start.isoformat(), seed=seed)
    click.echo("[3/4] landing from Kafka and building the marts")
    summary = run_pipeline(settings)
    for topic, n in summary.landed.items():
        click.echo(f"      {topic}: landed {n}, duplicates dropped {summary.duplicates.get(topic, 0)}, "
                   f"rejected to the DLQ {summary.rejected.get(topic, 0)}")  # fmt: skip
    click.echo("[4/4] spend per workload and tier over the simulated period")
    ctx.invoke(root.commands["spend"], by="workload,tier", date_from=start.isoformat(),
               date_to=date.today().isoformat(), as_json=False)  # fmt: skip
    click.echo(
        f"\nThe broker is still running (stop it with `make down`); the warehouse is {settings.warehouse}.\n"
        "Try `tierwise spend --by team,month`, `tierwise status`, or `make ui` for the Dagster UI."
    )


@click.command()
@click.option("--port", type=int, default=3000, show_default=True)
def ui(port: int) -> None:
    """The Dagster UI and daemon (sensors) for this TIERWISE_HOME."""
    dagster_home = use_home_for_dagster(Settings.from_env())
    cmd = [os.path.join(os.path.dirname(sys.executable), "dagster"), "dev", "-m", "pipelines.definitions",
           "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
    click.echo(f"DAGSTER_HOME={dagster_home}; UI on http://127.0.0.1:{port}")
    raise SystemExit(subprocess.call(cmd))


COMMANDS: list[click.Command] = [demo, ui]
