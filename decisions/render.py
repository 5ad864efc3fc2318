"""Turning decision rows into JSON (money as exact decimal strings) and aligned text tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

CENTS = Decimal("0.01")


def money(value: Decimal | None) -> str | None:
    """Exact decimal text, never exponent notation; None stays None."""
    return None if value is None else format(value, "f")


def usd(value: Decimal | None) -> str:
    """Display form: $1,234.56 (text output only; JSON keeps every digit)."""
    if value is None:
        return "unpriced"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value).quantize(CENTS):,}"


def tokens(value: float | int | None) -> str:
    if value is None:
        return "-"
    v = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= limit:
            return f"{v / limit:,.{2 if suffix == 'B' else 1}f}{suffix}"
    return f"{int(v):,}"


def jsonable(value: Any) -> Any:
    """Decimals become decimal strings, dates ISO text; containers are converted all the way down."""
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Aligned columns; the columns at indexes in `right` (numbers) are right-aligned."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        out = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def recommendation_json(row: dict[str, Any]) -> dict[str, Any]:
    """One tier_recommendation row in the CLI's JSON shape."""
    costs = {}
    for tier, option in sorted((row.get("costs_by_tier") or {}).items()):
        costs[tier] = jsonable(option)
    return {
        "workload": row["workload"],
        "tier_now": row["tier_now"],
        "model_now": row["model_now"],
        "tokens_per_day": row["tokens_per_day"],
        "action": row["action"],
        "recommended_tier": row["recommended_tier"],
        "recommended_provider": row["recommended_provider"],
        "recommended_model": row["recommended_model"],
        "current_monthly_cost_usd": money(row["current_monthly_cost_usd"]),
        "recommended_monthly_cost_usd": money(row["recommended_monthly_cost_usd"]),
        "monthly_savings_usd": money(row["monthly_savings_usd"]),
        "reasons": [{"rule": r["rule"], "detail": r["detail"]} for r in row["reasons"] or []],
        "blockers": [{"rule": b["rule"], "detail": b["detail"]} for b in row["blockers"] or []],
        "costs_by_tier": costs,
        "forecast": {
            "crossing": row["forecast_crossing"],
            "date": row["forecast_date"].isoformat() if row["forecast_date"] else None,
            "confidence": row["forecast_confidence"],
            "note": row["forecast_note"],
        },
    }


def recommendations_text(rows: Sequence[dict[str, Any]]) -> str:
    headers = ["workload", "today", "tokens/day", "action", "recommended", "monthly savings", "forecast"]
    body = []
    for r in rows:
        rec = "-" if r["recommended_model"] is None else f"{r['recommended_tier']}: {r['recommended_model']}"
        if r["recommended_tier"] == "self_hosted" and r.get("recommended_gpus"):
            rec += f" ({r['recommended_gpus']} x {r['recommended_gpu_type']})"
        elif r["recommended_provider"] and r["recommended_tier"] != "self_hosted":
            rec += f" on {r['recommended_provider']}"
        when = r["forecast_date"].isoformat() if r["forecast_date"] else "-"
        body.append(
            [
                r["workload"],
                f"{r['tier_now']}: {r['model_now']}",
                tokens(r["tokens_per_day"]),
                r["action"],
                rec,
                usd(r["monthly_savings_usd"]) if r["monthly_savings_usd"] is not None else "-",
                f"{when} ({r['forecast_confidence']})" if r["forecast_confidence"] else "-",
            ]
        )
    lines = [table(headers, body, right=(2, 5))]
    for r in rows:
        lines.append(f"\n{r['workload']}: {r['action']}")
        for reason in r["reasons"] or []:
            lines.append(f"  [{reason['rule']}] {reason['detail']}")
        for blocker in r["blockers"] or []:
            lines.append(f"  blocked [{blocker['rule']}] {blocker['detail']}")
        if r["forecast_note"]:
            lines.append(f"  [forecast] {r['forecast_note']}")
    return "\n".join(lines)
