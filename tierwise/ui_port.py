"""The port `tierwise ui` serves on: checked before Dagster starts, since `dagster dev` whose webserver
cannot bind keeps its daemon (and the sensors) running without any UI."""

from __future__ import annotations

from core.errors import TierwiseError
from streaming.broker import port_in_use

DEFAULT_UI_PORT = 3000
SEARCH = 20  # ports tried after a busy default


def choose_ui_port(port: int, explicit: bool) -> int:
    """`port` when free; a busy default moves to the next free one, a busy --port is an error."""
    if not port_in_use(port):
        return port
    if explicit:
        raise TierwiseError(f"port {port} on 127.0.0.1 is already in use: pick another with --port")
    for candidate in range(port + 1, port + 1 + SEARCH):
        if not port_in_use(candidate):
            return candidate
    raise TierwiseError(f"ports {port}..{port + SEARCH} on 127.0.0.1 are all in use: pick a free one with --port")
