"""`tierwise alerts [--json]` (active and recent alerts) and `tierwise alerts test CHANNEL`."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import click

from alerts.channels import probe_payload, require_channel, send
from alerts.config import load_alerts_config
from alerts.store import active, open_store, recent, store_path
from core.errors import TierwiseError
from core.home import Home


def _line(a: dict[str, Any]) -> str:
    return f"{a['at'][:19].replace('T', ' ')}  {a['severity']:<8} {a['rule']:<18} {a['subject']:<22} {a['message']}"


def _deliveries(a: dict[str, Any]) -> str:
    if not a.get("sent"):
        return "recorded, not sent (quiet period)"
    parts = []
    for d in a.get("deliveries", []):
        tail = f" after {d['attempts']} attempt(s): {d['error']}" if d["status"] == "failed" else ""
        parts.append(f"{d['channel']} {d['status']}{tail}")
    return ", ".join(parts) or "no channel"


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Active and recent alerts as JSON (values as decimal strings).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="Recent transitions to list.")
@click.pass_context
def alerts(ctx: click.Context, as_json: bool, limit: int) -> None:
    """Alerts firing now and the latest transitions (rules and channels: docs/alerts.md)."""
    if ctx.invoked_subcommand is not None:
        return
    home = Home.from_env()
    _, config_path = load_alerts_config(home)  # a bad config file is reported here, not found at 3 a.m.
    with open_store(store_path(home), read_only=True) as con:
        firing, latest = active(con), recent(con, limit)
    if as_json:
        click.echo(json.dumps({"config": str(config_path), "active": firing, "recent": latest}, indent=2))
        return
    click.echo(f"alert rules: {config_path}")
    click.echo(f"\nfiring now ({len(firing)}):" if firing else "\nnothing is firing")
    for a in firing:
        click.echo("  " + _line(a))
    if latest:
        click.echo(f"\nlatest {len(latest)} transitions:")
        for a in latest:
            click.echo(f"  {'FIRED   ' if a['status'] == 'firing' else 'RESOLVED'} " + _line(a))
            click.echo(f"           -> {_deliveries(a)}")


@alerts.command(name="test")
@click.argument("channel")
def test_channel(channel: str) -> None:
    """Send a test message on CHANNEL (with the configured retries) and say how it went."""
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    config, config_path = load_alerts_config(Home.from_env())
    require_channel(config, channel)
    now = datetime.now(UTC).replace(tzinfo=None).isoformat() + "Z"
    outcome = send(config, channel, probe_payload(channel, now))
    if not outcome.ok:
        raise TierwiseError(f"channel {channel} ({config_path}) failed after {outcome.attempts} attempt(s): {outcome.error}")
    click.echo(f"test message sent to {channel} in {outcome.attempts} attempt(s)")


COMMANDS: list[click.Command] = [alerts]
