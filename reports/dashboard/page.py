"""The dashboard's page as HTML: server-rendered, inline CSS and SVG, no script, nothing fetched.

Names from events (workload, team, model, provider) are untrusted: every value goes through `h()` (HTML
escaping, quotes included) and the Content-Security-Policy forbids scripts, so a workload named
`<script>alert(1)</script>` reads as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

from reports.dashboard.data import BY_KEYS, PageData
from reports.svg import Series, breakeven_chart, stacked_bars, tokens_label
from reports.tables import money_text
from reports.weekly_render import change_text

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'"
CSS = """body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f3a5f;color:#fff;padding:.6em 1.2em}header h1{margin:0;font-size:20px}
header p{margin:.2em 0 0;font-size:12px;opacity:.9}main{padding:0 1.2em 2em;max-width:1200px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:.6em 1em;margin:1em 0}
h2{font-size:16px;margin:.2em 0 .6em}table{border-collapse:collapse;margin:.3em 0}
th,td{border-bottom:1px solid #eee;padding:3px 10px;font-size:13px;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.kpis{display:flex;gap:1.5em;flex-wrap:wrap}
.kpi{min-width:160px}.kpi b{display:block;font-size:22px}.kpi span{font-size:12px;color:#555}
form{display:flex;gap:1em;align-items:end;flex-wrap:wrap}label{font-size:12px;display:flex;flex-direction:column}
.warn{background:#fff4e5;border-color:#f0c36d}details summary{cursor:pointer}svg{max-width:100%}"""

HEAD = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\"><link rel='icon' href='data:,'>"
    f"<title>tierwise FinOps</title><style>{CSS}</style></head>"
)


def h(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = (), ident: str = "") -> str:
    head = "".join(f"<th{' class=n' if i in right else ''}>{h(x)}</th>" for i, x in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i in right else ''}>{h(c)}</td>" for i, c in enumerate(r)) + "</tr>" for r in rows
    )
    return f"<table{f' id={ident}' if ident else ''}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _form(d: PageData) -> str:
    f = d.filters
    teams = "".join(f"<option value='{h(t)}'{' selected' if t == f.team else ''}>{h(t)}</option>" for t in d.teams)
    by = "".join(f"<option value='{k}'{' selected' if k == f.by else ''}>{k}</option>" for k in BY_KEYS)
    return (
        "<form method='get' action='/' id='filters'>"
        f"<label>from (UTC, inclusive)<input type='date' name='from' value='{f.date_from}'></label>"
        f"<label>to (UTC, exclusive)<input type='date' name='to' value='{f.date_to}'></label>"
        f"<label>team<select name='team'><option value=''>all teams</option>{teams}</select></label>"
        f"<label>stack by<select name='by'>{by}</select></label>"
        "<button type='submit'>Apply</button></form>"
    )


def _kpis(d: PageData) -> str:
    b = d.burn
    projected = "-" if b.projected is None else money_text(b.projected)
    items = [
        ("total-spend", money_text(d.total), f"spend {d.filters.date_from} .. {d.filters.date_to} (USD)"),
        ("requests", f"{d.requests:,}", "requests"),
        ("mtd", money_text(b.month_to_date), f"month to date, {b.month_start:%B %Y} (USD)"),
        ("projected", projected, f"projected month end at the pace of its {b.complete_days} complete day(s) (USD)"),
    ]
    return (
        "<div class=kpis>"
        + "".join(f"<div class=kpi><b id={i}>{h(v)}</b><span>{h(t)}</span></div>" for i, v, t in items)
        + "</div>"
    )


def _spend(d: PageData) -> str:
    f = d.filters
    chart = stacked_bars(
        [f"{day:%m-%d}" for day in d.days],
        [Series(k, v) for k, v in d.series.items()],
        title=f"Spend per day by {f.by} (USD)" + (f", team {f.team}" if f.team else ""),
        width=1000,
    )
    rows = [
        [
            "(none)" if r[f.by] is None else r[f.by],
            money_text(r["cost_usd"] or Decimal(0)),
            f"{r['requests'] or 0:,}",
            tokens_label(r["tokens_total"] or 0),
            f"{r['unpriced_requests'] or 0:,}",
        ]
        for r in d.spend_rows
    ]
    table = _table([f.by, "spend (USD)", "requests", "tokens", "unpriced requests"], rows, right=(1, 2, 3, 4), ident="spend")
    return f"<section id=spend-section><h2>Spend over time</h2>{chart}{table}</section>"


def _movers(d: PageData) -> str:
    rows = [[c.key, money_text(c.this_week), money_text(c.last_week), change_text(c)] for c in d.movers]
    body = (
        _table(["workload", "this week", "last week", "change"], rows, right=(1, 2, 3), ident="movers")
        if rows
        else "<p>No change.</p>"
    )
    return f"<section><h2>Top movers, {h(d.movers_week)} against the week before (USD)</h2>{body}</section>"


def _recommendations(d: PageData) -> str:
    rows, charts = [], []
    for r in d.recommendations:
        costs = r["costs_by_tier"] or {}
        rows.append(
            [
                r["workload"],
                f"{r['tier_now']}: {r['model_now']}",
                tokens_label(r["tokens_per_day"] or 0),
                r["action"],
                "-" if r["recommended_model"] is None else f"{r['recommended_tier']}: {r['recommended_model']}",
                "-" if r["monthly_savings_usd"] is None else money_text(r["monthly_savings_usd"]),
                *(
                    money_text(costs[t]["monthly_cost_usd"]) if t in costs else "-"
                    for t in ("closed_api", "hosted_open_api", "self_hosted")
                ),
            ]
        )
        reasons = "".join(f"<li>[{h(x['rule'])}] {h(x['detail'])}</li>" for x in r["reasons"] or [])
        reasons += "".join(f"<li>blocked [{h(x['rule'])}] {h(x['detail'])}</li>" for x in r["blockers"] or [])
        chart = breakeven_chart(
            d.curves.get(r["workload"], []), position=r["tokens_per_day"], title=f"{r['workload']}: monthly cost by tier (USD)"
        )
        charts.append(f"<details><summary>{h(r['workload'])}: {h(r['action'])}</summary>{chart}<ul>{reasons}</ul></details>")
    headers = [
        "workload",
        "today",
        "tokens/day",
        "action",
        "recommended",
        "monthly savings",
        "closed API/mo",
        "hosted open/mo",
        "self-hosted/mo",
    ]
    table = _table(headers, rows, right=(2, 5, 6, 7, 8), ident="recommendations")
    return (
        f"<section><h2>Break-even position and recommendation per workload (USD a month)</h2>{table}{''.join(charts)}</section>"
    )


def _latency(d: PageData) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:,.0f}"

    rows = [
        [
            r["model"],
            r["tier"],
            f"{r['requests']:,}",
            ms(r["duration_ms_p50"]),
            ms(r["duration_ms_p90"]),
            ms(r["duration_ms_p99"]),
            f"{float(r['error_rate']) * 100:.2f}%",
        ]
        for r in d.latency
    ]
    table = _table(
        ["model", "tier", "requests", "p50 ms", "p90 ms", "p99 ms", "error rate"], rows, right=(2, 3, 4, 5, 6), ident="latency"
    )
    return f"<section><h2>Latency and errors by model and tier</h2>{table}</section>"


