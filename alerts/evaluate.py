"""One evaluation: observations through the state machine into the store, then delivery.

Both evaluation points (after landing, after a dbt build) and the lag sensor call `settle`, so the state
machine and delivery have one implementation whoever observes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from alerts.config import AlertsConfig, Rule
from alerts.deliver import deliver_pending, local_channels, network_channels, spawn
from alerts.state import Observation
from alerts.store import Alert, DeliveryResult, open_store, record, store_path
from core.home import Home

LOG = logging.getLogger("tierwise.alerts")


@dataclass
class Settled:
    alerts: list[Alert] = field(default_factory=list)
    delivered: list[DeliveryResult] = field(default_factory=list)
    spawned: bool = False

    def summary(self) -> str:
        fired = sum(a.transition == "fired" for a in self.alerts)
        resolved = len(self.alerts) - fired
        sent = sum(a.notified for a in self.alerts)
        return f"{fired} fired, {resolved} resolved, {sent} to send" + (" (deliverer started)" if self.spawned else "")


def settle(
    home: Home,
    config: AlertsConfig,
    config_path: Path,
    pairs: list[tuple[Rule, Observation]],
    source: str,
    now: datetime | None = None,
    background: bool = True,
) -> Settled:
    """Record the transitions of `pairs`; deliver the log channel here and now; hand the network channels to
    a deliverer process of their own (`background`) or deliver them here (tests, `tierwise alerts test`)."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    path = store_path(home)
    with open_store(path) as con:
        created = record(con, config, pairs, now, source)
    out = Settled(alerts=created)
    if not any(a.notified for a in created) and not _pending(path):
        return out
    local = local_channels(config)
    if local:
        out.delivered += deliver_pending(path, config, local)
    remote = network_channels(config)
    if remote:
        if background:
            spawn(home, config_path)
            out.spawned = True
        else:
            out.delivered += deliver_pending(path, config, remote)
    return out


def _pending(path: Path) -> bool:
    # A delivery left pending by a run that died before delivering it: the next evaluation sends it.
    with open_store(path) as con:
        row = con.execute("SELECT count(*) FROM alert_deliveries WHERE status IN ('pending', 'sending')").fetchone()
    return bool(row and row[0])
