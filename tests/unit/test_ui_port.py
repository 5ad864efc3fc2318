"""`tierwise ui` never starts Dagster on a port something else holds."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from core.home import Home
from tierwise.cli import main
from tierwise.ui_port import choose_ui_port


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_a_busy_explicit_port_is_a_one_line_error_and_nothing_starts(
    busy_port: int, tw_home: Home, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["ui", "--port", str(busy_port)]) == 2
    out, err = capfd.readouterr()
    assert err == f"tierwise: error: port {busy_port} on 127.0.0.1 is already in use: pick another with --port\n"
    assert "UI on" not in out  # no URL printed for a UI that would never come up
    assert not (tw_home.dagster / "dagster.yaml").exists()


def test_a_busy_default_port_moves_to_the_next_free_one(busy_port: int) -> None:
    chosen = choose_ui_port(busy_port, explicit=False)
    assert chosen > busy_port
    with socket.socket() as s:  # and it really is free
        s.bind(("127.0.0.1", chosen))
    assert choose_ui_port(chosen, explicit=True) == chosen
