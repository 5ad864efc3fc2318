"""The dbt project as Dagster sees it.

Importing this module runs nothing: under `dagster dev` DbtProject.prepare_if_dev() parses the project,
and everywhere else (`tierwise run`, `tierwise ui`, the tests) `prepare_manifest()` is called explicitly
before the definitions load, and parses only when target/manifest.json is missing or stale.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
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


def _fresh(manifest: Path, project: Path) -> bool:
    return manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime(project)


def prepare_manifest(project: Path | None = None) -> Path:
    """Run `dbt parse` when target/manifest.json is missing or older than the project files.

    Several processes may ask at once (a test session beside `tierwise run`, two code servers): one
    parses under a file lock, into a folder of its own, and moves the manifest into place whole, so no
    reader ever sees half a file.
    """
    project = project or project_dir()
    target = project / "target"
    manifest = target / "manifest.json"
    if _fresh(manifest, project):
        return manifest
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _fresh(manifest, project):  # another process parsed while we waited
            return manifest
        with tempfile.TemporaryDirectory(dir=target, prefix=".parse-") as scratch:
            result = run_dbt(["parse", "--quiet"], Settings.from_env().warehouse, check=False, target_path=Path(scratch))
            parsed = Path(scratch) / "manifest.json"
            if not result.ok or not parsed.exists():
                raise TierwiseError(f"`dbt parse` failed in {project}:\n{result.output[-2000:]}")
            os.replace(parsed, manifest)
    return manifest


DBT_PROJECT = DbtProject(project_dir=project_dir(), profiles_dir=project_dir())
DBT_PROJECT.prepare_if_dev()

if __name__ == "__main__":  # `python -m pipelines.defs.dbt.project`: what CI and `make` run before loading Dagster
    print(prepare_manifest())
