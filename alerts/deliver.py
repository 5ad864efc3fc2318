"""Delivering what the state machine decided to send: every channel on its own thread, so a failing or
slow channel never delays the others; results recorded per alert and channel.

The pipeline records alerts and then starts `python -m alerts.deliver` as a process of its own (`spawn`), so a
webhook that times out and retries never holds up landing or dbt; the log channel is delivered in the
pipeline's own step (it cannot fail), so its line shows in the run's log.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from alerts.channels import send
from alerts.config import AlertsConfig, LogChannel, load_alerts_config
from alerts.store import Alert, DeliveryResult, claim_pending, finish, open_store, store_path
from core.home import Home


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def local_channels(config: AlertsConfig) -> list[str]:
    return [name for name, channel in config.channels.items() if isinstance(channel, LogChannel)]


def network_channels(config: AlertsConfig) -> list[str]:
    return [name for name, channel in config.channels.items() if not isinstance(channel, LogChannel)]


def _send_all(config: AlertsConfig, channel: str, alerts: list[Alert]) -> list[DeliveryResult]:
    results = []
    for alert in alerts:
        outcome = send(config, channel, alert.payload())
        results.append(DeliveryResult(alert.alert_id, channel, outcome.ok, outcome.attempts, outcome.error))
    return results


def deliver_pending(path: Path, config: AlertsConfig, channels: list[str] | None = None) -> list[DeliveryResult]:
    """Claim the pending deliveries (of `channels`, default all), send them, record how each went. The store
    is held only to claim and to record, never while sending."""
    with open_store(path) as con:
        claimed = claim_pending(con, _now(), channels)
    if not claimed:
        return []
    by_channel: dict[str, list[Alert]] = defaultdict(list)
    for channel, alert in claimed:
        by_channel[channel].append(alert)
    with ThreadPoolExecutor(max_workers=len(by_channel), thread_name_prefix="tierwise-alert") as pool:
        futures = [pool.submit(_send_all, config, channel, alerts) for channel, alerts in by_channel.items()]
        results = [r for f in futures for r in f.result()]
    with open_store(path) as con:
        finish(con, results, _now())
    return results


def spawn(home: Home, config_path: Path) -> subprocess.Popen[bytes]:
    """Start a deliverer process of its own for the network channels; it ends when their queue is empty.
    Its output goes to $TIERWISE_HOME/alerts-deliver.log."""
    log = (home.root / "alerts-deliver.log").open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "alerts.deliver", "--home", str(home.root), "--config", str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # outlives the run's step process; a Ctrl-C of the run does not cut a send
        )
    finally:
        log.close()


def main(argv: list[str] | None = None) -> int:
    import logging

    parser = argparse.ArgumentParser(prog="python -m alerts.deliver", description=__doc__)
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--config", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    home = Home(args.home)
    config, _ = load_alerts_config(home, args.config)
    results = deliver_pending(store_path(home), config, network_channels(config))
    failed = [r for r in results if not r.ok]
    for r in failed:
        logging.getLogger("tierwise.alerts").warning("delivery of %s to %s failed: %s", r.alert_id, r.channel, r.error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
