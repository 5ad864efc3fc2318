"""What each rule measures, as observations for the state machine.

- After landing commits (`after_landing`): volumes, error rate, p99 latency, spikes and the rejected rate come
  from the raw tables over the trailing 24 hours ending at the newest landed event (so a midnight never resets
  a volume and a backfilled day leaves it alone), one aggregate query on landing's own connection; the
  break-even volume comes from the last build's `tier_projection` (part 5's decision tables: the break-even
  is never computed here).
- After a dbt build (`after_build`): spend this month (spend_monthly), budgets, the forecast (volume_forecast),
  unpriced usage and licenses (tier_projection), and the break-even again with the fresh projection.
- From Kafka (`from_lag`): consumer lag, read by a sensor that never opens the warehouse.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from alerts.config import AFTER_BUILD, AFTER_LANDING, FROM_KAFKA, AlertsConfig, Rule
from alerts.state import Observation

MILLION = Decimal(1_000_000)
Pairs = list[tuple[Rule, Observation]]

VOLUME_NOTES = {
    Decimal(5_000_000): "evaluate hosted open-model APIs",
    Decimal(40_000_000): "self-hosting beats closed APIs",
    Decimal(300_000_000): "self-hosting pays with an ops team",
    Decimal(1_000_000_000): "self-hosting beats hosted open-model APIs",
}


def fmt_tokens(value: Decimal | int) -> str:
    v = Decimal(value)
    for unit, size in (("B", 10**9), ("M", 10**6), ("k", 10**3)):
        if v >= size:
            return f"{(v / size).quantize(Decimal('0.1'))}{unit}"
    return f"{v:f}"


def fmt_usd(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01')):,}"


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()
    return {r[0] for r in rows}


def _applies(rule: Rule, workload: str) -> bool:
    return rule.workloads is None or workload in rule.workloads


def window_stats(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Per workload, over the 24 hours up to the newest landed event (and the 24 hours before, for spikes):
    tokens, requests, errors, p99 latency. The window ends at the newest event time, not the clock, so a
    backfill of old days changes nothing and a workload that stops sending falls back to zero as others go on.
    Shadow traffic (a candidate's copy of a request) is left out."""
    rows = con.execute(
        """
        WITH newest AS (SELECT max(event_time) AS newest, max(event_date) AS newest_date FROM raw.usage_events),
        recent AS (
            SELECT u.* FROM raw.usage_events AS u, newest AS n
            -- the dates bound the scan (DuckDB skips row groups by their min/max) before the exact time filter
            WHERE NOT u.shadow AND u.event_date >= n.newest_date - 2 AND u.event_time > n.newest - INTERVAL 48 HOUR
        ),
        workloads AS (
            -- every workload of the last 30 days, so one that went quiet is observed at zero (and resolves)
            SELECT DISTINCT u.workload FROM raw.usage_events AS u, newest AS n WHERE u.event_date >= n.newest_date - 30
        )
        SELECT w.workload, any_value(n.newest),
               sum(u.input_tokens + u.output_tokens) FILTER (u.event_time > n.newest - INTERVAL 24 HOUR),
               sum(u.input_tokens + u.output_tokens) FILTER (u.event_time <= n.newest - INTERVAL 24 HOUR),
               count(u.event_id) FILTER (u.event_time > n.newest - INTERVAL 24 HOUR),
               count(u.event_id) FILTER (u.event_time > n.newest - INTERVAL 24 HOUR AND u.status = 'error'),
               quantile_cont(u.duration_ms, 0.99) FILTER (u.event_time > n.newest - INTERVAL 24 HOUR)
        FROM workloads AS w CROSS JOIN newest AS n LEFT JOIN recent AS u ON u.workload = w.workload
        GROUP BY w.workload ORDER BY w.workload
        """
    ).fetchall()
    return {
        r[0]: {
            "newest": r[1],
            "tokens": Decimal(int(r[2] or 0)),
            "tokens_before": Decimal(int(r[3] or 0)),
            "requests": int(r[4] or 0),
            "errors": int(r[5] or 0),
            "p99_ms": r[6],
        }
        for r in rows
    }


