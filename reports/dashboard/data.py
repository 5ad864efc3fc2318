"""What the dashboard's page shows, read from the marts on one short read-only connection.

The numbers come from the same code as the CLI and the weekly report: spend through reports.spend, latency
through reports.marts.LATENCY, month-to-date through reports.burn, recommendations and break-even curves from
the decision marts, top movers through reports.weekly. Nothing is priced here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from core.errors import TierwiseError
from core.warehouse_lock import read_only
from reports.burn import Burn, month_burn
from reports.marts import LATENCY, run_report
from reports.spend import GROUP_KEYS, SpendQuery, require_table, run_spend
from reports.svg import Curve
from reports.weekly import Change, has_table, landing_counts, rows_of, top_movers, unpriced_in, workload_curves
from reports.weeks import IsoWeek

BY_KEYS = ("tier", "workload", "team", "provider", "model")
DEFAULT_DAYS = 30
# A pipeline run holds the warehouse's write lock for its whole build: the page waits this long, then shows
# the last page it could read (a reader must never make the pipeline wait long either: connections are short).
LOCK_WAIT_S = 3.0


@dataclass(frozen=True)
class Filters:
    date_from: date  # inclusive
    date_to: date  # exclusive
    team: str | None
    by: str

    @classmethod
    def parse(cls, params: Mapping[str, str], today: date) -> Filters:
        def day(name: str, default: date) -> date:
            text = (params.get(name) or "").strip()
            if not text:
                return default
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise TierwiseError(f"{name}={text!r} is not a date (YYYY-MM-DD)") from None

        date_to = day("to", today + timedelta(days=1))
        date_from = day("from", date_to - timedelta(days=DEFAULT_DAYS))
        if date_to <= date_from:
            raise TierwiseError(f"to={date_to} must be after from={date_from} (to is exclusive)")
        by = (params.get("by") or "tier").strip()
        if by not in BY_KEYS:
            raise TierwiseError(f"by={by!r} is not one of {', '.join(BY_KEYS)}")
        team = (params.get("team") or "").strip() or None
        return cls(date_from, date_to, team, by)

    @property
    def where(self) -> tuple[tuple[str, str], ...]:
        return (("team", self.team),) if self.team else ()


@dataclass
class Freshness:
    newest_event: datetime | None
    newest_landed: datetime | None
    marts_through: date | None
    read_at: datetime


@dataclass
class PageData:
    filters: Filters
    freshness: Freshness
    teams: list[str]
    days: list[date]
    series: dict[str, list[Decimal]]  # key -> spend per day, the biggest keys first
    spend_rows: list[dict[str, Any]]  # by the chosen key, over the range
    total: Decimal
    requests: int
    unpriced_requests: int
    burn: Burn
    movers_week: IsoWeek
    movers: list[Change]
    recommendations: list[dict[str, Any]]
    curves: dict[str, list[Curve]]
    latency: list[dict[str, Any]]
    quality: dict[str, Any]
    alerts: list[dict[str, Any]] = field(default_factory=list)


def active_alerts(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """ACTIVE ALERTS HOOK: the alerts the dashboard lists (rule, severity, subject, since, detail).

    No alert rules are evaluated yet; the alerting package returns its active alerts from here."""
    return []


MAX_SERIES = 8


def _series(rows: list[dict[str, Any]], by: str, days: list[date]) -> dict[str, list[Decimal]]:
    index = {d: i for i, d in enumerate(days)}
    per_key: dict[str, list[Decimal]] = {}
    for r in rows:
        key = "(none)" if r[by] is None else str(r[by])
        per_key.setdefault(key, [Decimal(0)] * len(days))[index[r["day"]]] += r["cost_usd"] or Decimal(0)
    ranked = sorted(per_key, key=lambda k: (-sum(per_key[k]), k))
    out = {k: per_key[k] for k in ranked[:MAX_SERIES]}
    rest = ranked[MAX_SERIES:]
    if rest:
        out["other"] = [sum((per_key[k][i] for k in rest), Decimal(0)) for i in range(len(days))]
    return out


def _freshness(con: duckdb.DuckDBPyConnection) -> Freshness:
    event = landed = None
    if has_table(con, "raw", "usage_events"):
        event, landed = con.execute("select max(event_time), max(landed_at) from raw.usage_events").fetchone() or (None, None)
    through = con.execute("select max(day) from main.spend_daily").fetchone()
    return Freshness(event, landed, through[0] if through else None, datetime.now(UTC).replace(tzinfo=None, microsecond=0))


def _quality(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, Any]:
    rejected, late, landed = landing_counts(con, f.date_from, f.date_to)
    unpriced = sum(u["requests"] or 0 for u in unpriced_in(con, f.date_from, f.date_to))
    return {"unpriced": unpriced, "rejected": rejected, "late": late, "landed": landed}


def collect_page(path: Path, f: Filters, today: date) -> PageData:
    with read_only(path, timeout_s=LOCK_WAIT_S) as con:
        require_table(con, "spend_daily", path)
        days = [f.date_from + timedelta(days=i) for i in range((f.date_to - f.date_from).days)]
        daily = run_spend(con, SpendQuery([f.by, "day"], f.date_from, f.date_to, f.where))
        rows = run_spend(con, SpendQuery([f.by], f.date_from, f.date_to, f.where))
        rows.sort(key=lambda r: -(r["cost_usd"] or Decimal(0)))
        teams = [
            r[0] for r in con.execute("select distinct team from main.spend_daily where team is not null order by 1").fetchall()
        ]
        recs = (
            rows_of(con, "select * from main.tier_recommendation order by workload")
            if has_table(con, "main", "tier_recommendation")
            else []
        )
        if f.team:  # the workloads the team's spend is on
            mine = {r["workload"] for r in run_spend(con, SpendQuery(["workload"], f.date_from, f.date_to, f.where))}
            recs = [r for r in recs if r["workload"] in mine]
        has_curves = has_table(con, "main", "breakeven_curves")
        movers_week = IsoWeek.last_full(today)
        latency = run_report(con, LATENCY, ["model", "tier"], f.date_from, f.date_to) if not f.team else _team_latency(con, f)
        return PageData(
            filters=f,
            freshness=_freshness(con),
            teams=teams,
            days=days,
            series=_series(daily, f.by, days),
            spend_rows=rows,
            total=sum((r["cost_usd"] or Decimal(0) for r in rows), Decimal(0)),
            requests=sum(r["requests"] or 0 for r in rows),
            unpriced_requests=sum(r["unpriced_requests"] or 0 for r in rows),
            burn=month_burn(con, today, f.where),
            movers_week=movers_week,
            movers=top_movers(con, movers_week, f.where),
            recommendations=recs,
            curves={r["workload"]: workload_curves(con, r["workload"]) for r in recs} if has_curves else {},
            latency=latency,
            quality=_quality(con, f),
            alerts=active_alerts(con),
        )


def _team_latency(con: duckdb.DuckDBPyConnection, f: Filters) -> list[dict[str, Any]]:
    """LATENCY for one team's requests (the report's measures over the team's rows)."""
    measures = ", ".join(f"{expr} as {name}" for name, expr in LATENCY.measures.items())
    return rows_of(
        con,
        f"""select model, tier, {measures} from main.priced_requests
            where event_date >= ? and event_date < ? and team = ? group by 1, 2 order by 1, 2""",
        [f.date_from, f.date_to, f.team],
    )


assert set(BY_KEYS) <= set(GROUP_KEYS)
