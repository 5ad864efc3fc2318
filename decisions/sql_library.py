"""The dbt project's SQL library and seeds, loaded into any DuckDB connection.

dbt creates the library's macros in the warehouse at the start of every run; the CLI loads the very same
file here (rendered with plain Jinja: the library uses no dbt context), so `tierwise breakeven` and
`tierwise recommend --scenario` compute with the code the marts were built with.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import yaml

from core.errors import TierwiseError
from core.settings import project_dir

LIBRARY_FILE = Path("macros") / "sql_library.sql"
LIBRARY_MACRO = "tw_sql_library"
SEEDS_FILE = Path("seeds") / "_seeds.yml"


def library_path(project: Path | None = None) -> Path:
    return (project or project_dir()) / LIBRARY_FILE


@cache
def library_sql(path: Path | None = None) -> str:
    """The library's SQL text: the body of the tw_sql_library Jinja macro."""
    path = path or library_path()
    try:
        template = jinja2.Environment(autoescape=False).from_string(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TierwiseError(f"cannot read the SQL library {path}: {exc}") from exc
    return str(getattr(template.module, LIBRARY_MACRO)())


def load_library(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> None:
    """Create (or replace) the library's macros in `con`."""
    con.execute(library_sql(path))


def _seed_types(project: Path) -> dict[str, dict[str, str]]:
    spec = yaml.safe_load((project / SEEDS_FILE).read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for seed in spec.get("seeds", []):
        types = (seed.get("config") or {}).get("column_types") or {}
        out[seed["name"]] = {str(k): str(v) for k, v in types.items()}
    return out


def load_seed(con: duckdb.DuckDBPyConnection, name: str, project: Path | None = None) -> None:
    """Create table `name` from dbt_project/seeds/<name>.csv with the column types dbt gives it."""
    project = project or project_dir()
    types = _seed_types(project).get(name)
    csv = project / "seeds" / f"{name}.csv"
    if not csv.exists():
        raise TierwiseError(f"seed {csv} is missing")
    args: dict[str, Any] = {"header": True, "auto_detect": types is None}
    if types:
        args["columns"] = types
    rel = con.read_csv(str(csv), **args)
    con.register(f"_seed_{name}", rel)
    con.execute(f"create or replace table {name} as select * from _seed_{name}")
    con.unregister(f"_seed_{name}")


CATALOG_SEEDS = (
    "model_prices",
    "model_catalog",
    "model_licenses",
    "gpu_throughput",
    "gpu_prices",
    "selfhost_assumptions",
    "projection_assumptions",
)


def catalog_connection(project: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the library and the catalog seeds: the CLI's stand-in for the warehouse.

    `model_prices_in_force` mirrors stg_model_prices for a warehouse without imports: the seed rows, priority 0.
    """
    con = duckdb.connect(":memory:")
    load_library(con)
    for name in CATALOG_SEEDS:
        load_seed(con, name, project)
    con.execute(
        "create or replace view catalog_prices as select *, 'seed' as price_source, 0 as source_priority from model_prices"
    )
    return con
