"""The weekly report as Markdown and as one self-contained HTML file (inline CSS and SVG: no script, no network).

Both are rendered from the same blocks, so the two files never disagree. Money reads to the cent
(reports.tables.money_text); every name from events is escaped in HTML and in Markdown tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from reports.svg import Series, breakeven_chart, stacked_bars, tokens_label
from reports.tables import money_text
from reports.weekly import Change, WeeklyReport, WorkloadSection


@dataclass(frozen=True)
class Block:
    kind: str  # h1 | h2 | h3 | p | table | list | svg
    text: str = ""
    headers: Sequence[str] = ()
    rows: Sequence[Sequence[str]] = ()
    right: Sequence[int] = ()  # numeric columns
    items: Sequence[str] = ()
    svg: str = ""


def change_text(c: Change) -> str:
    sign = "+" if c.delta > 0 else ""
    pct = "" if c.share is None else f" ({c.share * 100:+.1f}%)"
    return f"{sign}{money_text(c.delta)}{pct}"


def _change_table(changes: Sequence[Change], key: str) -> Block:
    return Block(
        "table",
        headers=[key, "this week", "last week", "change"],
        rows=[[c.key, money_text(c.this_week), money_text(c.last_week), change_text(c)] for c in changes],
        right=(1, 2, 3),
    )


def _per_day(tokens: int) -> str:
    return tokens_label(round(tokens / 7))


def _option_text(option: dict) -> str:
    where = (
        f"{option.get('gpus')} x {option.get('gpu_type')} ({option.get('engine')} {option.get('quantization')})"
        if option.get("gpu_type")
        else option.get("provider") or "-"
    )
    return f"{option.get('model')} on {where}"


def _workload_blocks(w: WorkloadSection) -> list[Block]:
    r = w.recommendation
    blocks = [Block("h3", f"{w.name}: {r['action']}")]
    today = f"{r['tier_now']}: {r['model_now']}"
    rec = "-" if r["recommended_model"] is None else f"{r['recommended_tier']}: {r['recommended_model']}"
    savings = r["monthly_savings_usd"]
    blocks.append(
        Block(
            "table",
            headers=["today", "tokens/day", "cost this week", "monthly cost today", "recommended", "monthly savings"],
            rows=[
                [
                    today,
                    tokens_label(r["tokens_per_day"] or 0),
                    money_text(w.week_cost),
                    "unpriced" if r["current_monthly_cost_usd"] is None else money_text(r["current_monthly_cost_usd"]),
                    rec,
                    "-" if savings is None else money_text(savings),
                ]
            ],
            right=(1, 2, 3, 5),
        )
    )
    trend = ", ".join(f"{wk}: {_per_day(t)}" for wk, t in w.weekly_tokens)
    blocks.append(Block("p", f"Volume trend (tokens/day by ISO week): {trend}."))
    costs = r["costs_by_tier"] or {}
    if costs:
        blocks.append(
            Block(
                "table",
                headers=["tier", "cheapest option", "monthly cost", "allowed"],
                rows=[
                    [tier, _option_text(o), money_text(o["monthly_cost_usd"]), "yes" if o.get("allowed") else "no"]
                    for tier, o in sorted(costs.items())
                ],
                right=(2,),
            )
        )
    blocks.append(
        Block(
            "svg",
            svg=breakeven_chart(
                w.curves, position=r["tokens_per_day"], title=f"{w.name}: monthly cost by tier against tokens/day"
            ),
        )
    )
    reasons = [f"[{x['rule']}] {x['detail']}" for x in r["reasons"] or []]
    reasons += [f"blocked [{x['rule']}] {x['detail']}" for x in r["blockers"] or []]
    if r.get("forecast_note"):
        reasons.append(f"[forecast] {r['forecast_note']}")
    blocks.append(Block("list", items=reasons))
    if w.steps:
        blocks.append(Block("p", f"Migration readiness (the playbook): at step '{w.at}'."))
        blocks.append(
            Block(
                "table",
                headers=["step", "met", "what the marts show"],
                rows=[[s.name, "yes" if s.done else "no", s.detail] for s in w.steps],
            )
        )
    return blocks


def blocks(report: WeeklyReport) -> list[Block]:
    wk = report.week
    total = Change("total", report.total, report.previous_total)
    moving = [w for w in report.workloads if w.steps]
    out = [
        Block("h1", f"tierwise weekly report {wk}"),
        Block(
            "p",
            f"{wk.start} .. {wk.end} (UTC, end exclusive). Generated {report.generated_at:%Y-%m-%d %H:%M} UTC "
            "from the marts; all amounts in USD.",
        ),
        Block("h2", "Summary"),
        Block(
            "table",
            headers=["total spend", "last week", "change", "potential monthly savings", "workloads to move"],
            rows=[
                [
                    money_text(report.total),
                    money_text(report.previous_total),
                    change_text(total),
                    money_text(report.potential_savings),
                    str(len(moving)),
                ]
            ],
            right=(0, 1, 2, 3, 4),
        ),
        Block(
            "svg",
            svg=stacked_bars(
                [f"{d:%a %d}" for d in report.days],
                [Series(t, v) for t, v in sorted(report.daily_by_tier.items())],
                title=f"Spend per day by tier, {wk} (USD)",
            ),
        ),
        Block("h2", "Spend by tier"),
        _change_table(report.by_tier, "tier"),
        Block("h2", "Spend by team"),
        _change_table(report.by_team, "team"),
        Block("h2", "Top movers (workloads, week over week)"),
        _change_table(report.movers, "workload") if report.movers else Block("p", "No workload changed its spend."),
        Block("h2", "Recommendations"),
        Block(
            "table",
            headers=["workload", "today", "action", "recommended", "monthly savings", "readiness step"],
            rows=[
                [
                    w.name,
                    f"{w.recommendation['tier_now']}: {w.recommendation['model_now']}",
                    w.recommendation["action"],
                    "-"
                    if w.recommendation["recommended_model"] is None
                    else f"{w.recommendation['recommended_tier']}: {w.recommendation['recommended_model']}",
                    "-"
                    if w.recommendation["monthly_savings_usd"] is None
                    else money_text(w.recommendation["monthly_savings_usd"]),
                    w.at,
                ]
                for w in report.workloads
            ],
            right=(4,),
        ),
    ]
    for w in report.workloads:
        out += _workload_blocks(w)
    out.append(Block("h2", "Assumptions"))
    out.append(
        Block(
            "table",
            headers=["assumption", "value", "unit", "since", "source"],
            rows=[
                [
                    a["name"],
                    str(a["value"]),
                    a["unit"] or "",
                    f"{a['valid_from']:%Y-%m-%d}" if a["valid_from"] else "",
                    a["source"],
                ]
                for a in report.assumptions
            ],
        )
    )
    out.append(Block("h2", "Data quality"))
    lag = (
        "Kafka not reachable when the report was made"
        if report.lag is None
        else ", ".join(f"{t}: {'-' if n is None else f'{n:,}'}" for t, n in sorted(report.lag.items()))
    )
    out.append(
        Block(
            "table",
            headers=[
                "requests landed",
                "unpriced requests",
                "rejected events",
                "late events (landed 1+ day after)",
                "consumer lag",
            ],
            rows=[
                [
                    f"{report.landed:,}",
                    f"{sum(u['requests'] or 0 for u in report.unpriced):,}",
                    f"{report.rejected:,}",
                    f"{report.late:,}",
                    lag,
                ]
            ],
            right=(0, 1, 2, 3),
        )
    )
    if report.unpriced:
        out.append(
            Block(
                "table",
                headers=["reason", "provider", "model", "requests", "tokens"],
                rows=[
                    [
                        u["reason"],
                        u["provider"] or "-",
                        u["model"] or "-",
                        f"{u['requests'] or 0:,}",
                        f"{u['tokens_total'] or 0:,}",
                    ]
                    for u in report.unpriced
                ],
                right=(3, 4),
            )
        )
    return out


def _md_cell(text: str) -> str:
    # names come from events: a pipe or a newline would break the table, HTML in it would render in some viewers
    return escape(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: WeeklyReport) -> str:
    lines: list[str] = []
    for b in blocks(report):
        if b.kind in ("h1", "h2", "h3"):
            lines += ["#" * int(b.kind[1]) + " " + _md_cell(b.text), ""]
        elif b.kind == "p":
            lines += [_md_cell(b.text), ""]
        elif b.kind == "list":
            lines += [f"- {_md_cell(i)}" for i in b.items] + [""]
        elif b.kind == "table":
            lines.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
            lines.append("|" + "|".join("---:" if i in b.right else "---" for i in range(len(b.headers))) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            lines.append("")
    return "\n".join(lines)


CSS = """body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}h3{margin-top:2em}svg{max-width:100%}"""


def to_html(report: WeeklyReport) -> str:
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        # no network: the page may fetch nothing, whatever a name in it says
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
        "<link rel='icon' href='data:,'>"
        f"<title>tierwise weekly report {escape(str(report.week))}</title><style>{CSS}</style></head><body>",
    ]
    for b in blocks(report):
        if b.kind in ("h1", "h2", "h3"):
            parts.append(f"<{b.kind}>{escape(b.text)}</{b.kind}>")
        elif b.kind == "p":
            parts.append(f"<p>{escape(b.text)}</p>")
        elif b.kind == "list":
            parts.append("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "svg":
            parts.append(f"<figure>{b.svg}</figure>")
        elif b.kind == "table":
            head = "".join(f"<th>{escape(h)}</th>" for h in b.headers)
            body = "".join(
                "<tr>"
                + "".join(f"<td{' class=n' if i in b.right else ''}>{escape(c)}</td>" for i, c in enumerate(row))
                + "</tr>"
                for row in b.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "".join(parts)


def write(report: WeeklyReport, out: Path) -> tuple[Path, Path]:
    """`out/tierwise-report-YYYY-Www.md` and `.html`, each written whole (a reader never sees half a file)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in ((".md", to_markdown(report)), (".html", to_html(report))):
        path = out / f"tierwise-report-{report.week}{suffix}"
        tmp = path.with_suffix(suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        paths.append(path)
    return paths[0], paths[1]
