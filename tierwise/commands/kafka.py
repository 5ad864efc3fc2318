"""`tierwise kafka up | down | status | topics`: the local broker and the topics."""

from __future__ import annotations

import click

from core.home import Home
from streaming.broker import LocalBroker, resolve_bootstrap
from streaming.topics import ALL_TOPICS, ensure_topics

STOPPED_EXIT = 3  # LSB init-script convention for "program is not running"


def _home_topics() -> tuple[str, ...]:
    """The four tierwise topics under this environment's TIERWISE_TOPIC_PREFIX."""
    from core.settings import Settings

    settings = Settings.from_env()
    return tuple(settings.topic(t) for t in ALL_TOPICS)


@click.group()
def kafka() -> None:
    """Run the local single-node KRaft broker and manage topics."""


@kafka.command()
@click.option("--port", type=int, default=None, help="Listener port (default: the last one used, else a free one).")
@click.option("--heap", default=None, help="JVM heap, e.g. 512m (env TIERWISE_KAFKA_HEAP).")
@click.option("--data-dir", type=click.Path(), default=None, help="Log directory (env TIERWISE_KAFKA_DATA).")
@click.option("--timeout", type=float, default=90.0, show_default=True, help="Seconds to wait for the broker.")
def up(port: int | None, heap: str | None, data_dir: str | None, timeout: float) -> None:
    """Start the broker (harmless when it already runs) and wait until it answers."""
    home = Home.from_env().ensure()
    status = LocalBroker(home, heap=heap, data_dir=data_dir).up(port=port, timeout_s=timeout)
    click.echo(status.describe())
    # The broker does not auto-create topics: without them the first emit has nowhere to go.
    created = ensure_topics(status.bootstrap or "", topics=_home_topics())
    if created:
        click.echo(f"topics created: {', '.join(created)}")


@kafka.command()
def down() -> None:
    """Stop this home's broker by its pid."""
    home = Home.from_env()
    stopped = LocalBroker(home).down()
    click.echo("stopped" if stopped else "no local broker was running")


@kafka.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Say whether the broker runs and where; exit code 3 when it is stopped (as service managers do)."""
    state = LocalBroker(Home.from_env()).status()
    click.echo(state.describe())
    if not state.running:
        ctx.exit(STOPPED_EXIT)


@kafka.command()
@click.option("--partitions", type=int, default=None, help="Partitions for new topics (default 6).")
def topics(partitions: int | None) -> None:
    """Create the tierwise topics that are missing."""
    bootstrap = resolve_bootstrap(Home.from_env())
    created = ensure_topics(bootstrap, partitions=partitions, topics=_home_topics())
    click.echo(f"created: {', '.join(created)}" if created else "all topics exist")


@kafka.command()
def fetch() -> None:
    """Resolve the broker jars from Maven Central (once; later runs reuse them)."""
    from streaming.broker import ensure_jars

    click.echo(f"Kafka jars in {ensure_jars()}")