def _quality(d: PageData, lag: dict[str, int | None] | None) -> str:
    q = d.quality
    lag_text = (
        "Kafka not reachable"
        if lag is None
        else ", ".join(f"{t}: {'-' if n is None else f'{n:,}'}" for t, n in sorted(lag.items()))
    )
    rows = [[f"{q['landed']:,}", f"{q['unpriced']:,}", f"{q['rejected']:,}", f"{q['late']:,}", lag_text]]
    table = _table(
        ["requests landed", "unpriced requests", "rejected events", "late (landed 1+ day after)", "consumer lag (messages)"],
        rows,
        right=(0, 1, 2, 3),
        ident="quality",
    )
    return f"<section><h2>Data quality</h2>{table}</section>"


def _alerts(d: PageData) -> str:
    if not d.alerts:
        body = "<p>No active alerts.</p>"
    else:
        body = _table(
            ["rule", "severity", "subject", "since", "detail"],
            [[a.get("rule"), a.get("severity"), a.get("subject"), a.get("since"), a.get("detail")] for a in d.alerts],
        )
    return f"<section id=alerts><h2>Active alerts</h2>{body}</section>"


def _freshness(d: PageData, stale_note: str | None) -> tuple[str, str]:
    fr = d.freshness
    parts = [
        f"newest request {fr.newest_event:%Y-%m-%d %H:%M} UTC" if fr.newest_event else "no request landed yet",
        f"landed {fr.newest_landed:%Y-%m-%d %H:%M} UTC" if fr.newest_landed else "",
        f"marts built through {fr.marts_through}" if fr.marts_through else "marts not built",
        f"read {fr.read_at:%Y-%m-%d %H:%M:%S} UTC",
    ]
    text = "; ".join(p for p in parts if p)
    warn = f"<section class=warn id=stale>{h(stale_note)}</section>" if stale_note else ""
    return f"<p id=freshness>Data: {h(text)}</p>", warn


def render(d: PageData, lag: dict[str, int | None] | None, stale_note: str | None = None) -> str:
    fresh, warn = _freshness(d, stale_note)
    return (
        f"{HEAD}"
        f"<body><header><h1>tierwise: where the LLM money goes</h1>{fresh}</header><main>{warn}"
        f"<section>{_form(d)}</section><section>{_kpis(d)}</section>{_spend(d)}{_movers(d)}{_recommendations(d)}"
        f"{_latency(d)}{_quality(d, lag)}{_alerts(d)}</main></body></html>"
    )


def error_page(message: str) -> str:
    return (
        f"{HEAD}"
        f"<body><header><h1>tierwise</h1></header><main><section class=warn id=error>{h(message)}</section>"
        "<p><a href='/'>back to the default view</a></p></main></body></html>"
    )
