"""The queries behind `tierwise latency | unpriced | idle | shadow`: what the marts hold, rolled up by the keys
the user asks for, with the same --by/--from/--to conventions as `tierwise spend`.

Nothing is priced here: sums of the marts' exact DECIMAL columns, and percentiles over the per-request mart
(a percentile of several days is computed from their requests, never averaged from daily percentiles).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from core.errors import TierwiseError
from core.warehouse_lock import read_only
from reports.spend import day_range, require_table
from reports.tables import Column


def money_sum(col: str) -> str:
    return f"cast(sum({col}) as decimal(38, 12))"


def count_sum(col: str) -> str:
    return f"cast(sum({col}) as bigint)"


@dataclass(frozen=True)
class Report:
    """One mart and how it rolls up: keys (name -> SQL), measures (name -> SQL aggregate), display columns."""

    name: str
    mart: str
    day_column: str
    keys: dict[str, str]
    default_by: str
    measures: dict[str, str]
    columns: list[Column]
    where: str = ""  # a fixed filter of the mart's rows
    order: str = ""  # ORDER BY after the keys ('' = keys only)
    empty: str = "nothing in that range"
    wrap: str = ""  # a SELECT over the grouped rows (as `g`) adding derived columns
    notes: list[str] = field(default_factory=list)

    def parse_by(self, text: str) -> list[str]:
        keys = [k.strip().lower() for k in text.split(",") if k.strip()]
        allowed = ", ".join(self.keys)
        if not keys:
            raise TierwiseError(f"--by needs at least one of: {allowed}")
        for key in keys:
            if key not in self.keys:
                raise TierwiseError(f"--by {key!r} is not a {self.name} key; use any of: {allowed}")
        if len(set(keys)) != len(keys):
            raise TierwiseError(f"--by {text!r} names a key twice")
        return keys

    def sql(self, by: Sequence[str], date_from: date | None, date_to: date | None) -> tuple[str, list[Any]]:
        where, params = day_range(self.day_column, date_from, date_to)
        if self.where:
            where = f"{where} and {self.where}" if where else f" where {self.where}"
        keys = [f"{self.keys[k]} as {k}" for k in by]
        measures = [f"{expr} as {name}" for name, expr in self.measures.items()]
        positions = ", ".join(str(i + 1) for i in range(len(by)))
        grouped = f"select {', '.join(keys + measures)} from main.{self.mart}{where} group by {positions}"
        order = ", ".join([*by, self.order] if self.order else by)
        if self.wrap:
            return f"with g as ({grouped}) {self.wrap} order by {order} nulls first", params
        return f"{grouped} order by {order} nulls first", params


def query_report(path: Path, report: Report, by: Sequence[str], date_from: date | None, date_to: date | None) -> list[dict]:
    report.sql(by, date_from, date_to)  # checks the day range before the warehouse is opened
    with read_only(path) as con:
        require_table(con, report.mart, path)
        return run_report(con, report, by, date_from, date_to, path)


def run_report(
    con: duckdb.DuckDBPyConnection,
    report: Report,
    by: Sequence[str],
    date_from: date | None,
    date_to: date | None,
    path: Path | str = "the warehouse",
) -> list[dict]:
    """query_report on a connection the caller holds."""
    sql, params = report.sql(by, date_from, date_to)
    try:
        cur = con.execute(sql, params)
    except duckdb.BinderException as exc:  # a warehouse built by an older tierwise
        first = str(exc).splitlines()[0]
        raise TierwiseError(f"{report.mart} in {path} lacks a column this report reads ({first}): rebuild the marts") from None
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


MONTH = "cast(date_trunc('month', {d}) as date)"

LATENCY = Report(
    name="latency",
    mart="priced_requests",
    day_column="event_date",
    keys={
        "model": "model",
        "tier": "tier",
        "provider": "provider",
        "workload": "workload",
        "team": "team",
        "day": "event_date",
        "month": MONTH.format(d="event_date"),
    },
    default_by="model,tier",
    measures={
        "requests": "cast(count(*) as bigint)",
        "error_requests": "cast(count(*) filter (where status = 'error') as bigint)",
        "error_rate": "cast(count(*) filter (where status = 'error') as double) / count(*)",
        "duration_ms_p50": "quantile_cont(duration_ms, 0.5)",
        "duration_ms_p90": "quantile_cont(duration_ms, 0.9)",
        "duration_ms_p99": "quantile_cont(duration_ms, 0.99)",
        "ttft_ms_p50": "quantile_cont(ttft_ms, 0.5)",
        "ttft_ms_p90": "quantile_cont(ttft_ms, 0.9)",
    },
    columns=[
        Column("requests", kind="count", total=True),
        Column("duration_ms_p50", "p50_ms", kind="number", places=0),
        Column("duration_ms_p90", "p90_ms", kind="number", places=0),
        Column("duration_ms_p99", "p99_ms", kind="number", places=0),
        Column("error_rate", "errors", kind="ratio"),
        Column("ttft_ms_p50", "ttft_p50_ms", kind="number", places=0),
        Column("ttft_ms_p90", "ttft_p90_ms", kind="number", places=0),
        Column("error_requests", "error_requests", kind="count", total=True),
    ],
    empty="no requests in that range",
)

UNPRICED = Report(
    name="unpriced",
    mart="unpriced_usage",
    day_column="day",
    keys={
        "reason": "reason",
        "tier": "tier",
        "provider": "provider",
        "model": "model",
        "workload": "workload",
        "deployment": "deployment",
        "gpu_type": "gpu_type",
        "day": "day",
        "month": MONTH.format(d="day"),
    },
    default_by="reason,provider,model",
    measures={
        "requests": count_sum("requests"),
        "tokens_total": count_sum("tokens_total"),
        "gpu_hours": money_sum("gpu_hours"),
        "first_seen": "min(first_seen)",
        "last_seen": "max(last_seen)",
    },
    columns=[
        Column("requests", kind="count", total=True),
        Column("tokens_total", "tokens", kind="count", total=True),
        Column("gpu_hours", kind="number", total=True),
        Column("last_seen"),
        Column("first_seen"),
    ],
    empty="no unpriced usage in that range: every request has a price",
    notes=["Add the missing prices to dbt_project/seeds (or `tierwise prices import litellm`), then `tierwise run`."],
)

IDLE = Report(
    name="idle",
    mart="selfhost_idle_cost",
    day_column="day",
    keys={"deployment": "deployment", "day": "day", "month": MONTH.format(d="day")},
    default_by="deployment",
    measures={
        "capacity_hours": count_sum("capacity_hours"),
        "idle_hours": count_sum("idle_hours"),
        "gpu_hours": money_sum("gpu_hours"),
        "idle_gpu_hours": money_sum("idle_gpu_hours"),
        "total_cost_usd": money_sum("total_cost_usd"),
        "attributed_cost_usd": money_sum("attributed_cost_usd"),
        "idle_gpu_cost_usd": money_sum("idle_gpu_cost_usd"),
        "idle_ops_cost_usd": money_sum("idle_ops_cost_usd"),
        "idle_cost_usd": money_sum("idle_cost_usd"),
    },
    wrap="select g.*, cast(g.idle_cost_usd / nullif(g.total_cost_usd, 0) as double) as idle_share from g",
    columns=[
        Column("idle_cost_usd", "idle_cost", kind="money", total=True),
        Column("idle_share", "idle_share", kind="ratio"),
        Column("total_cost_usd", "total_cost", kind="money", total=True),
        Column("idle_hours", kind="count", total=True),
        Column("capacity_hours", kind="count", total=True),
        Column("idle_gpu_hours", kind="number", total=True),
        Column("idle_gpu_cost_usd", "idle_gpu_cost", kind="money", total=True),
        Column("idle_ops_cost_usd", "idle_ops_cost", kind="money", total=True),
        Column("attributed_cost_usd", "attributed_cost", kind="money", total=True),
    ],
    empty="no self-hosted capacity in that range",
)


@dataclass(frozen=True)
class ShadowReport(Report):
    """Groups by role (baseline or shadow) and model too, and compares each row's mean score with its baseline's."""

    def sql(self, by: Sequence[str], date_from: date | None, date_to: date | None) -> tuple[str, list[Any]]:
        where, params = day_range(self.day_column, date_from, date_to)
        where = f"{where} and {self.where}" if where else f" where {self.where}"
        keys = [f"{self.keys[k]} as {k}" for k in by]
        measures = [f"{expr} as {name}" for name, expr in self.measures.items()]
        group = ", ".join(str(i + 1) for i in range(len(by) + 4))  # the keys, role, tier, provider, model
        partition = ", ".join(by)
        # the baseline's score: over all of the group's live scored requests, whichever model served them
        sql = f"""with g as (select {", ".join(keys + measures)} from main.{self.mart}{where} group by {group}),
            base as (select {partition}, sum(eval_score_mean * scored_requests) / nullif(sum(scored_requests), 0)
                     as baseline from g where role = 'baseline' group by {partition})
            select g.*, g.eval_score_mean - base.baseline as score_vs_baseline
            from g left join base using ({partition})
            order by {", ".join(f"g.{k}" for k in by)} nulls first, g.role, g.requests desc"""
        return sql, params


# Shadow evaluation: per workload that mirrored traffic to a candidate, the candidate's requests next to
# the baseline's (the same workload's live traffic), with the mean eval score and its gap to the baseline.
SHADOW = ShadowReport(
    name="shadow",
    mart="priced_requests",
    day_column="event_date",
    keys={
        "workload": "workload",
        "team": "team",
        "day": "event_date",
        "month": MONTH.format(d="event_date"),
    },
    default_by="workload",
    where="workload in (select distinct workload from main.priced_requests where shadow)",
    measures={
        "role": "case when shadow then 'shadow' else 'baseline' end",
        "tier": "tier",
        "provider": "provider",
        "model": "model",
        "requests": "cast(count(*) as bigint)",
        "scored_requests": "cast(count(eval_score) as bigint)",
        "eval_score_mean": "avg(eval_score)",
        "error_rate": "cast(count(*) filter (where status = 'error') as double) / count(*)",
        "duration_ms_p50": "quantile_cont(duration_ms, 0.5)",
        "token_cost_usd": money_sum("token_cost_usd"),
    },
    columns=[
        Column("role"),
        Column("provider"),
        Column("model"),
        Column("requests", kind="count"),
        Column("eval_score_mean", "eval_mean", kind="number"),
        Column("score_vs_baseline", "vs_baseline", kind="number"),
        Column("scored_requests", "scored", kind="count"),
        Column("duration_ms_p50", "p50_ms", kind="number", places=0),
        Column("error_rate", "errors", kind="ratio"),
        Column("token_cost_usd", "token_cost", kind="money", null="-"),
        Column("tier"),
    ],
    empty="no shadow traffic in that range (events with shadow: true)",
)
