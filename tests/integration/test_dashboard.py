"""The dashboard over HTTP (no browser): its totals against the marts, and that its reads never hold the
warehouse a pipeline run needs: a page releases the file when it is served, and while a writer holds the
lock the page shows the numbers it read last and says so, without waiting for the writer."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from reports.dashboard import data
from reports.dashboard.app import create_app
from tests.report_world import HOSTILE, World, build_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("dashboard"))


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.path)) as c:
        yield c


def shown(html: str, ident: str) -> str:
    match = re.search(rf"<b id={ident}>([^<]*)</b>", html)
    assert match, ident
    return match.group(1)


def writer(path: Path) -> subprocess.Popen[str]:
    """Another process that opens the warehouse read-write (as a pipeline run does) and holds it until told."""
    code = textwrap.dedent(
        f"""
        import sys, duckdb
        con = duckdb.connect({str(path)!r})
        print("locked", flush=True)
        sys.stdin.readline()
        con.close()
        """
    )
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def test_totals_and_team_filter_over_http(client: TestClient, world: World) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
    assert shown(page.text, "total-spend") == "$65.40"  # 14 x $4.50 + 5 x $0.48
    assert shown(client.get("/", params={"team": "a|b"}).text, "total-spend") == "$2.40"
    assert shown(client.get("/", params={"team": "nobody"}).text, "total-spend") == "$0.00"
    assert HOSTILE not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_served_page_leaves_the_warehouse_to_the_writer(client: TestClient, world: World) -> None:
    assert client.get("/").status_code == 200
    proc = writer(world.path)  # opens without any retry: fails if the page still held the file
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    finally:
        proc.communicate("\n", timeout=60)
    assert proc.returncode == 0


def test_while_a_writer_holds_the_lock_the_last_page_is_shown(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "LOCK_WAIT_S", 0.5)
    fresh = client.get("/", params={"by": "team"})
    assert fresh.status_code == 200 and "id=stale" not in fresh.text
    proc = writer(world.path)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        stale = client.get("/", params={"by": "team"})
        assert stale.status_code == 200
        assert "a pipeline run is writing the warehouse: these numbers were read at" in stale.text
        assert shown(stale.text, "total-spend") == shown(fresh.text, "total-spend") == "$65.40"
        never_read = client.get("/", params={"by": "model"})
        assert never_read.status_code == 503 and "the warehouse is locked by another process" in never_read.text
    finally:
        proc.communicate("\n", timeout=60)
    assert client.get("/", params={"by": "model"}).status_code == 200
    assert Decimal(shown(client.get("/").text, "total-spend").lstrip("$")) == world.total + world.previous_total
