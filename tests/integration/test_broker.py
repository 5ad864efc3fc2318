"""The local broker's lifecycle, against a real Kafka in its own temp home."""

from __future__ import annotations

import socket
from pathlib import Path

import psutil
import pytest

from core.errors import TierwiseError
from core.home import Home
from streaming.broker import LocalBroker, wait_for_metadata
from streaming.topics import ALL_TOPICS, ensure_topics
from tierwise.cli import main

pytestmark = pytest.mark.kafka


def test_up_twice_is_harmless_status_says_where_down_leaves_no_process(tmp_path: Path) -> None:
    broker = LocalBroker(Home(tmp_path).ensure(), heap="384m")
    first = broker.up()
    try:
        assert first.running and first.pid
        second = broker.up()
        assert second.pid == first.pid and second.bootstrap == first.bootstrap
        created = ensure_topics(first.bootstrap or "", partitions=2)
        assert sorted(created) == sorted(ALL_TOPICS)
        assert ensure_topics(first.bootstrap or "", partitions=2) == []
        assert first.bootstrap in broker.status().describe()
        assert broker.log_file.stat().st_size > 0
    finally:
        assert broker.down() is True
    assert not psutil.pid_exists(first.pid) or psutil.Process(first.pid).status() == psutil.STATUS_ZOMBIE
    assert broker.status().running is False
    assert broker.down() is False


def test_two_homes_get_two_brokers_on_two_ports(tmp_path: Path) -> None:
    a = LocalBroker(Home(tmp_path / "a").ensure(), heap="384m")
    b = LocalBroker(Home(tmp_path / "b").ensure(), heap="384m")
    try:
        sa, sb = a.up(), b.up()
        assert sa.pid != sb.pid and sa.bootstrap != sb.bootstrap
    finally:
        a.down()
        b.down()


def test_explicit_port_that_is_taken_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(TierwiseError, match=f"port {port} .* is taken"):
            LocalBroker(Home(tmp_path).ensure()).up(port=port)


def test_unreachable_bootstrap_times_out_naming_the_address() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TierwiseError, match=f"not reachable at 127.0.0.1:{port}"):
        wait_for_metadata(f"127.0.0.1:{port}", timeout_s=2)


def test_external_bootstrap_is_used_and_nothing_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIERWISE_HOME", str(tmp_path))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    assert main(["kafka", "up"]) == 0
    assert f"using external Kafka at {kafka_bootstrap}" in capsys.readouterr().out
    assert not (tmp_path / "kafka" / "broker.pid").exists()


def test_cli_reports_unreachable_external_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIERWISE_HOME", str(tmp_path))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")
    monkeypatch.setenv("TIERWISE_KAFKA_TIMEOUT", "2")
    assert main(["kafka", "up"]) == 2
    err = capsys.readouterr().err
    assert "not reachable at 127.0.0.1:9" in err and "Traceback" not in err
