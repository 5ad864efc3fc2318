"""The dbt project as Dagster sees it.

Importing this module runs nothing: under `dagster dev` DbtProject.prepare_if_dev() parses the project,
and everywhere else (`tierwise run`, `tierwise ui`, the tests) `prepare_manifest()` is called explicitly
before the definitions load, and parses only when target/manifest.json is missing or stale.
"""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

from core.errors import TierwiseError
from core.settings import Settings, project_dir
from pipelines.dbt_cli import run_dbt


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


DBT_PROJECT = DbtProject(project_dir=project_dir(), profiles_dir=project_dir())
DBT_PROJECT.prepare_if_dev()

if __name__ == "__main__":  # `python -m pipelines.defs.dbt.project`: what CI and `make` run before loading Dagster
    print(prepare_manifest())
