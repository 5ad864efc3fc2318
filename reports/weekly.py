"""The weekly "should we switch tiers" report: what it says, read from the marts (rendering is weekly_render.py).

Nothing is priced or projected here: spend is spend_daily's (through reports.spend), the recommendation,
the costs under each tier and the break-even curves are the decision marts' (tier_recommendation,
tier_projection, breakeven_curves), the assumptions are int_projection_assumptions' own sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from core.warehouse_lock import read_only
from reports.readiness import Evidence, Step, assess, current_step
from reports.spend import SpendQuery, require_table, run_spend
from reports.svg import Curve
from reports.weeks import IsoWeek

TREND_WEEKS = 4
TOP_MOVERS = 5
MOVING = ("switch", "evaluate_first")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Change:
    key: str
    this_week: Decimal
    last_week: Decimal

    @property
    def delta(self) -> Decimal:
        return self.this_week - self.last_week

    @property
    def share(self) -> float | None:
        """The change as a share of last week (None when last week was nothing)."""
        return None if self.last_week == 0 else float(self.delta / self.last_week)


@dataclass
class WorkloadSection:
    recommendation: dict[str, Any]  # the tier_recommendation row
    week_cost: Decimal
    weekly_tokens: list[tuple[str, int]]  # (ISO week, tokens) oldest first
    curves: list[Curve]
    steps: list[Step] = field(default_factory=list)  # empty: no migration recommended

    @property
    def name(self) -> str:
        return self.recommendation["workload"]

    @property
    def at(self) -> str:
        return current_step(self.steps) if self.steps else "-"


@dataclass
class WeeklyReport:
    week: IsoWeek
    generated_at: datetime
    warehouse: str
    total: Decimal
    previous_total: Decimal
    by_tier: list[Change]
    by_team: list[Change]
    movers: list[Change]
    days: list[date]
    daily_by_tier: dict[str, list[Decimal]]
    potential_savings: Decimal
    workloads: list[WorkloadSection]
    assumptions: list[dict[str, Any]]
    unpriced: list[dict[str, Any]]
    rejected: int
    late: int
    landed: int
    lag: Mapping[str, int | None] | None  # consumer lag per topic when Kafka answered, else None


def changes(con: duckdb.DuckDBPyConnection, key: str, week: IsoWeek, filters: tuple[tuple[str, str], ...] = ()) -> list[Change]:
    """Spend by `key` in the week against the week before (spend_daily through reports.spend)."""
    prev = week.previous()
    now = {r[key]: r["cost_usd"] or ZERO for r in run_spend(con, SpendQuery([key], week.start, week.end, filters))}
    before = {r[key]: r["cost_usd"] or ZERO for r in run_spend(con, SpendQuery([key], prev.start, prev.end, filters))}
    keys = sorted(set(now) | set(before), key=lambda k: (k is None, str(k)))
    return [Change("(none)" if k is None else str(k), now.get(k, ZERO), before.get(k, ZERO)) for k in keys]


def top_movers(con: duckdb.DuckDBPyConnection, week: IsoWeek, filters: tuple[tuple[str, str], ...] = ()) -> list[Change]:
    """The workloads whose spend changed most (either way) against the week before."""
    moved = [c for c in changes(con, "workload", week, filters) if c.delta != 0]
    return sorted(moved, key=lambda c: (-abs(c.delta), c.key))[:TOP_MOVERS]


def rows_of(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return bool(found and found[0])


def workload_curves(con: duckdb.DuckDBPyConnection, workload: str) -> list[Curve]:
    rows = rows_of(
        con,
        "select tier, provider, model, tokens_per_day, monthly_cost_usd from main.breakeven_curves"
        " where workload = ? order by tier, point",
        [workload],
    )
    curves: dict[str, list[tuple[int, Decimal | None]]] = {}
    names: dict[str, str] = {}
    for r in rows:
        names[r["tier"]] = f"{r['tier']}: {r['model']}"
        curves.setdefault(r["tier"], []).append((int(r["tokens_per_day"]), r["monthly_cost_usd"]))
    return [Curve(names[t], pts) for t, pts in curves.items()]


def _evidence(con: duckdb.DuckDBPyConnection, rec: dict[str, Any], week: IsoWeek, min_eval_samples: int) -> Evidence:
    workload, tier, model = rec["workload"], rec["recommended_tier"], rec["recommended_model"]
    option = rows_of(
        con,
        """select eval_n, eval_gap, p50_ms, p90_ms, p99_ms, latency_slo_ms from main.tier_projection
           where workload = ? and tier = ? and model = ? and (provider = ? or ? is null)
           order by eval_n desc nulls last limit 1""",
        [workload, tier, model, rec["recommended_provider"], rec["recommended_provider"]],
    )
    o = option[0] if option else {}
    shadow = con.execute(
        """select min(event_date), max(event_date) from main.priced_requests
           where workload = ? and model = ? and tier = ? and shadow""",
        [workload, model, tier],
    ).fetchone()
    live = rows_of(
        con,
        """select (model = ? and tier = ?) as candidate, cast(sum(requests - shadow_requests) as bigint) as live,
                  cast(sum(error_requests) as bigint) as errors
           from main.spend_daily where workload = ? and day >= ? and day < ? and requests > 0 group by 1""",
        [model, tier, workload, week.start, week.end],
    )
    by = {r["candidate"]: r for r in live}
    total_live = sum(r["live"] or 0 for r in live)
    cand, cur = by.get(True), by.get(False)

    def success(r: dict[str, Any] | None) -> float | None:
        return None if not r or not r["live"] else 1 - (r["errors"] or 0) / r["live"]

    scored = con.execute(
        """select count(eval_score) from main.priced_requests
           where workload = ? and model = ? and tier = ? and not shadow and event_date >= ? and event_date < ?""",
        [workload, model, tier, week.start, week.end],
    ).fetchone()
    return Evidence(
        candidate=f"{model} ({tier})",
        eval_n=o.get("eval_n"),
        min_eval_samples=min_eval_samples,
        eval_gap=o.get("eval_gap"),
        shadow_first=shadow[0] if shadow else None,
        shadow_last=shadow[1] if shadow else None,
        p50_ms=o.get("p50_ms"),
        p90_ms=o.get("p90_ms"),
        p99_ms=o.get("p99_ms"),
        latency_slo_ms=o.get("latency_slo_ms"),
        live_share=(cand["live"] or 0) / total_live if cand and total_live else 0.0,
        candidate_success=success(cand),
        current_success=success(cur),
        scored_this_week=int(scored[0]) if scored else 0,
    )


def _workloads(con: duckdb.DuckDBPyConnection, week: IsoWeek, min_eval_samples: int) -> list[WorkloadSection]:
    recs = rows_of(con, "select * from main.tier_recommendation order by workload")
    first = week.previous(TREND_WEEKS - 1)
    tokens: dict[str, dict[str, int]] = {}
    for r in run_spend(con, SpendQuery(["workload", "day"], first.start, week.end)):
        iso = str(IsoWeek.of(r["day"]))
        tokens.setdefault(r["workload"], {}).setdefault(iso, 0)
        tokens[r["workload"]][iso] += r["tokens_total"] or 0
    cost = {r["workload"]: r["cost_usd"] or ZERO for r in run_spend(con, SpendQuery(["workload"], week.start, week.end))}
    weeks = [str(week.previous(n)) for n in range(TREND_WEEKS - 1, -1, -1)]
    out = []
    for rec in recs:
        name = rec["workload"]
        steps = assess(_evidence(con, rec, week, min_eval_samples)) if rec["action"] in MOVING else []
        out.append(
            WorkloadSection(
                recommendation=rec,
                week_cost=cost.get(name, ZERO),
                weekly_tokens=[(w, tokens.get(name, {}).get(w, 0)) for w in weeks],
                curves=workload_curves(con, name),
                steps=steps,
            )
        )
    # the biggest saving first, then the biggest spend
    out.sort(key=lambda s: (-(s.recommendation["monthly_savings_usd"] or ZERO), -s.week_cost, s.name))
    return out


def unpriced_in(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[dict[str, Any]]:
    return rows_of(
        con,
        """select reason, provider, model, cast(sum(requests) as bigint) as requests,
                  cast(sum(tokens_total) as bigint) as tokens_total
           from main.unpriced_usage where day >= ? and day < ? group by all order by requests desc nulls last, 1, 2, 3""",
        [start, end],
    )


def landing_counts(con: duckdb.DuckDBPyConnection, start: date, end: date) -> tuple[int, int, int]:
    """(rejected events, late requests, landed requests) of the days [start, end)."""
    rejected = late = landed = 0
    if has_table(con, "raw", "rejected_events"):
        found = con.execute(
            "select count(*) from raw.rejected_events where rejected_at >= ? and rejected_at < ?", [start, end]
        ).fetchone()
        rejected = int(found[0]) if found else 0
    if has_table(con, "raw", "usage_events"):
        # late: landed more than a day after the request happened (its day's marts were built without it)
        found = con.execute(
            """select count(*), count(*) filter (where landed_at > event_time + interval 1 day)
               from raw.usage_events where event_date >= ? and event_date < ?""",
            [start, end],
        ).fetchone()
        landed, late = (int(found[0]), int(found[1])) if found else (0, 0)
    return rejected, late, landed


def collect(
    path: Path, week: IsoWeek, *, lag: Mapping[str, int | None] | None = None, now: datetime | None = None
) -> WeeklyReport:
    with read_only(path) as con:
        for table in ("spend_daily", "tier_recommendation", "breakeven_curves", "int_projection_assumptions"):
            require_table(con, table, path)
        prev = week.previous()
        totals = con.execute(
            """select cast(sum(cost_usd) filter (where day >= ? and day < ?) as decimal(38, 12)),
                      cast(sum(cost_usd) filter (where day >= ? and day < ?) as decimal(38, 12))
               from main.spend_daily""",
            [week.start, week.end, prev.start, prev.end],
        ).fetchone()
        assert totals is not None
        days = [week.start + timedelta(days=i) for i in range(7)]
        daily: dict[str, list[Decimal]] = {}
        for r in run_spend(con, SpendQuery(["tier", "day"], week.start, week.end)):
            daily.setdefault(r["tier"], [ZERO] * 7)[(r["day"] - week.start).days] = r["cost_usd"] or ZERO
        assumptions = rows_of(con, "select as_of, min_eval_samples, sources from main.int_projection_assumptions limit 1")
        asm = assumptions[0] if assumptions else {"min_eval_samples": 30, "sources": []}
        workloads = _workloads(con, week, int(asm["min_eval_samples"]))
        unpriced = unpriced_in(con, week.start, week.end)
        rejected, late, landed = landing_counts(con, week.start, week.end)
        return WeeklyReport(
            week=week,
            generated_at=now or datetime.now(UTC).replace(tzinfo=None, microsecond=0),
            warehouse=str(path),
            total=totals[0] or ZERO,
            previous_total=totals[1] or ZERO,
            by_tier=changes(con, "tier", week),
            by_team=changes(con, "team", week),
            movers=top_movers(con, week),
            days=days,
            daily_by_tier=daily,
            potential_savings=sum(
                (
                    w.recommendation["monthly_savings_usd"]
                    for w in workloads
                    if w.recommendation["action"] in MOVING and (w.recommendation["monthly_savings_usd"] or ZERO) > 0
                ),
                ZERO,
            ),
            workloads=workloads,
            assumptions=sorted(asm["sources"] or [], key=lambda s: s["name"]),
            unpriced=unpriced,
            rejected=rejected,
            late=late,
            landed=landed,
            lag=lag,
        )


def week_default(today: date | None = None) -> IsoWeek:
    return IsoWeek.last_full(today or datetime.now(UTC).date())
