"""Write the JSON Schema of each contract into ``schemas/jsonschema/`` (``python -m schemas.jsonschema_files``).

The files are for producers that are not Python (and for review diffs); the pydantic models stay the
source of truth, and a unit test fails when the files drift from them. Output is deterministic:
sorted keys, two-space indent, trailing newline. ``--check`` only reports drift (exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.content import CONTENT_KEYS, CONTENT_PREFIXES
from schemas.gpu import GpuUsage
from schemas.usage import UsageEvent

SCHEMA_DIR = Path(__file__).resolve().parent / "jsonschema"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
CONTRACTS: dict[str, type[BaseModel]] = {
    "usage_event.v1.json": UsageEvent,
    "gpu_usage.v1.json": GpuUsage,
}


def build_schema(filename: str, model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    schema["$schema"] = DIALECT
    schema["$id"] = filename
    # Not expressible as JSON Schema: these keys are accepted but dropped and counted, never stored.
    schema["x-tierwise-content-keys"] = sorted(CONTENT_KEYS)
    schema["x-tierwise-content-key-prefixes"] = sorted(CONTENT_PREFIXES)
    return schema


def render() -> dict[str, str]:
    """File name -> exact file text, computed from the models without touching the disk."""
    return {
        name: json.dumps(build_schema(name, model), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for name, model in CONTRACTS.items()
    }


def drifted(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of schema files that are missing or differ from the models."""
    out = []
    for name, text in render().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            out.append(name)
    return out


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.jsonschema_files", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the files differ from the models")
    args = parser.parse_args(argv)
    if args.check:
        stale = drifted()
        for name in stale:
            print(f"stale: {SCHEMA_DIR / name} (run `python -m schemas.jsonschema_files`)", file=sys.stderr)
        return 1 if stale else 0
    for path in write():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
