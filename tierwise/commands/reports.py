"""`tierwise latency | unpriced | idle | shadow`: what the marts hold, with spend's conventions
(--by keys, --from inclusive, --to exclusive, a table that fits the terminal, --format csv|json)."""

from __future__ import annotations

import click

from core.home import warehouse_path
from reports.marts import IDLE, LATENCY, SHADOW, UNPRICED, Report, query_report
from reports.tables import key_column, render_csv, render_json, render_table
from tierwise.commands.money import parse_day
from tierwise.commands.options import format_option, from_option, json_option, to_option


def show(report: Report, by: str, date_from: str | None, date_to: str | None, fmt: str, as_json: bool) -> None:
    keys = report.parse_by(by)
    rows = query_report(warehouse_path(), report, keys, parse_day(date_from, "--from"), parse_day(date_to, "--to"))
    fmt = "json" if as_json else fmt
    if fmt == "json":
        click.echo(render_json(rows))
        return
    if fmt == "csv":
        click.echo(render_csv(rows, list(rows[0]) if rows else keys))
        return
    if not rows:
        click.echo(report.empty)
        return
    click.echo(render_table(rows, [*map(key_column, keys), *report.columns], keys=len(keys), with_totals=report is not SHADOW))
    for note in report.notes:
        click.echo(f"\n{note}")


def report_command(report: Report, help_text: str) -> click.Command:
    @click.command(name=report.name, help=help_text)
    @click.option("--by", default=report.default_by, show_default=True, help=f"Comma-separated keys: {', '.join(report.keys)}.")
    @from_option
    @to_option
    @format_option
    @json_option
    def command(by: str, date_from: str | None, date_to: str | None, fmt: str, as_json: bool) -> None:
        show(report, by, date_from, date_to, fmt, as_json)

    return command


latency = report_command(
    LATENCY, "Latency percentiles (duration, time to first token) and error rate per model and tier, from priced_requests."
)
unpriced = report_command(
    UNPRICED, "Usage tierwise could not price (no token price, no GPU capacity or price), from unpriced_usage."
)
idle = report_command(IDLE, "Self-hosted GPU capacity that served no traffic and what it cost, from selfhost_idle_cost.")
shadow = report_command(
    SHADOW, "Shadow evaluations: each workload's shadow candidates next to its baseline (eval score, latency, token cost)."
)

COMMANDS: list[click.Command] = [latency, unpriced, idle, shadow]
