"""Reading tierwise.yaml (or a scenario file) and handing it to dbt as two warehouse tables.

The file is validated by the pydantic models in schemas/workload_config.py; a bad value is one line that
names the file, the workload and the field. The dbt models read the config from `raw.organization_config`
and `raw.workload_config`, which `write_config` replaces before every dbt build (the Dagster dbt asset
calls it), so a config edit counts from the next build on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import yaml
from pydantic import BaseModel, ValidationError

from core.errors import TierwiseError
from core.home import config_path, config_path_is_explicit
from schemas.workload_config import TierwiseConfig

M = TypeVar("M", bound=BaseModel)

ORGANIZATION_TABLE = "raw.organization_config"
WORKLOAD_TABLE = "raw.workload_config"


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """'workload support-chat: ops_fte' from pydantic's location ('workloads', 2, 'ops_fte')."""
    parts: list[str] = []
    node = data
    i = 0
    while i < len(loc):
        key = loc[i]
        if key == "workloads" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            index = loc[i + 1]
            item = node.get("workloads", [])[index] if isinstance(node, dict) else None
            name = item.get("name") if isinstance(item, dict) else None
            parts.append(f"workload {name}" if isinstance(name, str) else f"workloads[{index}]")
            node = item
            i += 2
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
        i += 1
    head = [p for p in parts if p.startswith(("workload ", "workloads["))]
    fields = [p for p in parts if p not in head]
    return ": ".join(head + ([".".join(fields)] if fields else []))


def parse_file(path: Path, model: type[M]) -> M:
    """Read and validate a YAML file; any problem is a TierwiseError naming the file, workload and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TierwiseError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise TierwiseError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TierwiseError(f"{path}: expected a mapping with organization and workloads, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _where(tuple(first["loc"]), data)
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "is not a known field"
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        return_where = f"{where}: " if where else ""
        raise TierwiseError(f"{path}: {return_where}{message}{suffix}") from None


def load_config(path: Path | None = None) -> tuple[TierwiseConfig, Path | None]:
    """The config at `path` (default: TIERWISE_CONFIG, else $TIERWISE_HOME/tierwise.yaml); an absent
    default file is an empty config (every workload on the stated defaults), an absent named file an error."""
    explicit = path is not None or config_path_is_explicit()
    path = path or config_path()
    if not path.exists():
        if explicit:
            raise TierwiseError(f"config file {path} does not exist")
        return TierwiseConfig(), None
    return parse_file(path, TierwiseConfig), path


def write_config(con: duckdb.DuckDBPyConnection, config: TierwiseConfig, source: Path | None) -> None:
    """Replace the two config tables in the caller's warehouse connection, in one transaction."""
    con.execute("create schema if not exists raw")
    con.execute("begin transaction")
    try:
        con.execute(
            f"""create or replace table {ORGANIZATION_TABLE} (
                domicile varchar, eu_domiciled boolean not null, monthly_active_users bigint not null,
                config_file varchar, loaded_at timestamp not null)"""
        )
        org = config.organization
        con.execute(
            f"insert into {ORGANIZATION_TABLE} values (?, ?, ?, ?, ?)",
            [
                org.domicile,
                org.eu_domiciled,
                org.monthly_active_users,
                str(source) if source else None,
                datetime.now(UTC).replace(tzinfo=None),
            ],
        )
        con.execute(
            f"""create or replace table {WORKLOAD_TABLE} (
                workload varchar not null primary key, data_class varchar, ops_fte decimal(9, 4), customization boolean,
                latency_slo_ms double, capability_class varchar, candidate_models varchar[], exclude_models varchar[])"""
        )
        for w in config.workloads:
            con.execute(
                f"insert into {WORKLOAD_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    w.name,
                    w.data_class,
                    w.ops_fte,
                    w.customization,
                    w.latency_slo_ms,
                    w.capability_class,
                    w.candidate_models,
                    w.exclude_models,
                ],
            )
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def load_into_warehouse(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> Path | None:
    """Validate the config file and write it into the warehouse; returns the file used (None: defaults)."""
    config, source = load_config(path)
    write_config(con, config, source)
    return source
