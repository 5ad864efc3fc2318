"""Landing assets: drain llm.usage.v1 and llm.gpu.v1 into raw DuckDB tables, exactly once."""

from pathlib import Path

import dagster as dg

from landing.consumer import TopicLander
from landing.dirty_days import dirty_days_in
from landing.lake import import_lake
from landing.warehouse import RAW_SCHEMA
from pipelines.defs.alerts.resource import AlertsResource
from pipelines.defs.resources import KafkaResource, WarehouseResource
from pipelines.instance import WAREHOUSE_POOL
from pipelines.run_guard import record_owner
from streaming.topics import GPU_TOPIC, USAGE_TOPIC

LANDING_GROUP = "landing"


def _land(
    context: dg.AssetExecutionContext,
    kafka: KafkaResource,
    warehouse: WarehouseResource,
    alerts: AlertsResource,
    topic_name: str,
) -> dg.MaterializeResult:
    record_owner(context.instance, context.run)
    topic = kafka.topic(topic_name)
    bootstrap = kafka.bootstrap()
    with warehouse.writer() as con:
        # Files from scale-out workers (if any run) first, then whatever is still in Kafka.
        imported = import_lake(con, Path(warehouse.lake_dir), topic)
        lander = TopicLander(bootstrap, con, topic)
        result = lander.land(
            on_batch=lambda b: context.log.info(
                f"{topic}: batch of {b.landed} rows landed, {b.duplicates} duplicates, {b.rejected} rejected"
            )
        )
        dirty = dirty_days_in(con)
        rows = con.execute(f"SELECT count(*) FROM {RAW_SCHEMA}.{lander.contract.table}").fetchone()[0]  # type: ignore[index]
        # Volume and health alerts from what was just committed: one aggregate query on this connection.
        new_rows = result.landed + imported["landed"]
        observed = alerts.after_landing(con, context.log) if topic_name == USAGE_TOPIC and new_rows else None
    # Recorded and sent after the warehouse is let go: a slow receiver never holds its lock.
    alerts.settle(observed, context.log)
    return dg.MaterializeResult(
        metadata={
            "topic": topic,
            "landed": result.landed + imported["landed"],
            "duplicates_dropped": result.duplicates + imported["duplicates"],
            "rejected": result.rejected + imported["rejected"],
            "lake_files_imported": imported["files"],
            "content_fields_dropped": result.content_fields_dropped,
            "batches": result.batches,
            "days_touched": sorted(d.isoformat() for d in result.days),
            # Every day still waiting for a dbt rebuild; the dirty-days sensor reads this, not DuckDB.
            "dirty_days": [d.isoformat() for d in dirty],
            "table_rows": dg.MetadataValue.int(int(rows)),
        }
    )


def landing_asset(name: str, topic_name: str, description: str) -> dg.AssetsDefinition:
    """One landing asset per topic: same guarantees, same pool, keyed raw/<table> as dbt's sources."""

    @dg.asset(
        key=dg.AssetKey(["raw", name]),
        group_name=LANDING_GROUP,
        pool=WAREHOUSE_POOL,
        description=description,
        kinds={"kafka", "duckdb"},
    )
    def _asset(
        context: dg.AssetExecutionContext, kafka: KafkaResource, warehouse: WarehouseResource, alerts: AlertsResource
    ) -> dg.MaterializeResult:
        return _land(context, kafka, warehouse, alerts, topic_name)

    return _asset


raw_usage_events = landing_asset(
    "usage_events",
    USAGE_TOPIC,
    "Per-request LLM usage events landed from llm.usage.v1 (exactly once, unique by event_id).",
)
raw_gpu_usage = landing_asset("gpu_usage", GPU_TOPIC, "Self-hosted GPU capacity intervals landed from llm.gpu.v1.")


landing_job = dg.define_asset_job(
    "landing_job",
    selection=dg.AssetSelection.assets(raw_usage_events, raw_gpu_usage),
    description="Land everything pending on the usage and GPU topics.",
)
