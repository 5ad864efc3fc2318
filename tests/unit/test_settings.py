"""Bad configuration names the variable; homes never mix."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import TierwiseError
from core.home import Home
from core.settings import Settings
from streaming.topics import default_partitions
from tierwise.cli import main


def test_bad_partition_start_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_PARTITIONS_START", "last tuesday")
    with pytest.raises(TierwiseError, match="TIERWISE_PARTITIONS_START"):
        Settings.from_env()


@pytest.mark.parametrize("value", ["six", "0"])
def test_bad_partition_count_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TIERWISE_PARTITIONS", value)
    with pytest.raises(TierwiseError, match="TIERWISE_PARTITIONS"):
        default_partitions()


def test_every_state_path_is_under_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_HOME", str(tmp_path / "a"))
    monkeypatch.delenv("TIERWISE_WAREHOUSE", raising=False)
    home = Home.from_env()
    for p in (home.warehouse, home.dagster, home.kafka, home.spill, home.reports, home.lake, home.dbt):
        assert p.is_relative_to(tmp_path / "a")
    assert Settings.from_env().warehouse == tmp_path / "a" / "warehouse.duckdb"


def test_cli_turns_user_errors_into_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("TIERWISE_HOME", str(tmp_path))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    code = main(["kafka", "topics"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("tierwise: error: no Kafka broker")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