def breakeven_volumes(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Per workload, its own break-even from the last build's tier_projection: the lowest volume from which
    an allowed self-hosted option is cheaper than today's tier for good (NULL break-evens never cross)."""
    if "main.tier_projection" not in _tables(con):
        return {}
    rows = con.execute(
        """
        SELECT workload, min(breakeven_tokens_per_day),
               arg_min(format('{} x {} {} ({})', gpus, gpu_type, model, option_id), breakeven_tokens_per_day)
        FROM main.tier_projection
        WHERE tier = 'self_hosted' AND allowed AND NOT is_current AND breakeven_tokens_per_day IS NOT NULL
        GROUP BY workload
        """
    ).fetchall()
    return {r[0]: {"breakeven": Decimal(int(r[1])), "option": r[2]} for r in rows}


def slo_by_workload(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    if "raw.workload_config" not in _tables(con):
        return {}
    rows = con.execute("SELECT workload, latency_slo_ms FROM raw.workload_config WHERE latency_slo_ms IS NOT NULL")
    return {r[0]: float(r[1]) for r in rows.fetchall()}


def _volume(rule: Rule, stats: dict[str, dict[str, Any]]) -> Iterator[Observation]:
    assert rule.threshold is not None
    note = VOLUME_NOTES.get(rule.threshold)
    for workload, s in stats.items():
        if not _applies(rule, workload):
            continue
        yield Observation(
            rule.name,
            workload,
            s["tokens"],
            rule.threshold,
            detail={"tokens_24h": str(s["tokens"]), "window_end": s["newest"].isoformat()},
            message=f"{fmt_tokens(s['tokens'])} tokens in the 24h to {s['newest']:%Y-%m-%d %H:%M} UTC, "
            f"threshold {fmt_tokens(rule.threshold)}/day" + (f" ({note})" if note else ""),
        )


def _breakeven(rule: Rule, stats: dict[str, dict[str, Any]], be: dict[str, dict[str, Any]]) -> Iterator[Observation]:
    for workload, b in be.items():
        if not _applies(rule, workload) or workload not in stats:
            continue
        tokens = stats[workload]["tokens"]
        yield Observation(
            rule.name,
            workload,
            tokens,
            b["breakeven"],
            detail={"tokens_24h": str(tokens), "breakeven_tokens_per_day": str(b["breakeven"]), "option": b["option"]},
            message=f"{fmt_tokens(tokens)} tokens/day against its break-even of {fmt_tokens(b['breakeven'])}/day "
            f"(self-hosted {b['option']})",
        )


def _health(rule: Rule, stats: dict[str, dict[str, Any]], slo: dict[str, float]) -> Iterator[Observation]:
    for workload, s in stats.items():
        if not _applies(rule, workload):
            continue
        if rule.kind == "error_rate" and s["requests"]:
            assert rule.threshold is not None
            rate = (Decimal(s["errors"]) / Decimal(s["requests"])).quantize(Decimal("0.000001"))
            yield Observation(
                rule.name,
                workload,
                rate,
                rule.threshold,
                detail={"errors": s["errors"], "requests": s["requests"]},
                message=f"{s['errors']} of {s['requests']} requests failed in the last 24h ({rate * 100:.2f}%)",
            )
        elif rule.kind == "p99_latency" and s["p99_ms"] is not None and workload in slo:
            limit = Decimal(repr(slo[workload])) if rule.threshold is None else rule.threshold
            p99 = Decimal(repr(float(s["p99_ms"]))).quantize(Decimal("0.001"))
            yield Observation(
                rule.name,
                workload,
                p99,
                limit,
                detail={"p99_ms": str(p99), "slo_ms": str(limit)},
                message=f"p99 latency {p99} ms over the last 24h, SLO {limit} ms",
            )
        elif rule.kind == "volume_spike" and s["tokens_before"] > 0:
            assert rule.threshold is not None
            factor = (s["tokens"] / s["tokens_before"]).quantize(Decimal("0.001"))
            yield Observation(
                rule.name,
                workload,
                factor,
                rule.threshold,
                detail={"tokens_24h": str(s["tokens"]), "tokens_previous_24h": str(s["tokens_before"])},
                message=f"{fmt_tokens(s['tokens'])} tokens in the last 24h, {factor}x the 24h before",
            )


def _rejected(rule: Rule, con: duckdb.DuckDBPyConnection) -> Iterator[Observation]:
    assert rule.threshold is not None
    row = con.execute(
        """
        WITH recent AS (SELECT max(landed_at) AS newest FROM raw.landing_batches)
        SELECT coalesce(sum(b.landed_rows), 0), coalesce(sum(b.rejected_rows), 0)
        FROM raw.landing_batches AS b, recent WHERE b.landed_at > recent.newest - INTERVAL 24 HOUR
        """
    ).fetchone()
    assert row is not None  # an aggregate always returns its row
    landed, rejected = int(row[0]), int(row[1])
    if landed + rejected == 0:
        return
    rate = (Decimal(rejected) / Decimal(landed + rejected)).quantize(Decimal("0.000001"))
    yield Observation(
        rule.name,
        "landing",
        rate,
        rule.threshold,
        detail={"rejected": rejected, "landed": landed},
        message=f"{rejected} of {landed + rejected} events rejected to the dead-letter topic in the last 24h",
    )


def after_landing(con: duckdb.DuckDBPyConnection, config: AlertsConfig) -> Pairs:
    """Observations of the rules evaluated right after landing commits (on landing's own connection)."""
    rules = config.rules_of(AFTER_LANDING)
    if not rules:
        return []
    stats = window_stats(con)
    be = breakeven_volumes(con) if any(r.kind == "breakeven" for r in rules) else {}
    slo = slo_by_workload(con) if any(r.kind == "p99_latency" for r in rules) else {}
    pairs: Pairs = []
    for rule in rules:
        if rule.kind == "volume":
            pairs += [(rule, o) for o in _volume(rule, stats)]
        elif rule.kind == "breakeven":
            pairs += [(rule, o) for o in _breakeven(rule, stats, be)]
        elif rule.kind == "rejected_rate":
            pairs += [(rule, o) for o in _rejected(rule, con)]
        else:
            pairs += [(rule, o) for o in _health(rule, stats, slo)]
    return pairs


def _month_spend(con: duckdb.DuckDBPyConnection, column: str, scope: str) -> tuple[date | None, dict[str, Decimal]]:
    row = con.execute("SELECT max(month) FROM main.spend_monthly").fetchone()
    month = row[0] if row else None
    if month is None:
        return None, {}
    rows = con.execute(
        f"SELECT {scope}, sum({column}) FROM main.spend_monthly WHERE month = ? AND {scope} IS NOT NULL GROUP BY 1",
        [month],
    ).fetchall()
    return month, {r[0]: Decimal(r[1] or 0) for r in rows}


def _closed_api_spend(rule: Rule, con: duckdb.DuckDBPyConnection) -> Iterator[Observation]:
    """Closed-API spend per workload over the 30 days up to the newest day of spend_daily: a month's worth,
    without the reset on the 1st that a calendar month would bring."""
    assert rule.threshold is not None
    rows = con.execute(
        """WITH newest AS (SELECT max(day) AS day FROM main.spend_daily)
           SELECT s.workload, any_value(n.day), sum(s.cost_usd) FROM main.spend_daily AS s, newest AS n
           WHERE s.tier = 'closed_api' AND s.day > n.day - 30 GROUP BY s.workload ORDER BY s.workload"""
    ).fetchall()
    for workload, last, usd in rows:
        if not _applies(rule, workload):
            continue
        usd = Decimal(usd or 0)
        yield Observation(
            rule.name,
            workload,
            usd,
            rule.threshold,
            detail={"closed_api_cost_usd": str(usd), "days": 30, "through": str(last)},
            message=f"closed-API spend {fmt_usd(usd)} in the 30 days to {last}, above {fmt_usd(rule.threshold)}/month: "
            "evaluate a hosted open-model API",
        )


def _days_elapsed(month: date, today: date) -> tuple[int, int]:
    days = calendar.monthrange(month.year, month.month)[1]
    if (today.year, today.month) != (month.year, month.month):
        return days, days
    return today.day, days


def after_build(con: duckdb.DuckDBPyConnection, config: AlertsConfig, today: date) -> Pairs:
    """Observations of the rules evaluated after a dbt build, from the marts and decision tables."""
    rules = config.rules_of(AFTER_BUILD)
    tables = _tables(con)
    pairs: Pairs = []
    for rule in rules:
        if rule.kind == "breakeven" and "main.tier_projection" in tables:
            pairs += [(rule, o) for o in _breakeven(rule, window_stats(con), breakeven_volumes(con))]
        elif rule.kind == "closed_api_spend" and "main.spend_daily" in tables:
            pairs += [(rule, o) for o in _closed_api_spend(rule, con)]
        elif rule.kind == "budget" and "main.spend_monthly" in tables:
            assert rule.scope is not None and rule.budgets is not None
            month, spend = _month_spend(con, "cost_usd", rule.scope)
            if month is None:
                continue
            elapsed, days = _days_elapsed(month, today)
            for name, budget in sorted(rule.budgets.items()):
                usd = spend.get(name, Decimal(0))
                value = (usd * days / elapsed).quantize(Decimal("0.01")) if rule.projected else usd
                what = f"projected {fmt_usd(value)} at the run rate of {fmt_usd(usd)} in {elapsed} of {days} days"
                pairs.append(
                    (
                        rule,
                        Observation(
                            rule.name,
                            f"{rule.scope}:{name}",
                            value,
                            budget,
                            detail={"month": str(month), "month_to_date_usd": str(usd), "budget_usd": str(budget)},
                            message=(what if rule.projected else f"{fmt_usd(usd)} spent")
                            + f" in {month:%Y-%m} against a budget of {fmt_usd(budget)}",
                        ),
                    )
                )
        elif rule.kind == "forecast" and "main.volume_forecast" in tables:
            assert rule.weeks is not None
            horizon = Decimal(rule.weeks * 7)
            for workload, days_to, crossing, on, note in con.execute(
                "SELECT workload, days_to_crossing, crossing, crossing_date, note FROM main.volume_forecast "
                "WHERE crossing_date IS NOT NULL ORDER BY workload"
            ).fetchall():
                if _applies(rule, workload):
                    pairs.append(
                        (
                            rule,
                            Observation(
                                rule.name,
                                workload,
                                Decimal(int(days_to)),
                                horizon,
                                direction="below",
                                detail={"crossing": crossing, "crossing_date": str(on), "days_to_crossing": int(days_to)},
                                message=f"forecast to cross {crossing} on {on} ({note})",
                            ),
                        )
                    )
        elif rule.kind == "unpriced" and "main.spend_monthly" in tables:
            month, unpriced = _month_spend(con, "unpriced_requests", "workload")
            for workload, n in sorted(unpriced.items()):
                if _applies(rule, workload):
                    pairs.append(
                        (
                            rule,
                            Observation(
                                rule.name,
                                workload,
                                n,
                                rule.threshold if rule.threshold is not None else Decimal(1),
                                detail={"month": str(month), "unpriced_requests": int(n)},
                                message=f"{n} requests in {month:%Y-%m} used a model with no price (`tierwise unpriced`)",
                            ),
                        )
                    )
        elif rule.kind == "license" and "main.tier_projection" in tables:
            rows = con.execute(
                """SELECT p.workload, any_value(p.model), string_agg(b.detail, '; ')
                   FROM main.tier_projection AS p, unnest(p.blockers) AS u(b)
                   WHERE p.is_current AND b.rule = 'license' AND b.detail NOT LIKE '%is proprietary%'
                   GROUP BY p.workload"""
            ).fetchall()
            blocked = {r[0]: (r[1], r[2]) for r in rows}
            current = [r[0] for r in con.execute("SELECT DISTINCT workload FROM main.tier_projection").fetchall()]
            for workload in sorted(current):
                if _applies(rule, workload):
                    model, detail = blocked.get(workload, (None, None))
                    pairs.append(
                        (
                            rule,
                            Observation(
                                rule.name,
                                workload,
                                Decimal(1 if model else 0),
                                Decimal(1),
                                detail={"model": model, "license": detail} if model else {},
                                message=f"{model} runs today but its license forbids this organization: {detail}"
                                if model
                                else "no license problem",
                            ),
                        )
                    )
    return pairs


def from_lag(config: AlertsConfig, lag: dict[str, int]) -> Pairs:
    pairs: Pairs = []
    for rule in config.rules_of(FROM_KAFKA):
        assert rule.threshold is not None
        for topic, behind in sorted(lag.items()):
            pairs.append(
                (
                    rule,
                    Observation(
                        rule.name,
                        topic,
                        Decimal(behind),
                        rule.threshold,
                        detail={"lag": behind},
                        message=f"landing is {behind:,} events behind on {topic}",
                    ),
                )
            )
    return pairs
