"""`tierwise demo` (what `make demo` runs) and `tierwise ui`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from core.home import Home, config_path, config_path_is_explicit
from core.settings import Settings
from pipelines.instance import use_home_for_dagster
from tierwise.commands.weekly import DASHBOARD_PORT
from tierwise.ui_port import DEFAULT_UI_PORT, choose_ui_port

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "decisions" / "demo.yaml"


@click.command()
@click.option("--days", type=click.IntRange(1, 3660), default=30, show_default=True, help="Days of simulated traffic.")
@click.option("--seed", type=int, default=7, show_default=True, help="Simulator seed (same seed, same events).")
@click.option("--verbose", "-v", is_flag=True, help="Stream dbt's output (every node) instead of one line per dbt run.")
@click.pass_context
def demo(ctx: click.Context, days: int, seed: int, verbose: bool) -> None:
    """Broker up, topics, a month of simulated traffic, landing, dbt build, spend and tier recommendations."""
    from ingest.simulator import SimConfig, last_day
    from pipelines.run import run_pipeline
    from pipelines.run_progress import RunProgress
    from streaming.broker import LocalBroker
    from streaming.topics import ensure_topics
    from tierwise.commands.pipeline import echo_dbt_run, echo_landed

    settings = Settings.from_env()
    settings.home.ensure()
    status = LocalBroker(settings.home).up()
    click.echo(f"[1/5] Kafka: {status.describe()}")
    ensure_topics(status.bootstrap or "")
    # The simulated month ends now: whole days up to yesterday, then today so far (SimConfig.resolved says
    # why), so the marts show no spend in hours that have not happened yet. One clock read for all steps.
    window = SimConfig(days=days).resolved(datetime.now(UTC))
    assert window.start is not None and window.end is not None
    click.echo(f"[2/5] simulating the last {days} days of traffic up to now (seed {seed})")
    root = ctx.find_root().command
    assert isinstance(root, click.Group)
    ctx.invoke(root.commands["simulate"], days=days, start=window.start.isoformat(), end=window.end.isoformat(), seed=seed)
    config = install_demo_config(settings.home)
    click.echo(f"[3/5] landing from Kafka and building the marts (workload config: {config})")
    with RunProgress(enabled=sys.stderr.isatty() and not verbose) as progress:
        run_pipeline(
            settings,
            verbose=verbose,
            on_landed=lambda s: echo_landed(s, "      ", "rejected to the DLQ"),
            on_dbt_run=lambda r: echo_dbt_run(r, "      "),
            progress=progress,
        )
    last = last_day(window.end)
    click.echo(f"[4/5] spend per workload and tier, {window.start} .. {last} (today so far included)")
    # spend's --to is exclusive: the day after the last one, so today's spend so far is in the table.
    ctx.invoke(
        root.commands["spend"],
        by="workload,tier",
        date_from=window.start.isoformat(),
        date_to=(last + timedelta(days=1)).isoformat(),
        as_json=False,
    )
    click.echo("\n[5/5] tier recommendations (tier_recommendation mart; `tierwise recommend --json` for every number)")
    ctx.invoke(root.commands["recommend"], workload=None, scenario=None, as_json=False)
    click.echo(
        "\nAlerts this traffic triggered (sent to the log by the default rules; `tierwise alerts --json`, docs/alerts.md)"
    )
    ctx.invoke(root.commands["alerts"], as_json=False, limit=20)
    click.echo(
        f"\nThe broker is still running (stop it with `make down`); the warehouse is {settings.warehouse}.\n"
        "Try `tierwise spend --by team,month`, `tierwise recommend`, `tierwise breakeven --preset article`,\n"
        "`tierwise latency`, `tierwise unpriced`, `tierwise shadow`, `tierwise status`, `tierwise alerts`,\n"
        "or `make ui` for the Dagster UI."
    )
    root_report = root.commands["report"]
    click.echo("\nThe weekly report of the last full week:")
    ctx.invoke(root_report, week=None, out=None, no_kafka=False)
    click.echo(
        f"\nThe FinOps dashboard: start it with `.venv/bin/tierwise dashboard` (or `make dashboard`), "
        f"then open http://127.0.0.1:{DASHBOARD_PORT}"
    )


def install_demo_config(home: Home) -> Path:
    """The config the demo's recommendations use: TIERWISE_CONFIG or the home's tierwise.yaml when either
    exists, else a copy of the demo organization's (decisions/demo.yaml) written to the home."""
    path = config_path(home)
    if not path.exists() and not config_path_is_explicit():
        shutil.copyfile(DEMO_CONFIG, path)
    return path


@click.command()
@click.option(
    "--port", type=int, default=DEFAULT_UI_PORT, show_default=True, help="A busy default moves to the next free port."
)
@click.pass_context
def ui(ctx: click.Context, port: int) -> None:
    """The Dagster UI and daemon (sensors) for this TIERWISE_HOME."""
    explicit = ctx.get_parameter_source("port") is not click.core.ParameterSource.DEFAULT
    chosen = choose_ui_port(port, explicit)
    if chosen != port:
        click.echo(f"port {port} is in use; using {chosen}")
    port = chosen
    from pipelines.defs.dbt.project import prepare_manifest

    settings = Settings.from_env()
    dagster_home = use_home_for_dagster(settings)
    prepare_manifest()  # the definitions read dbt's manifest as they load
    # `dagster dev` makes its code server re-parse the dbt project (DbtProject.prepare_if_dev), and the dbt
    # profile takes the warehouse from TIERWISE_WAREHOUSE: without it the code location fails to load.
    os.environ["TIERWISE_WAREHOUSE"] = str(settings.warehouse)
    cmd = [
        os.path.join(os.path.dirname(sys.executable), "dagster"),
        "dev",
        "-m",
        "pipelines.definitions",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    click.echo(f"DAGSTER_HOME={dagster_home}; UI on http://127.0.0.1:{port}")
    raise SystemExit(subprocess.call(cmd))


COMMANDS: list[click.Command] = [demo, ui]
