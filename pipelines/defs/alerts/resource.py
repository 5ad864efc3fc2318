"""The alert rules and store of one tierwise home, as a Dagster resource, and the two evaluation points.

- `after_landing(con)`: called by the landing asset on its own connection right after its transaction
  commits: one aggregate query over the trailing 24 hours, no second opening of the warehouse, no lock the
  pipeline waits for.
- `after_build(con)`: called by the dbt asset after its build, on the connection it opens anyway.
Alert state and deliveries live in `alerts.duckdb`, never in the warehouse; network channels are sent by a
deliverer process of their own, so a slow or failing receiver never holds up the run. A bad alerts.yaml
is logged as an error on every run and evaluation is skipped: landing and dbt never fail because of alerts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from alerts.config import DEFAULT_FILE, AlertsConfig, Rule, alerts_config_is_explicit, alerts_config_path, load_alerts_config
from alerts.evaluate import Settled, settle
from alerts.observe import Pairs, after_build, after_landing, from_lag
from alerts.state import Observation
from core.errors import TierwiseError
from core.home import Home


@dataclass(frozen=True)
class Observed:
    """What one evaluation point saw, taken while the caller held its connection; settled after it let go."""

    config: AlertsConfig
    path: Path
    pairs: list[tuple[Rule, Observation]]
    source: str
    started: float


class AlertsResource(dg.ConfigurableResource):
    home_dir: str
    config_path: str
    # TIERWISE_ALERTS_CONFIG named the file: it must exist (else the home's alerts.yaml, else the defaults)
    config_required: bool = False

    def load(self) -> tuple[AlertsConfig, Path]:
        path = Path(self.config_path)
        if not self.config_required and not path.exists():
            return load_alerts_config(Home(Path(self.home_dir)), DEFAULT_FILE)
        return load_alerts_config(Home(Path(self.home_dir)), path)

    def _observe(
        self, log: dg.DagsterLogManager | None, observe: Callable[[AlertsConfig], Pairs], source: str
    ) -> Observed | None:
        started = time.perf_counter()
        try:
            config, path = self.load()
        except TierwiseError as exc:
            if log:
                log.error(f"alerts not evaluated: {exc}")
            return None
        try:
            pairs = observe(config)
        except Exception as exc:  # alerts never fail the run they ride on; the error is in its log
            if log:
                log.error(f"alerts not evaluated after {source}: {type(exc).__name__}: {exc}")
            return None
        return Observed(config, path, pairs, source, started)

    def after_landing(self, con: duckdb.DuckDBPyConnection, log: dg.DagsterLogManager | None = None) -> Observed | None:
        """The after-landing rules, observed on landing's connection (call before closing it)."""
        return self._observe(log, lambda config: after_landing(con, config), "landing")

    def after_build(self, con: duckdb.DuckDBPyConnection, log: dg.DagsterLogManager | None = None) -> Observed | None:
        today = datetime.now(UTC).date()
        return self._observe(log, lambda config: after_build(con, config, today), "dbt build")

    def from_lag(self, lag: dict[str, int], log: dg.DagsterLogManager | None = None) -> Observed | None:
        return self._observe(log, lambda config: from_lag(config, lag), "lag sensor")

    def settle(self, observed: Observed | None, log: dg.DagsterLogManager | None = None) -> Settled | None:
        """Through the state machine into alerts.duckdb, then delivery (after the warehouse is let go)."""
        if observed is None:
            return None
        try:
            settled = settle(Home(Path(self.home_dir)), observed.config, observed.path, observed.pairs, observed.source)
        except Exception as exc:
            if log:
                log.error(f"alerts after {observed.source} not recorded: {type(exc).__name__}: {exc}")
            return None
        if log:
            elapsed = (time.perf_counter() - observed.started) * 1000
            log.info(
                f"alerts after {observed.source}: {len(observed.pairs)} observations, {settled.summary()} in {elapsed:.0f} ms"
            )
            for alert in settled.alerts:
                (log.warning if alert.transition == "fired" else log.info)(alert.title())
        return settled


def alerts_resource(home: Home) -> AlertsResource:
    return AlertsResource(
        home_dir=str(home.root),
        config_path=str(alerts_config_path(home)),
        config_required=alerts_config_is_explicit(),
    )
