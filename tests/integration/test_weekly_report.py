"""`tierwise report` and the weekly_report asset over a small warehouse built by real dbt: the report's totals
recomputed from the marts to the cent, dollars worked out by hand (tests/report_world.py), names escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.report.assets import ReportsResource, weekly_report
from pipelines.defs.resources import KafkaResource, WarehouseResource
from tests.report_world import HOSTILE, World, build_world
from tierwise.cli import main

pytestmark = pytest.mark.slow
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield build_world(tmp_path_factory.mktemp("weekly"))


@pytest.fixture
def report(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(world.path))
    monkeypatch.setenv("TIERWISE_HOME", str(tmp_path / "home"))
    assert main(["report", "--week", str(world.week), "--out", str(tmp_path), "--no-kafka"]) == 0
    return {s: (tmp_path / f"tierwise-report-{world.week}.{s}").read_text() for s in ("md", "html")}


def dollars(text: str) -> Decimal:
    """'$1,234.56' or '-$3.10' -> Decimal."""
    return Decimal(text.replace("$", "").replace(",", ""))


def table(md: str, heading: str) -> list[list[str]]:
    """The rows of the first Markdown table under `heading`, as cell texts."""
    lines: list[str] = []
    for line in md.split(f"## {heading}\n", 1)[1].splitlines():
        if line.startswith("|"):
            lines.append(line)
        elif lines or line.startswith("#"):
            break
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines[2:]]


def marts(world: World, sql: str, params: list) -> list[tuple]:
    con = duckdb.connect(str(world.path), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def cents(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


def test_totals_equal_the_marts_to_the_cent(world: World, report: dict[str, str]) -> None:
    w, prev = world.week, world.week.previous()
    ((total, last),) = marts(
        world,
        "select sum(cost_usd) filter (where day >= ? and day < ?), sum(cost_usd) filter (where day >= ? and day < ?)"
        " from spend_daily",
        [w.start, w.end, prev.start, prev.end],
    )
    summary = table(report["md"], "Summary")[0]
    assert [dollars(summary[0]), dollars(summary[1])] == [cents(total), cents(last)]
    # and by hand: 10 x $4.50 + 5 x $0.48 this week, 4 x $4.50 the week before
    assert (
        (dollars(summary[0]), dollars(summary[1]))
        == (world.total, world.previous_total)
        == (Decimal("47.40"), Decimal("18.00"))
    )
    assert summary[2] == "+$29.40 (+163.3%)"
    for heading, key in (("Spend by tier", "tier"), ("Spend by team", "team")):
        expected = dict(
            marts(
                world, f"select {key}, sum(cost_usd) from spend_daily where day >= ? and day < ? group by 1", [w.start, w.end]
            )
        )
        shown = {row[0].replace("\\|", "|"): dollars(row[1]) for row in table(report["md"], heading)}
        assert shown == {k: cents(v) for k, v in expected.items()}, heading
        assert sum(shown.values()) == dollars(summary[0])
    assert table(report["md"], "Spend by team")[0][:2] == ["a\\|b", "$2.40"]
    (savings,) = marts(
        world,
        "select coalesce(sum(monthly_savings_usd), 0) from tier_recommendation"
        " where action in ('switch', 'evaluate_first') and monthly_savings_usd > 0",
        [],
    )[0]
    assert dollars(summary[3]) == cents(savings)


def test_top_movers_and_data_quality(world: World, report: dict[str, str]) -> None:
    movers = table(report["md"], "Top movers (workloads, week over week)")
    assert [(r[0], r[3]) for r in movers] == [
        ("support", "+$27.00 (+150.0%)"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "+$2.40"),
    ]
    quality = table(report["md"], "Data quality")
    # 17 requests in the week, 2 of them unpriced; every row here landed days after it happened
    assert quality[0][:4] == ["17", "2", "0", "17"]
    assert quality[0][4] == "Kafka not reachable when the report was made"
    assert "\n| no_token_price | mistral | mistral-unknown | 2 | 2,200,000 |\n" in report["md"]


def test_hostile_names_are_text(report: dict[str, str]) -> None:
    html = report["html"]
    assert HOSTILE not in html and "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE not in report["md"]
    # nothing in the page may come from the network
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html


def test_a_week_that_does_not_exist_is_one_line(world: World, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(world.path))
    assert main(["report", "--week", "2026-W60", "--no-kafka"]) == 2
    assert capsys.readouterr().err.strip() == "tierwise: error: --week '2026-W60': 2026 has no ISO week 60"


def test_the_asset_writes_the_weeks_report(world: World, tmp_path: Path) -> None:
    result = dg.materialize(
        [weekly_report],
        partition_key=world.week.start.isoformat(),
        resources={
            "warehouse": WarehouseResource(path=str(world.path), lake_dir=str(tmp_path / "lake")),
            "kafka": KafkaResource(home_dir=str(tmp_path / "home")),
            "reports": ReportsResource(reports_dir=str(tmp_path / "reports")),
        },
    )
    assert result.success
    meta = result.asset_materializations_for_node("weekly_report")[0].metadata
    assert meta["week"].value == str(world.week)
    assert Decimal(meta["total_spend_usd"].value) == world.total
    assert (tmp_path / "reports" / f"tierwise-report-{world.week}.html").exists()
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "totals_add_up" and check.passed
    assert check.metadata["by_team_usd"].value == check.metadata["total_usd"].value == meta["total_spend_usd"].value
