"""Dagster resources: the DuckDB warehouse, the Kafka cluster and the dbt run folders of one tierwise home.

Each resource carries its configuration (built once from Settings by `build_resources`), so asset
bodies never read the environment themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from core.home import Home
from core.settings import Settings
from core.warehouse_lock import open_with_retry
from landing.warehouse import connect
from pipelines.defs.alerts.resource import alerts_resource
from streaming.broker import resolve_bootstrap


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file. Writers go through the `tierwise_warehouse` pool; readers open read-only."""

    path: str
    # Parquet files written by scale-out landing workers, imported by the landing assets.
    lake_dir: str

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = open_with_retry(lambda: connect(Path(self.path)))
        try:
            yield con
        finally:
            con.close()


class KafkaResource(dg.ConfigurableResource):
    """Where Kafka is: KAFKA_BOOTSTRAP_SERVERS, else the local broker of the home at `home_dir`."""

    home_dir: str
    topic_prefix: str = ""

    def bootstrap(self) -> str:
        return resolve_bootstrap(Home(Path(self.home_dir)))

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


class DbtRunsResource(dg.ConfigurableResource):
    """Where each dbt run keeps its dbt.log and artifacts: one folder per Dagster run id."""

    runs_dir: str


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse), lake_dir=str(settings.home.lake)),
        "kafka": KafkaResource(home_dir=str(settings.home.root), topic_prefix=settings.topic_prefix),
        "dbt_runs": DbtRunsResource(runs_dir=str(settings.home.dbt)),
        "alerts": alerts_resource(settings.home),
    }
