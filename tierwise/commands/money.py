"""`tierwise spend`, `tierwise export focus` and `tierwise prices import litellm`: the money commands.

They read what dbt computed (spend_daily, focus_cost_and_usage) or feed its price catalog; no cost is
computed here.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
import duckdb

from core.errors import TierwiseError
from core.home import Home, warehouse_path
from core.warehouse_lock import open_with_retry
from landing import prices
from landing.dirty_days import dirty_days_in
from landing.warehouse import connect
from pipelines.defs.prices import announce_price_import
from reports import focus
from reports.spend import SpendQuery, parse_by, query_spend, to_json_rows
from reports.tables import Column, key_column, render_csv, render_table
from tierwise.commands.options import format_option, from_option, json_option, to_option


def parse_day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise TierwiseError(f"{option} {text!r} is not a date: use YYYY-MM-DD") from exc


SPEND_MEASURES = [
    # in the order they give way when the table is too wide (the last goes first)
    Column("cost_usd", kind="money", total=True, null="unpriced"),
    Column("requests", kind="count", total=True),
    Column("error_requests", "errors", kind="count", total=True),
    Column("unpriced_requests", "unpriced", kind="count", total=True),
    Column("token_cost_usd", "token_cost", kind="money", total=True),
    Column("gpu_cost_usd", "gpu_cost", kind="money", total=True),
    Column("ops_cost_usd", "ops_cost", kind="money", total=True),
    Column("tokens_input", "input", kind="count", total=True),
    Column("tokens_output", "output", kind="count", total=True),
    Column("tokens_cache_read", "cache_read", kind="count", total=True),
    Column("tokens_cache_creation", "cache_write", kind="count", total=True),
    Column("tokens_reasoning", "reasoning", kind="count", total=True),
]


@click.command()
@click.option(
    "--by",
    "by",
    default="workload,day",
    show_default=True,
    help="Comma-separated keys: workload, team, tier, provider, model, day, month.",
)
@from_option
@to_option
@format_option
@json_option
def spend(by: str, date_from: str | None, date_to: str | None, fmt: str, as_json: bool) -> None:
    """Show LLM spend (USD) with its split (token, GPU, ops), requests, errors and tokens, from spend_daily."""
    keys = parse_by(by)
    query = SpendQuery(by=keys, date_from=parse_day(date_from, "--from"), date_to=parse_day(date_to, "--to"))
    rows = query_spend(warehouse_path(), query)
    fmt = "json" if as_json else fmt
    if fmt == "json":
        click.echo(json.dumps(to_json_rows(rows), indent=2))
        return
    if fmt == "csv":
        click.echo(render_csv(rows, list(rows[0]) if rows else [*keys, *(c.key for c in SPEND_MEASURES)]))
        return
    if not rows:
        click.echo("no spend in that range")
        return
    click.echo(render_table(rows, [*map(key_column, keys), *SPEND_MEASURES], keys=len(keys)))
    unpriced = sum(r["unpriced_requests"] or 0 for r in rows)
    if unpriced:
        click.echo(f"\n{unpriced:,} request(s) have no price and are not in cost_usd: see `tierwise unpriced`")


@click.group()
def export() -> None:
    """Export tierwise data in standard formats."""


@export.command("focus")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="CSV file to write.")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First UTC charge day (inclusive).")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="End UTC charge day (exclusive).")
def export_focus(out: Path, date_from: str | None, date_to: str | None) -> None:
    """Write LLM costs as a FinOps FOCUS 1.0 CSV (focus_cost_and_usage mart)."""
    count = focus.export_focus(warehouse_path(), out, parse_day(date_from, "--from"), parse_day(date_to, "--to"))
    click.echo(f"wrote {count} FOCUS rows to {out}")


@click.group(name="prices")
def prices_group() -> None:
    """Manage the token price catalog."""


@prices_group.group(name="import")
def import_group() -> None:
    """Import prices from a public price list."""


@import_group.command("litellm")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--effective-from",
    "effective_from",
    required=True,
    metavar="YYYY-MM-DD",
    help="UTC day from which the imported prices apply.",
)
@click.option("--replace", is_flag=True, help="Allow removing prices an earlier import stored for the same day.")
def import_litellm(file: Path, effective_from: str, replace: bool) -> None:
    """Import LiteLLM's model_prices_and_context_window.json (chat models only).

    The prices apply from --effective-from on and override older catalog rows; a seed row dated the same
    day or later wins over them. The landed days since then are marked for re-pricing: the dirty-days
    sensor (or `tierwise run`) rebuilds them.
    """
    day = parse_day(effective_from, "--effective-from")
    if day is None:  # click enforces the option; this keeps the type checker honest
        raise TierwiseError("--effective-from is required")
    result = prices.load_litellm_file(file)
    path = warehouse_path()
    try:
        con = open_with_retry(lambda: connect(path))  # a build or a reader may hold the file for a while
    except duckdb.IOException as exc:
        raise TierwiseError(f"cannot open {path} for writing: {exc}") from exc
    try:
        written = prices.write_imported_prices(con, result, day, str(file), replace=replace)
        pending = dirty_days_in(con)
    finally:
        con.close()
    reasons = result.skip_reasons()
    click.echo(f"imported {written.imported} prices effective {day.isoformat()} into {path}")
    click.echo(f"skipped {result.skipped_total} entries" + (f": {reasons}" if reasons else ""))
    if written.removed:
        click.echo(f"removed {len(written.removed)} price(s) of the earlier import: {prices.describe_models(written.removed)}")
    click.echo(repricing_message(day, written.repriced_days))
    _announce(day, written, pending)


def repricing_message(effective_from: date, days: list[date]) -> str:
    if not days:
        return f"no landed day on or after {effective_from.isoformat()}: nothing to re-price"
    plural = "" if len(days) == 1 else "s"
    return f"marked {len(days)} day{plural} for re-pricing from {days[0].isoformat()} to {days[-1].isoformat()}"


def _announce(day: date, written: prices.WriteResult, pending: list[date]) -> None:
    """Wake the home's dirty-days sensor; the marks are committed, so a failure here is only a warning."""
    home = Home.from_env()
    try:
        dagster_home = announce_price_import(home, day, written.imported, written.repriced_days, pending)
    except Exception as exc:  # the import itself succeeded; landing or `tierwise run` still sees the marks
        click.echo(f"tierwise: warning: could not report the import to Dagster in {home.dagster}: {exc}", err=True)
        dagster_home = None
    if not written.repriced_days:
        return
    if dagster_home is not None:
        click.echo(f"the dirty-days sensor of {dagster_home} rebuilds them (or run `tierwise run`)")
    else:
        click.echo("run `tierwise run` to rebuild them")


COMMANDS: list[click.Command] = [spend, export, prices_group]
