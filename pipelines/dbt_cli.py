"""Run the tierwise dbt project against one warehouse file.

The dbt executable is the one installed next to the running Python (the venv's), so the CLI, tests and
Dagster all use the same dbt-core and dbt-duckdb. The profile reads the warehouse path from the
`warehouse` var, which every call passes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from core.errors import TierwiseError
from core.settings import project_dir


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


def warehouse_vars(warehouse: Path | str, dbt_vars: Mapping[str, object] | None = None) -> dict[str, object]:
    """dbt vars with the warehouse path, which the profile reads (profiles.yml), so no env var is set."""
    return {**(dict(dbt_vars) if dbt_vars else {}), "warehouse": str(Path(warehouse).resolve())}


@dataclass(frozen=True)
class DbtResult:
    args: list[str]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def dbt_invocation(
    args: Sequence[str],
    warehouse: Path,
    *,
    dbt_vars: Mapping[str, object] | None = None,
    target_path: Path | None = None,
    log_path: Path | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of `dbt <args>` on the tierwise project and `warehouse`
    (run it with the project folder as working directory)."""
    proj = project_dir()
    cmd = [str(dbt_executable()), *args, "--project-dir", str(proj), "--profiles-dir", str(proj)]
    if dbt_vars:
        cmd += ["--vars", json.dumps(dict(dbt_vars))]
    if target_path is not None:
        cmd += ["--target-path", str(target_path)]
    env = dict(os.environ)
    # The profile reads the `warehouse` var, else this (for `tierwise dbt ...`, whose --vars are the user's).
    env["TIERWISE_WAREHOUSE"] = str(Path(warehouse).resolve())
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    if log_path is not None:
        env["DBT_LOG_PATH"] = str(log_path)
    return cmd, env


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
    cmd, env = dbt_invocation(
        args, warehouse, dbt_vars=warehouse_vars(warehouse, dbt_vars), target_path=target_path, log_path=log_path
    )
    env.setdefault("DBT_USE_COLORS", "false")
    proc = subprocess.run(cmd, cwd=project_dir(), env=env, capture_output=True, text=True, timeout=timeout_s, check=False)
    result = DbtResult(args=cmd, returncode=proc.returncode, output=proc.stdout + proc.stderr)
    if check and not result.ok:
        tail = "\n".join(result.output.strip().splitlines()[-40:])
        raise TierwiseError(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
    return result


# --- one dbt run's target folder and what it says ------------------------------------------------------

# dbt statuses that count as done and fine; "no-op" is a node with nothing to run (dbt 1.9+).
OK_STATUSES = frozenset({"success", "pass", "no-op"})
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
KEEP_RUN_DIRS = 20  # each holds ~10 MB (dbt.log, manifest, compiled SQL); older ones are pruned


def dbt_run_dir(runs_root: Path, run_id: str) -> Path:
    """The dbt target folder (artifacts and dbt.log) of the Dagster run `run_id`, under the home's dbt/.

    The dbt asset and `tierwise run` both derive it from the run id, so the CLI can point at the log of
    the run it just started and the UI's runs leave their logs in the same place.
    """
    return runs_root / run_id[:8]


def prune_run_dirs(root: Path, keep: int = KEEP_RUN_DIRS) -> int:
    """Delete all but the `keep` most recently modified run folders in `root`; returns how many went."""
    if not root.is_dir():
        return 0
    dirs = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in dirs[keep:]:
        shutil.rmtree(old, ignore_errors=True)  # a concurrent prune may have taken it already
    return max(0, len(dirs) - keep)


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str
    message: str


def read_run_results(target: Path) -> list[NodeResult] | None:
    """The nodes of run_results.json in a dbt target folder; None when dbt stopped before writing it."""
    path = target / "run_results.json"
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return [
        NodeResult(str(r.get("unique_id", "?")), str(r.get("status", "?")), str(r.get("message") or ""))
        for r in raw.get("results", [])
    ]


def describe_counts(nodes: Sequence[NodeResult]) -> str:
    """'133 nodes ok', or '120 ok, 2 warn, 1 error, 10 skipped' when not everything passed."""
    counts = Counter("ok" if n.status in OK_STATUSES else n.status for n in nodes)
    if set(counts) <= {"ok"}:
        return f"{counts['ok']} node{'s' if counts['ok'] != 1 else ''} ok"
    order = ["ok", "warn", *sorted(FAILED_STATUSES), "skipped"]
    keys = [k for k in order if counts[k]] + sorted(k for k in counts if k not in order)
    return ", ".join(f"{counts[k]} {k}" for k in keys)


def node_label(unique_id: str) -> str:
    """'model.tierwise.spend_daily' -> 'model spend_daily'; a data test's trailing hash is dropped."""
    parts = unique_id.split(".")
    if len(parts) < 3:
        return unique_id
    name = parts[2] if parts[0] == "test" else ".".join(parts[2:])
    return f"{parts[0]} {name}"


@dataclass(frozen=True)
class DbtRunReport:
    """What one dbt build did, for a one-line progress message or a failure the user can act on."""

    first: date | None  # None: the seeds and staging build, which covers no days
    last: date | None
    ok: bool
    seconds: float
    log_path: Path
    nodes: list[NodeResult] | None = None  # None: dbt wrote no run_results.json
    error: str = ""  # Dagster's step error, for failures dbt's results do not explain
    max_failures: int = field(default=10, repr=False)

    @property
    def scope(self) -> str:
        return f"{self.first}..{self.last}" if self.first else "seeds+staging"

    @property
    def failures(self) -> list[NodeResult]:
        return [n for n in self.nodes or [] if n.status in FAILED_STATUSES]

    def line(self, with_log: bool = True) -> str:
        """'dbt build 2026-11-26..2026-11-28: 133 nodes ok in 21.4s (log: .../dbt.log)'."""
        done = describe_counts(self.nodes) if self.nodes else "no node results"
        verdict = "" if self.ok else "failed, "
        log = f" (log: {self.log_path})" if with_log else ""
        return f"dbt build {self.scope}: {verdict}{done} in {self.seconds:.1f}s{log}"

    def failure_text(self) -> str:
        """The failing nodes with dbt's error lines, else the step error, then where the full log is."""
        done = f"{describe_counts(self.nodes)} in " if self.nodes else ""
        lines = [f"dbt build for {self.scope} failed ({done}{self.seconds:.1f}s):"]
        failures = self.failures
        for node in failures[: self.max_failures]:
            msg = [m.strip() for m in node.message.strip().splitlines() if m.strip()] or ["(no message)"]
            lines.append(f"  {node.status}: {node_label(node.unique_id)}: {msg[0]}")
            lines += [f"      {m}" for m in msg[1:8]]
        if len(failures) > self.max_failures:
            lines.append(f"  ... and {len(failures) - self.max_failures} more")
        if not failures:
            lines += [f"  {ln}" for ln in (self.error or "no dbt node failed; see the log").splitlines()]
        lines.append(f"full dbt log: {self.log_path}")
        return "\n".join(lines)
