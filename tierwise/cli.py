"""The `tierwise` command line: the user's front door."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

import click

from core import env
from core.errors import TierwiseError
from tierwise import __version__
from tierwise.commands import alerts, dbt_passthrough, decide, demo, events, ingest, kafka, money, pipeline, reports, weekly


@click.group()
@click.version_option(__version__, prog_name="tierwise")
def cli() -> None:
    """LLM usage telemetry and cost attribution across closed, hosted-open and self-hosted tiers.

    State lives under TIERWISE_HOME (default ./.tierwise). Set KAFKA_BOOTSTRAP_SERVERS to use an
    existing Kafka cluster instead of the local broker.
    """


cli.add_command(kafka.kafka)
for module in (events, ingest, pipeline, money, decide, reports, weekly, demo, dbt_passthrough, alerts):
    for command in module.COMMANDS:
        cli.add_command(command)


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM (a service manager, `kill`) stops a command the way Ctrl-C does: landing finishes or rolls
    # back its transaction, consumers close, a Dagster run ends as failed instead of staying STARTED.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a TierwiseError becomes one line on stderr and exit code 2, never a stack trace."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate)
    try:
        # Outside standalone mode click returns ctx.exit()'s code, or the command's return value (None).
        code = cli.main(args=argv, prog_name="tierwise", standalone_mode=False)
    except TierwiseError as exc:
        click.echo(f"tierwise: error: {exc}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("tierwise: interrupted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("tierwise: interrupted", err=True)
        return 130
    except Exception as exc:  # an unexpected failure: one line, the trace only on request
        if env.debug():
            raise
        click.echo(f"tierwise: internal error: {type(exc).__name__}: {exc} (set TIERWISE_DEBUG=1 for details)", err=True)
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
