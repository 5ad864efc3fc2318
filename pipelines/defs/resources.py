"""Dagster resources: the DuckDB warehouse and the Kafka cluster, configured from the environment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from ingest.broker import resolve_bootstrap
from ingest.warehouse import connect
from pipelines.settings import Settings
from tierwise.warehouse_lock import open_with_retry


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file. Writers go through the `tierwise_warehouse` pool; readers open read-only."""

    path: str

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = open_with_retry(lambda: connect(Path(self.path)))
        try:
            yield con
        finally:
            con.close()


class KafkaResource(dg.ConfigurableResource):
    """Where Kafka is: KAFKA_BOOTSTRAP_SERVERS, else this home's local broker."""

    topic_prefix: str = ""

    def bootstrap(self) -> str:
        return resolve_bootstrap(Settings.from_env().home)

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


def build_resources(settings: Settings | None = None) -> dict[str, dg.ConfigurableResource]:
    settings = settings or Settings.from_env()
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse)),
        "kafka": KafkaResource(topic_prefix=settings.topic_prefix),
    }
