"""Rows from the marts as a person reads them (a table that fits the terminal) or as a program reads them
(CSV, JSON with exact decimals). Money in text is rounded to the cent; CSV and JSON keep every digit.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core import env

CENT = Decimal("0.01")
DEFAULT_WIDTH = 120
FORMATS = ("table", "csv", "json")


@dataclass(frozen=True)
class Column:
    """One column: the row key, its header, how it reads in text, and whether the totals row sums it."""

    key: str
    header: str = ""
    kind: str = "text"  # text | count | money | number | month | ratio
    total: bool = False
    null: str = "-"  # what a NULL reads as in text ('unpriced' for a cost)
    places: int = 3  # decimals a 'number' shows at most

    @property
    def title(self) -> str:
        return self.header or self.key


def key_column(key: str) -> Column:
    """A group-key column; a month reads '2026-11'."""
    return Column(key, kind="month" if key == "month" else "text")


def terminal_width() -> int:
    """COLUMNS when set (scripts, CI), else the terminal's width, else 120."""
    return env.columns() or shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def money_text(value: Decimal) -> str:
    """'$3,073.97'; a non-zero amount under half a cent reads '<$0.01' rather than '$0.00'."""
    cents = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if cents == 0 and value != 0:
        return "<$0.01" if value > 0 else "-<$0.01"
    return f"-${-cents:,}" if cents < 0 else f"${cents:,}"


def number_text(value: Decimal | float, places: int = 3) -> str:
    """A quantity to at most `places` decimals, without trailing zeros: '48', '1,234.5'."""
    q = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{q:,.{places}f}"
    if places:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def cell(column: Column, value: Any) -> str:
    if value is None:
        return column.null
    if column.kind == "count":
        return f"{int(value):,}"
    if column.kind == "money":
        return money_text(Decimal(value))
    if column.kind == "number":
        return number_text(value, column.places)
    if column.kind == "ratio":
        return f"{float(value) * 100:.1f}%"
    if column.kind == "month" and isinstance(value, date):
        return f"{value:%Y-%m}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def totals(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> dict[str, Any]:
    """Sums of the summable columns over the rows (NULLs skipped: an unpriced cost adds nothing)."""
    out: dict[str, Any] = {}
    for c in columns:
        if c.total:
            values = [r[c.key] for r in rows if r.get(c.key) is not None]
            out[c.key] = sum(values, Decimal(0) if c.kind == "money" else 0) if values else None
    return out


def _fit(columns: list[Column], widths: dict[str, int], keep: int, width: int) -> list[Column]:
    """Drop columns from the right (past the first `keep`) until the table fits `width`."""
    shown = list(columns)
    while len(shown) > keep and sum(widths[c.key] for c in shown) + 2 * (len(shown) - 1) > width:
        shown.pop()
    return shown


def render_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    keys: int,
    *,
    width: int | None = None,
    with_totals: bool = True,
) -> str:
    """An aligned table: the first `keys` columns are the group keys (left-aligned, always shown), the rest
    are measures in priority order; those that do not fit `width` are left out and named in a note."""
    width = width or terminal_width()
    body = [[cell(c, r.get(c.key)) for c in columns] for r in rows]
    if with_totals and len(rows) > 1 and any(c.total for c in columns):
        sums = totals(rows, columns)
        label = [("total" if i == 0 else "") for i in range(keys)]
        body.append(label + [cell(c, sums[c.key]) if c.total else "" for c in columns[keys:]])
    widths = {c.key: max([len(c.title)] + [len(line[i]) for line in body]) for i, c in enumerate(columns)}
    shown = _fit(list(columns), widths, max(keys, 1), width)
    index = [list(columns).index(c) for c in shown]

    def line(values: list[str]) -> str:
        parts = []
        for i in index:
            c = columns[i]
            parts.append(values[i].ljust(widths[c.key]) if i < keys else values[i].rjust(widths[c.key]))
        return "  ".join(parts).rstrip()

    out = [line([c.title for c in columns])]
    out += [line(v) for v in body[: len(rows)]]
    if len(body) > len(rows):
        out.append(line(["-" * widths[c.key] if i >= keys else "" for i, c in enumerate(columns)]))
        out.append(line(body[-1]))
    hidden = [c.title for c in columns if c not in shown]
    if hidden:
        out.append(f"(not shown to fit {width} columns: {', '.join(hidden)}; set COLUMNS wider or use --format csv)")
    return "\n".join(out)


def exact(value: Any) -> Any:
    """A JSON/CSV value: Decimal as its exact text, dates ISO, everything else as is."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def render_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps([{k: exact(v) for k, v in r.items()} for r in rows], indent=2)


def render_csv(rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    for r in rows:
        writer.writerow(["" if r.get(f) is None else exact(r.get(f)) for f in fields])
    return buf.getvalue().rstrip("\n")
