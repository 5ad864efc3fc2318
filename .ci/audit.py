"""Fail CI on a known vulnerability with a fixed version in any installed dependency (pip-audit, PyPI's
advisory data). A vulnerability with no fix yet is listed but does not fail: there is nothing to upgrade to.

    python .ci/audit.py                 # runs pip-audit over this interpreter's environment
    python .ci/audit.py --from-json F   # judges a saved `pip-audit -f json` report

A dependency pip-audit could not look up (a version the advisory service does not know, e.g. from a
private mirror) is a warning, counted in the last line; `--strict` makes it a failure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def judge(report: dict[str, Any], strict: bool) -> tuple[list[str], list[str]]:
    """(failures, warnings) as one line each."""
    failures: list[str] = []
    warnings: list[str] = []
    for dep in report.get("dependencies", []):
        name, version = dep.get("name"), dep.get("version", "?")
        if dep.get("skip_reason"):
            (failures if strict else warnings).append(f"{name}: not audited ({dep['skip_reason']})")
            continue
        for vuln in dep.get("vulns", []):
            fixes = vuln.get("fix_versions") or []
            line = f"{name} {version}: {vuln.get('id')} {' '.join(vuln.get('aliases') or [])}".rstrip()
            if fixes:
                failures.append(f"{line}; fixed in {', '.join(fixes)}")
            else:
                warnings.append(f"{line}; no fixed version yet")
    return failures, warnings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--from-json", type=Path)
    parser.add_argument("--strict", action="store_true", help="fail when a dependency could not be audited")
    args = parser.parse_args()
    if args.from_json:
        report = json.loads(args.from_json.read_text())
    else:
        done = subprocess.run(
            [sys.executable, "-m", "pip_audit", "--skip-editable", "--progress-spinner", "off", "-f", "json"],
            capture_output=True,
            text=True,
        )
        if not done.stdout.strip():
            print(f"audit: pip-audit failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return 2
        report = json.loads(done.stdout)
    failures, warnings = judge(report, strict=args.strict)
    for line in warnings:
        print(f"audit: warning: {line}", file=sys.stderr)
    for line in failures:
        print(f"audit: vulnerable: {line}", file=sys.stderr)
    audited = sum(1 for d in report.get("dependencies", []) if not d.get("skip_reason"))
    skipped = len(report.get("dependencies", [])) - audited
    print(f"audit: {audited} dependencies audited, {skipped} not audited, {len(failures)} failing, {len(warnings)} warnings")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
