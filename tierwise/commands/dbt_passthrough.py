"""`tierwise dbt ARGS...`: dbt on tierwise's project and this home's warehouse, from any folder.

The same dbt, profile and warehouse the pipeline uses; dbt's own output and exit code come through.
A build run this way does not clear the dirty-day marks (`tierwise run` and the sensor do).
"""

from __future__ import annotations

import subprocess

import click

from core.home import warehouse_path
from core.settings import project_dir
from pipelines.dbt_cli import dbt_invocation


@click.command(
    name="dbt",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def dbt(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Run dbt on tierwise's project and warehouse, e.g. `tierwise dbt build --vars '{"start_date": "2026-03-01",
    "end_date": "2026-03-08"}'` (end exclusive). Arguments go to dbt as they are; its exit code is this one's."""
    if not args:
        args = ("--help",)
    cmd, env = dbt_invocation(list(args), warehouse_path())
    ctx.exit(subprocess.call(cmd, cwd=project_dir(), env=env))


COMMANDS: list[click.Command] = [dbt]
