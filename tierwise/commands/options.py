"""Options every report command shares (spend, latency, unpriced, idle, shadow)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from reports.tables import FORMATS

format_option: Callable[[Any], Any] = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table (fits COLUMNS, money to the cent, a totals row), csv or json (every digit).",
)
json_option: Callable[[Any], Any] = click.option(
    "--json", "as_json", is_flag=True, help="Same as --format json: money as exact decimal strings."
)
from_option: Callable[[Any], Any] = click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First UTC day (inclusive).")
to_option: Callable[[Any], Any] = click.option("--to", "date_to", metavar="YYYY-MM-DD", help="End UTC day (exclusive).")
