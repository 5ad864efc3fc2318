"""Run-time settings of one tierwise home, read from the environment once (through ``core.env``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from core import env
from core.home import Home, warehouse_path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The repository's dbt project; TIERWISE_DBT_PROJECT_DIR points elsewhere (e.g. an installed copy).
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def project_dir() -> Path:
    """The dbt project tierwise builds."""
    return (env.dbt_project_override() or DBT_PROJECT_DIR).resolve()


@dataclass(frozen=True)
class Settings:
    home: Home
    warehouse: Path
    topic_prefix: str
    partitions_start: date

    @classmethod
    def from_env(cls) -> Settings:
        home = Home.from_env()
        return cls(
            home=home,
            warehouse=warehouse_path(home),
            topic_prefix=env.topic_prefix(),
            partitions_start=env.partitions_start(),
        )

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
