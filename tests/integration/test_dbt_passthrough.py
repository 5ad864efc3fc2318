"""`tierwise dbt ...` runs dbt on tierwise's project and this home's warehouse from any folder, as the docs
say, and passes dbt's exit code through."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from core.home import Home
from tierwise.cli import main

pytestmark = pytest.mark.slow


def test_dbt_passthrough_builds_the_home_warehouse_from_another_folder(
    tw_home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["dbt", "seed", "--select", "gpu_prices"]) == 0
    assert "Completed successfully" in capfd.readouterr().out
    with duckdb.connect(str(tw_home.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from main.gpu_prices").fetchone()[0] > 0
    assert main(["dbt", "run", "--select", "no_such_model_anywhere"]) == 0  # dbt: nothing to do is fine
    assert main(["dbt", "build", "--no-such-flag"]) == 2  # dbt's usage error, passed through
    assert not list(elsewhere.iterdir())  # nothing written where the user stood
