"""Where tierwise keeps its run-time state.

Everything written at run time lives under ``TIERWISE_HOME`` (default ``./.tierwise``) so two homes
never mix: each gets its own warehouse, Dagster instance, broker, spill files and reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core import env


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def from_env(cls) -> Home:
        return cls(env.home_dir())

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def lake(self) -> Path:
        """Immutable Parquet files written by scale-out landing workers."""
        return self.root / "lake"

    @property
    def dagster(self) -> Path:
        return self.root / "dagster"

    @property
    def kafka(self) -> Path:
        return self.root / "kafka"

    @property
    def dbt(self) -> Path:
        """One folder per dbt run (its dbt.log and artifacts), named after the Dagster run id."""
        return self.root / "dbt"

    @property
    def spill(self) -> Path:
        return self.root / "spill"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def config(self) -> Path:
        """The workload and organization config file (docs/decisions.md)."""
        return self.root / "tierwise.yaml"

    def ensure(self) -> Home:
        for p in (self.root, self.dagster, self.kafka, self.spill, self.reports, self.lake, self.dbt):
            p.mkdir(parents=True, exist_ok=True)
        return self


def warehouse_path(home: Home | None = None) -> Path:
    """The DuckDB file: TIERWISE_WAREHOUSE when set, else the home's warehouse.duckdb."""
    return env.warehouse_override() or (home or Home.from_env()).warehouse


def config_path(home: Home | None = None) -> Path:
    """The config file: TIERWISE_CONFIG when set, else the home's tierwise.yaml (which may not exist)."""
    return env.config_override() or (home or Home.from_env()).config


def config_path_is_explicit() -> bool:
    """True when TIERWISE_CONFIG names the file: then it must exist."""
    return env.config_override() is not None
