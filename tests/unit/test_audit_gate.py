"""The CI dependency audit fails on a vulnerability that has a fixed version, and only then."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

AUDIT = Path(__file__).resolve().parents[2] / ".ci" / "audit.py"


def _judge(tmp_path: Path, deps: list[dict[str, object]], *flags: str) -> subprocess.CompletedProcess[str]:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dependencies": deps, "fixes": []}))
    return subprocess.run([sys.executable, str(AUDIT), "--from-json", str(report), *flags], capture_output=True, text=True)


def test_a_fixable_vulnerability_fails_and_names_the_fix(tmp_path: Path) -> None:
    done = _judge(
        tmp_path,
        [
            {"name": "duckdb", "version": "1.0.0", "vulns": []},
            {
                "name": "jinja2",
                "version": "3.1.2",
                "vulns": [{"id": "PYSEC-1", "aliases": ["CVE-1"], "fix_versions": ["3.1.3"]}],
            },
        ],
    )
    assert done.returncode == 1
    assert "audit: vulnerable: jinja2 3.1.2: PYSEC-1 CVE-1; fixed in 3.1.3" in done.stderr


def test_no_fix_or_not_audited_only_warns_unless_strict(tmp_path: Path) -> None:
    deps: list[dict[str, object]] = [
        {"name": "a", "version": "1", "vulns": [{"id": "GHSA-x", "fix_versions": []}]},
        {"name": "b", "skip_reason": "Dependency not found on PyPI"},
    ]
    done = _judge(tmp_path, deps)
    assert done.returncode == 0 and "no fixed version yet" in done.stderr
    assert "1 dependencies audited, 1 not audited, 0 failing, 2 warnings" in done.stdout
    assert _judge(tmp_path, deps, "--strict").returncode == 1
