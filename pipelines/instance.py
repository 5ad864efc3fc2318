"""The Dagster instance of a tierwise home, and the pool that serializes warehouse writers."""

from __future__ import annotations

import os
from pathlib import Path

from core.settings import REPO_ROOT, Settings

REPO_DAGSTER_YAML = REPO_ROOT / "dagster.yaml"
# One slot (dagster.yaml): DuckDB takes one writing process per file.
WAREHOUSE_POOL = "tierwise_warehouse"


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
