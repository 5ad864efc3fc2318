"""Reading tierwise.yaml (or a scenario file) and handing it to dbt as two warehouse tables.

The file is validated by the pydantic models in schemas/workload_config.py; a bad value is one line that
names the file, the workload and the field. The dbt models read the config from `raw.organization_config`
and `raw.workload_config`, which `write_config` replaces before every dbt build (the Dagster dbt asset
calls it), so a config edit counts from the next build on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
from pydantic import BaseModel

from core.errors import TierwiseError
from core.home import config_path, config_path_is_explicit
from core.yaml_config import named_items, read_text, validate, yaml_mapping
from schemas.workload_config import TierwiseConfig

M = TypeVar("M", bound=BaseModel)

ORGANIZATION_TABLE = "raw.organization_config"
WORKLOAD_TABLE = "raw.workload_config"


def parse_file(path: Path, model: type[M]) -> M:
    """Read and validate a YAML file; any problem is a TierwiseError naming the file, workload and field."""
    data = yaml_mapping(read_text(path), str(path), "organization and workloads")
    return validate(model, data, str(path), named_items({"workloads": "workload"}))


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
