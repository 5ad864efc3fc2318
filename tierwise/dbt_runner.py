"""Run the tierwise dbt project against one warehouse file.

The dbt executable is the one installed next to the running Python (the venv's), so the CLI, tests and
Dagster all use the same dbt-core and dbt-duckdb. The profile reads the warehouse path from
TIERWISE_WAREHOUSE, which this helper sets for the child process only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tierwise.errors import TierwiseError

# The repository's dbt project; TIERWISE_DBT_PROJECT_DIR points elsewhere (e.g. an installed copy).
DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"


def project_dir() -> Path:
    return Path(os.environ.get("TIERWISE_DBT_PROJECT_DIR", DBT_PROJECT_DIR)).resolve()


def dbt_executable() -> Path:
    """The venv's dbt, next to sys.executable; else whatever `dbt` is on PATH."""
    here = Path(sys.executable).parent / ("dbt.exe" if os.name == "nt" else "dbt")
    if here.exists():
        return here
    found = shutil.which("dbt")
    if found:
        return Path(found)
    raise TierwiseError(f"dbt is not installed next to {sys.executable}; install tierwise with its dependencies")


def window_vars(start: date, end: date) -> dict[str, str]:
    """The vars contract of the daily models: start_date inclusive, end_date exclusive, ISO days."""
    if end <= start:
        raise TierwiseError(f"end date {end} must be after start date {start} (the end is exclusive)")
    return {"start_date": start.isoformat(), "end_date": end.isoformat()}


@dataclass(frozen=True)
class DbtResult:
    args: list[str]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_dbt(
    args: Sequence[str],
    warehouse: Path,
    *,
    dbt_vars: Mapping[str, object] | None = None,
    target_path: Path | None = None,
    log_path: Path | None = None,
    check: bool = True,
    timeout_s: float | None = 900,
) -> DbtResult:
    """Run `dbt <args>` on the tierwise project with the warehouse at `warehouse`.

    target_path/log_path keep parallel runs (tests) from overwriting the project's target/ and logs/.
    With check=True a non-zero exit raises TierwiseError carrying dbt's output tail.
    """
    proj = project_dir()
    cmd = [str(dbt_executable()), *args, "--project-dir", str(proj), "--profiles-dir", str(proj)]
    if dbt_vars:
        cmd += ["--vars", json.dumps(dict(dbt_vars))]
    if target_path is not None:
        cmd += ["--target-path", str(target_path)]
    env = dict(os.environ)
    env["TIERWISE_WAREHOUSE"] = str(Path(warehouse).resolve())
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env.setdefault("DBT_USE_COLORS", "false")
    if log_path is not None:
        env["DBT_LOG_PATH"] = str(log_path)
    proc = subprocess.run(cmd, cwd=proj, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)
    result = DbtResult(args=cmd, returncode=proc.returncode, output=proc.stdout + proc.stderr)
    if check and not result.ok:
        tail = "\n".join(result.output.strip().splitlines()[-40:])
        raise TierwiseError(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
    return result
