"""The dashboard and the weekly report's HTML in a real headless Chromium (the system's, via Playwright).

Over the small warehouse of tests/report_world.py (real dbt): the totals shown equal the marts, a team filter
changes them to the team's, a hostile workload name reads as text and runs nothing, the report's HTML opens
with the network cut off, and no page logs a console error. Screenshots go to tmp/artifacts/browser/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from reports.dashboard.app import create_app
from tests.browser_support import ARTIFACTS, FLAGS, require_chromium, serve
from tests.report_world import HOSTILE, World, build_world
from tierwise.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def world(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def base_url(world: World) -> Iterator[str]:
    with serve(create_app(world.path)) as url:
        yield url


class Page:
    """A fresh page that records console errors, page errors, dialogs and requests leaving the machine."""

    def __init__(self, browser: Any, offline: bool = False) -> None:
        self.context = browser.new_context(offline=offline, viewport={"width": 1280, "height": 1000})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on(
            "request",
            lambda r: self.outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "file:", "data:")) else None,
        )

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        return path

    def clean(self) -> None:
        assert self.errors == [] and self.dialogs == [] and self.outside == []


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    p = Page(browser)
    yield p
    p.context.close()


def marts_total(world: World, team: str | None = None) -> Decimal:
    today = datetime.now(UTC).date()
    sql = "select sum(cost_usd) from spend_daily where day >= ? and day < ?"
    params: list[Any] = [today + timedelta(days=1) - timedelta(days=30), today + timedelta(days=1)]
    if team:
        sql += " and team = ?"
        params.append(team)
    con = duckdb.connect(str(world.path), read_only=True)
    try:
        (total,) = con.execute(sql, params).fetchone()  # type: ignore[misc]
    finally:
        con.close()
    return Decimal(total).quantize(CENT, rounding=ROUND_HALF_UP)


def dollars(text: str) -> Decimal:
    return Decimal(text.strip().replace("$", "").replace(",", ""))


def spend_table(page: Any) -> dict[str, Decimal]:
    rows = page.locator("#spend tbody tr").all()
    return {r.locator("td").nth(0).inner_text(): dollars(r.locator("td").nth(1).inner_text()) for r in rows}


def test_totals_shown_equal_the_marts(page: Page, base_url: str, world: World) -> None:
    page.page.goto(base_url + "/")
    shown = dollars(page.page.locator("#total-spend").inner_text())
    # both weeks: 14 x $4.50 + 5 x $0.48, and the marts say the same to the cent
    assert shown == marts_total(world) == Decimal("65.40")
    assert spend_table(page.page) == {"closed_api": Decimal("63.00"), "hosted_open_api": Decimal("2.40")}
    assert "marts built through" in page.page.locator("#freshness").inner_text()
    assert page.page.locator("#alerts").inner_text().endswith("No active alerts.")
    page.shot("dashboard")
    page.clean()


def test_a_team_filter_changes_the_numbers_to_the_teams(page: Page, base_url: str, world: World) -> None:
    page.page.goto(base_url + "/")
    page.page.select_option("select[name=team]", "cx")
    with page.page.expect_navigation():
        page.page.click("button[type=submit]")
    assert "team=cx" in page.page.url
    assert dollars(page.page.locator("#total-spend").inner_text()) == marts_total(world, "cx") == Decimal("63.00")
    assert spend_table(page.page) == {"closed_api": Decimal("63.00")}
    page.page.select_option("select[name=team]", "a|b")
    page.page.select_option("select[name=by]", "workload")
    with page.page.expect_navigation():
        page.page.click("button[type=submit]")
    assert dollars(page.page.locator("#total-spend").inner_text()) == marts_total(world, "a|b") == Decimal("2.40")
    assert spend_table(page.page) == {HOSTILE: Decimal("2.40")}
    page.shot("dashboard-team-filter")
    page.clean()


def test_a_hostile_workload_name_is_text(page: Page, base_url: str) -> None:
    page.page.goto(base_url + "/?by=workload")
    cells = page.page.locator("#spend tbody td", has_text="alert(1)")
    assert cells.count() == 1 and cells.first.inner_text() == HOSTILE
    assert page.page.evaluate("document.querySelectorAll('script').length") == 0
    assert page.page.locator("select[name=team] option", has_text="a|b").count() == 1
    page.shot("dashboard-hostile-name")
    page.clean()


def test_a_bad_filter_is_one_line_not_a_trace(page: Page, base_url: str) -> None:
    response = page.page.goto(base_url + "/?from=2026-13-01")
    assert response is not None and response.status == 400
    assert page.page.locator("#error").inner_text() == "from='2026-13-01' is not a date (YYYY-MM-DD)"
    page.errors = [e for e in page.errors if "400" not in e]  # the browser logs the status itself
    page.clean()


def test_the_report_html_opens_offline(browser: Any, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(world.path))
    assert main(["report", "--week", str(world.week), "--out", str(tmp_path), "--no-kafka"]) == 0
    offline = Page(browser, offline=True)
    try:
        offline.page.goto((tmp_path / f"tierwise-report-{world.week}.html").as_uri())
        assert offline.page.locator("h1").inner_text() == f"tierwise weekly report {world.week}"
        assert offline.page.locator("svg").count() >= 2  # the week's spend and at least one break-even chart
        summary = offline.page.locator("table").first.locator("tbody td").all_inner_texts()
        assert summary[:2] == ["$47.40", "$18.00"]
        assert offline.page.get_by_text(HOSTILE).count() >= 1
        offline.shot("weekly-report")
        offline.clean()
    finally:
        offline.context.close()
