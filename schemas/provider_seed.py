"""Write ``dbt_project/seeds/provider_aliases.csv`` from the provider map (``python -m schemas.provider_seed``).

The adapters fold other tools' provider spellings (``gemini``, ``together_ai``...) into tierwise's with
``PROVIDER_ALIASES``; dbt staging folds the same spellings for events and prices that arrive another way
(by hand, other producers, old imports). Both must read one map, so the seed is generated from it, never
edited, and a unit test fails when the two drift. Output is deterministic: a header, then one
``alias,canonical`` row per alias sorted by alias, ``\\n`` line ends. ``--check`` only reports drift (exit 1).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from core.settings import DBT_PROJECT_DIR
from schemas.providers import PROVIDER_ALIASES

SEED_PATH = DBT_PROJECT_DIR / "seeds" / "provider_aliases.csv"
HEADER = ("alias", "canonical")


def render() -> str:
    """The exact seed text, computed from PROVIDER_ALIASES without touching the disk."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(sorted(PROVIDER_ALIASES.items()))
    return buf.getvalue()


def drifted(path: Path = SEED_PATH) -> bool:
    """True when the seed file is missing or differs from the map."""
    return not path.exists() or path.read_text(encoding="utf-8") != render()


def write(path: Path = SEED_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # newline="" so the file keeps render()'s "\n" on every platform (the drift test compares bytes).
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(render())
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.provider_seed", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the seed differs from PROVIDER_ALIASES")
    args = parser.parse_args(argv)
    if args.check:
        if drifted():
            print(f"stale: {SEED_PATH} (run `python -m schemas.provider_seed`)", file=sys.stderr)
            return 1
        return 0
    print(write())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
