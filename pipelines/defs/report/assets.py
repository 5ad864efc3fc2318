"""The weekly report as a Dagster asset: one partition per ISO week (Monday to Monday, UTC), so a past week
can be rebuilt from the UI after a price correction, and a schedule that writes last week's every Monday."""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg

from core.home import Home
from core.settings import Settings
from pipelines.defs.resources import KafkaResource, WarehouseResource
from reports.status import kafka_lag
from reports.weekly import collect
from reports.weekly_render import write
from reports.weeks import IsoWeek
from streaming.topics import GPU_TOPIC, USAGE_TOPIC

# The marts the report reads: the report of a week waits for their days of that week (daily -> weekly).
READS = ("spend_daily", "unpriced_usage", "tier_recommendation", "breakeven_curves")


def weekly_partitions(settings: Settings | None = None) -> dg.WeeklyPartitionsDefinition:
    settings = settings or Settings.from_env()
    start = IsoWeek.of(settings.partitions_start).start  # the Monday of the first day's week
    # day_offset=1: weeks start on Monday, as ISO weeks do; the partition key is the Monday's date
    return dg.WeeklyPartitionsDefinition(start_date=start.isoformat(), day_offset=1, timezone="UTC")


class ReportsResource(dg.ConfigurableResource):
    """Where the weekly reports are written: $TIERWISE_HOME/reports."""

    reports_dir: str


@dg.asset(
    key="weekly_report",
    group_name="reports",
    owners=["team:finops"],
    kinds={"markdown", "html"},
    partitions_def=weekly_partitions(),
    deps=[dg.AssetKey(name) for name in READS],
    check_specs=[
        dg.AssetCheckSpec(
            "totals_add_up",
            asset="weekly_report",
            description="The week's spend by tier and by team each add up to its total, to the cent.",
        )
    ],
    description=(
        'The weekly "should we switch tiers" report of one ISO week: spend and its change by tier and team, '
        "top movers, each workload's recommendation with its break-even chart and migration readiness, the "
        "assumptions and the data quality, as Markdown and one offline HTML file (`tierwise report --week`)."
    ),
)
def weekly_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, kafka: KafkaResource, reports: ReportsResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    week = IsoWeek.of(date.fromisoformat(context.partition_key))
    lag = kafka_lag(Home(Path(kafka.home_dir)), [kafka.topic(USAGE_TOPIC), kafka.topic(GPU_TOPIC)])
    # Read-only: the report never takes the warehouse's write lock, so it needs no slot of the writers' pool.
    result = collect(Path(warehouse.path), week, lag=lag)
    md, html = write(result, Path(reports.reports_dir))
    context.log.info(f"weekly report {week}: {md} and {html}")
    yield dg.MaterializeResult(
        metadata={
            "week": str(week),
            "markdown": dg.MetadataValue.path(str(md)),
            "html": dg.MetadataValue.path(str(html)),
            "total_spend_usd": format(result.total, "f"),
            "potential_monthly_savings_usd": format(result.potential_savings, "f"),
            "workloads_to_move": sum(1 for w in result.workloads if w.steps),
        }
    )
    by_tier = sum((c.this_week for c in result.by_tier), Decimal(0))
    by_team = sum((c.this_week for c in result.by_team), Decimal(0))
    yield dg.AssetCheckResult(
        check_name="totals_add_up",
        passed=by_tier == result.total == by_team,
        metadata={
            "total_usd": format(result.total, "f"),
            "by_tier_usd": format(by_tier, "f"),
            "by_team_usd": format(by_team, "f"),
        },
    )


report_job = dg.define_asset_job(
    "weekly_report_job",
    selection=dg.AssetSelection.assets(weekly_report),
    description="Write the weekly report of one ISO week.",
)
# Every Monday shortly after midnight UTC (after the night's builds of Sunday): last week's report.
weekly_report_schedule = dg.build_schedule_from_partitioned_job(report_job, hour_of_day=1, minute_of_hour=0)
