"""Run-time settings read from the environment, validated once, with errors naming the variable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ingest.limits import EventWindow
from tierwise.errors import TierwiseError
from tierwise.home import Home, warehouse_path

REPO_ROOT = Path(__file__).resolve().parent.parent
REPO_DAGSTER_YAML = REPO_ROOT / "dagster.yaml"
WAREHOUSE_POOL = "tierwise_warehouse"


def _date_env(name: str, default: str) -> date:
    raw = os.environ.get(name, default)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise TierwiseError(f"{name} must be a date like 2026-01-01, got {raw!r}") from None


def _hours_env(name: str, default: str) -> timedelta:
    raw = os.environ.get(name, default)
    try:
        hours = float(raw)
    except ValueError:
        raise TierwiseError(f"{name} must be a number of hours, got {raw!r}") from None
    if hours < 0:
        raise TierwiseError(f"{name} must be >= 0, got {raw!r}")
    return timedelta(hours=hours)


@dataclass(frozen=True)
class Settings:
    home: Home
    warehouse: Path
    topic_prefix: str
    partitions_start: date
    max_future: timedelta = timedelta(hours=24)

    @classmethod
    def from_env(cls) -> Settings:
        home = Home.from_env()
        warehouse = warehouse_path(home)
        return cls(
            home=home,
            warehouse=warehouse,
            topic_prefix=os.environ.get("TIERWISE_TOPIC_PREFIX", ""),
            partitions_start=_date_env("TIERWISE_PARTITIONS_START", "2026-01-01"),
            max_future=_hours_env("TIERWISE_MAX_FUTURE_HOURS", "24"),
        )

    def event_window(self) -> EventWindow:
        return EventWindow(self.partitions_start, self.max_future)

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


def use_home_for_dagster(settings: Settings) -> Path:
    """Point DAGSTER_HOME at the home's dagster/ folder, with the repo's dagster.yaml in it.

    `dagster dev` and `tierwise run` then share one instance per tierwise home.
    """
    dagster_home = settings.home.dagster
    dagster_home.mkdir(parents=True, exist_ok=True)
    target = dagster_home / "dagster.yaml"
    wanted = REPO_DAGSTER_YAML.read_text()
    if not target.exists() or target.read_text() != wanted:
        target.write_text(wanted)
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    return dagster_home
