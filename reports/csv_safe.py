"""Text cells of CSV files that spreadsheets open without running anything.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a
tab, carriage return or NUL before one) as a formula: a workload named ``=HYPERLINK("http://...")``
would become a live link in a FinOps analyst's sheet. Following OWASP's CSV injection guidance (and
ASVS 1.2.10), such a text cell is written with a leading single quote, which spreadsheets show as
text; quotes, commas and line breaks inside a cell are escaped by the csv module (RFC 4180). Only text
is touched: numbers, decimals and dates are written as they are, so a negative cost stays ``-1.5``.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def neutralize(text: str) -> str:
    """The text as a spreadsheet will show it, never evaluate it."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text
