"""The layering rules that import-linter cannot see: only core reads the environment, and it is documented."""

from __future__ import annotations

import ast
from pathlib import Path

from core.env import VARIABLES

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("schemas", "streaming", "ingest", "landing", "pipelines", "alerts", "reports", "decisions", "tierwise")


def _env_reads(tree: ast.AST) -> list[int]:
    """Lines that read a variable: os.environ.get(...), os.getenv(...), os.environ[...] (loads), `in os.environ`."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            if f.attr == "getenv" and isinstance(f.value, ast.Name) and f.value.id == "os":
                lines.append(node.lineno)
            if f.attr == "get" and isinstance(f.value, ast.Attribute) and f.value.attr == "environ":
                lines.append(node.lineno)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "environ"
        ):
            lines.append(node.lineno)
        if isinstance(node, ast.Compare) and any(
            isinstance(c, ast.Attribute) and c.attr == "environ" for c in node.comparators
        ):
            lines.append(node.lineno)
    return lines


def test_only_core_reads_environment_variables() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for line in _env_reads(ast.parse(path.read_text(), str(path))):
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == [], "read it through core.env instead"


def test_the_checker_sees_each_way_of_reading() -> None:
    code = (
        "import os\na = os.environ.get('X')\nb = os.getenv('Y')\nc = os.environ['Z']\n"
        "d = 'W' in os.environ\nos.environ['V'] = '1'\n"
    )
    assert _env_reads(ast.parse(code)) == [2, 3, 4, 5]


def test_every_variable_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [v.name for v in VARIABLES if f"| `{v.name}`" not in readme]
    assert missing == []
