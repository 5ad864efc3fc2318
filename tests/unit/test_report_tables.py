"""Spend as a person reads it (cents, thousands, months, totals, fits the terminal) and as programs read it
(CSV and JSON with every digit), on a real DuckDB file holding a spend_daily table."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from reports.focus import quantity_value
from reports.tables import money_text
from tierwise.cli import main

ROWS = [
    # day, team, workload, requests, errors, unpriced, input, output, token $, gpu $, ops $, cost $
    (
        date(2026, 11, 3),
        "customer-experience",
        "support-chat",
        186276,
        2013,
        0,
        787927173,
        62796103,
        "3073.965012345678",
        None,
        None,
        "3073.965012345678",
    ),
    (date(2026, 11, 4), "legal", "legal-drafts", 3015, 34, 3015, 24185713, 4545917, None, None, None, None),
    (
        date(2026, 12, 1),
        "security",
        "pii-redactor",
        1711,
        15,
        0,
        4228080,
        4928424,
        None,
        "185.904000000001",
        "35.700000000000",
        "221.604000000001",
    ),
]


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        """create table main.spend_daily (day date, month date, team varchar, workload varchar, tier varchar,
        provider varchar, model varchar, requests bigint, error_requests bigint, unpriced_requests bigint,
        tokens_input bigint, tokens_cache_read bigint, tokens_cache_creation bigint, tokens_output bigint,
        tokens_reasoning bigint, tokens_total bigint, token_cost_usd decimal(38, 12), gpu_cost_usd decimal(38, 12),
        ops_cost_usd decimal(38, 12), cost_usd decimal(38, 12))"""
    )
    for d, team, wl, req, err, unp, inp, out, tok, gpu, ops, cost in ROWS:
        con.execute(
            "insert into main.spend_daily values (?, date_trunc('month', ?::date), ?, ?, 'closed_api', 'p', 'm', ?, ?, ?, ?,"
            " 0, 0, ?, 0, ?, ?, ?, ?, ?)",
            [d, d, team, wl, req, err, unp, inp, out, inp + out, tok, gpu, ops, cost],
        )
    con.close()
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(path))
    return path


def test_money_reads_to_the_cent_with_thousands() -> None:
    assert money_text(Decimal("3073.965012345678")) == "$3,073.97"
    assert money_text(Decimal("1234567.004")) == "$1,234,567.00"
    assert money_text(Decimal("0.004")) == "<$0.01"
    assert money_text(Decimal("0")) == "$0.00"
    assert money_text(Decimal("-12.345")) == "-$12.35"


def test_spend_table_has_months_cents_separators_totals_and_fits_120_columns(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["spend", "--by", "team,month"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 120 for line in lines), lines
    header = lines[0].split()
    assert header[:8] == ["team", "month", "cost_usd", "requests", "errors", "unpriced", "token_cost", "gpu_cost"]
    assert (
        lines[1].split()
        == ["customer-experience", "2026-11", "$3,073.97", "186,276", "2,013", "0", "$3,073.97", "-"] + (lines[1].split()[8:])
    )
    assert lines[2].split()[:4] == ["legal", "2026-11", "unpriced", "3,015"]
    total = next(line for line in lines if line.startswith("total")).split()
    # the unpriced row adds nothing to the money; counts add up
    assert total[:6] == ["total", "$3,295.57", "191,002", "2,062", "3,015", "$3,073.97"], total
    assert any(line.startswith("(not shown to fit 120 columns: ") for line in lines)
    assert lines[-1] == "3,015 request(s) have no price and are not in cost_usd: see `tierwise unpriced`"

    monkeypatch.setenv("COLUMNS", "55")
    assert main(["spend", "--by", "team,month"]) == 0
    narrow = capsys.readouterr().out.splitlines()
    assert narrow[0].split() == ["team", "month", "cost_usd", "requests"]
    assert "errors, unpriced, token_cost, gpu_cost, ops_cost, input, output" in narrow[-3]


def test_spend_csv_and_json_keep_every_digit(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spend", "--by", "month", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["month"], r["cost_usd"], r["requests"]) for r in rows] == [
        ("2026-11-01", "3073.965012345678", "189291"),
        ("2026-12-01", "221.604000000001", "1711"),
    ]
    assert main(["spend", "--by", "month", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[1]["gpu_cost_usd"] == "185.904000000001"
    assert main(["spend", "--by", "month", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["cost_usd"] == "3073.965012345678"


def test_focus_quantities_read_without_rounding_noise() -> None:
    assert quantity_value(Decimal("48.000000000096")) == "48"
    assert quantity_value(Decimal("147897.000000000000")) == "147897"
    assert quantity_value(Decimal("0.083333333333")) == "0.083333"
    assert quantity_value(Decimal("0")) == "0"
    assert quantity_value(None) == ""
