"""The dbt project as Dagster sees it, with the manifest prepared when it is missing or stale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.settings import DBT_PROJECT_DIR, Settings
from tierwise.errors import TierwiseError


def dbt_executable() -> str:
    """The dbt next to this interpreter, so the venv's dbt runs, not whatever is first on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for sub in ("models", "seeds", "macros", "tests", "snapshots"):
        for p in (project_dir / sub).rglob("*"):
            if p.is_file():
                newest = max(newest, p.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml", "packages.yml"):
        p = project_dir / name
        if p.exists():
            newest = max(newest, p.stat().st_mtime)
    return newest


def prepare_manifest(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Run `dbt parse` when target/manifest.json is missing or older than the project files."""
    manifest = project_dir / "target" / "manifest.json"
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime(project_dir):
        return manifest
    env = dict(os.environ)
    env.setdefault("TIERWISE_WAREHOUSE", str(Settings.from_env().warehouse))
    result = subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    if result.returncode != 0 or not manifest.exists():
        raise TierwiseError(f"`dbt parse` failed in {project_dir}:\n{(result.stdout + result.stderr)[-2000:]}")
    return manifest


def tierwise_dbt_project() -> DbtProject:
    prepare_manifest()
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
