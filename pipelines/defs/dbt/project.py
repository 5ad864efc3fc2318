"""The dbt project as Dagster sees it, with the manifest prepared when it is missing or stale."""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.settings import Settings
from tierwise.dbt_runner import project_dir, run_dbt
from tierwise.errors import TierwiseError


def _newest_source_mtime(project: Path) -> float:
    newest = 0.0
    for sub in ("models", "seeds", "macros", "tests", "snapshots"):
        for p in (project / sub).rglob("*"):
            if p.is_file():
                newest = max(newest, p.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml", "packages.yml"):
        p = project / name
        if p.exists():
            newest = max(newest, p.stat().st_mtime)
    return newest


def prepare_manifest(project: Path | None = None) -> Path:
    """Run `dbt parse` when target/manifest.json is missing or older than the project files."""
    project = project or project_dir()
    manifest = project / "target" / "manifest.json"
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime(project):
        return manifest
    result = run_dbt(["parse", "--quiet"], Settings.from_env().warehouse, check=False)
    if not result.ok or not manifest.exists():
        raise TierwiseError(f"`dbt parse` failed in {project}:\n{result.output[-2000:]}")
    return manifest


def tierwise_dbt_project() -> DbtProject:
    prepare_manifest()
    return DbtProject(project_dir=project_dir(), profiles_dir=project_dir())
