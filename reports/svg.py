"""Charts as inline SVG text: the weekly report's HTML and the dashboard open offline, with no script and no
chart library to fetch. Every label is escaped (workload, team and model names come from events).

Charts only draw: the numbers they show are the marts' (the caller passes them in); floats are used for
pixel positions only, never for a total.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

# Colour-blind-safe palette (Okabe-Ito), then greys for the long tail.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999", "#666666")
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^n at or above value (the axis top), 1 for nothing."""
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        top = step * 10**exp
        if top >= value * (1 - 1e-12):
            return float(top)
    return float(10 ** (exp + 1))


def usd_label(value: float) -> str:
    if value >= 1_000_000:
        return f"${value / 1_000_000:,.1f}M"
    if value >= 10_000:
        return f"${value / 1_000:,.0f}k"
    if value >= 100:
        return f"${value:,.0f}"
    return f"${value:,.2f}"


def tokens_label(value: float) -> str:
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Decimal]  # one per x label, exact from the marts


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    out = []
    for i, name in enumerate(names):
        yy = y + i * 16
        out.append(f'<rect x="{x:.1f}" y="{yy - 9:.1f}" width="10" height="10" fill="{colour(i)}"/>')
        out.append(f'<text x="{x + 14:.1f}" y="{yy:.1f}" {FONT}>{escape(name)}</text>')
    return out


def stacked_bars(
    labels: Sequence[str], series: Sequence[Series], *, title: str, unit: str = "USD", width: int = 760, height: int = 280
) -> str:
    """One bar per label (a day, a week), stacked by series; the y axis in `unit`, the totals in the tooltips."""
    legend_w = 170
    left, right, top, bottom = 64, legend_w + 10, 28, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum((s.values[i] for s in series), Decimal(0)) for i in range(len(labels))]
    ymax = nice_ceiling(float(max(totals, default=Decimal(0))))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="16" {FONT} font-weight="bold">{escape(title)}</text>',
    ]
    for k in range(5):
        v = ymax * k / 4
        y = top + plot_h - plot_h * k / 4
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        label = usd_label(v) if unit == "USD" else f"{v:g}"
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{escape(label)}</text>')
    out.append(
        f'<text x="12" y="{top + plot_h / 2:.1f}" transform="rotate(-90 12 {top + plot_h / 2:.1f})" '
        f'text-anchor="middle" {FONT}>{escape(unit)}</text>'
    )
    n = max(len(labels), 1)
    slot = plot_w / n
    bar = max(slot * 0.8, 1.0)
    every = max(1, math.ceil(n / 12))  # at most ~12 x labels
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        for j, s in enumerate(series):
            value = s.values[i]
            if value <= 0:
                continue
            h = plot_h * float(value) / ymax
            y -= h
            tip = f"{label} {s.name}: {usd_label(float(value)) if unit == 'USD' else value}"
            out.append(
                f'<rect x="{x:.2f}" y="{y:.2f}" width="{bar:.2f}" height="{h:.2f}" fill="{colour(j)}">'
                f"<title>{escape(tip)}</title></rect>"
            )
        if i % every == 0:
            out.append(
                f'<text x="{left + i * slot + slot / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" {FONT}>'
                f"{escape(label)}</text>"
            )
    out += _legend([s.name for s in series], width - legend_w, top + 8)
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class Curve:
    name: str
    points: Sequence[tuple[int, Decimal | None]]  # (tokens/day, monthly USD); None: the tier cannot serve it


def breakeven_chart(curves: Sequence[Curve], *, position: int | None, title: str, width: int = 760, height: int = 300) -> str:
    """Monthly cost (USD, log) against tokens/day (log), one line per tier, today's volume as a vertical mark."""
    legend_w = 170
    left, right, top, bottom = 70, legend_w + 10, 28, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [x for c in curves for x, y in c.points if x > 0 and y is not None and y > 0]
    ys = [float(y) for c in curves for x, y in c.points if x > 0 and y is not None and y > 0]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="16" {FONT} font-weight="bold">{escape(title)}</text>',
    ]
    if not xs:
        out.append(f'<text x="{left}" y="{top + 20}" {FONT}>no break-even curve for this workload</text></svg>')
        return "".join(out)
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1

    def px(x: float) -> float:
        return left + plot_w * (math.log10(x) - x0) / (x1 - x0)

    def py(y: float) -> float:
        return top + plot_h - plot_h * (math.log10(y) - y0) / (y1 - y0)

    for e in range(int(y0), int(y1) + 1):
        y = py(10**e)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{escape(usd_label(10**e))}</text>')
    for e in range(math.ceil(x0), math.floor(x1) + 1):
        x = px(10**e)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" {FONT}>{tokens_label(10**e)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" {FONT}>tokens per day (log)</text>')
    out.append(
        f'<text x="12" y="{top + plot_h / 2:.1f}" transform="rotate(-90 12 {top + plot_h / 2:.1f})" '
        f'text-anchor="middle" {FONT}>USD per month (log)</text>'
    )
    for i, c in enumerate(curves):
        pts = [(px(x), py(float(y))) for x, y in c.points if x > 0 and y is not None and y > 0]
        if pts:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour(i)}" stroke-width="2"/>')
    if position and position > 0:
        x = px(position)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#333" stroke-dasharray="4 3"/>'
            f'<text x="{x + 3:.1f}" y="{top + 10}" {FONT}>today: {tokens_label(position)} tokens/day</text>'
        )
    out += _legend([c.name for c in curves], width - legend_w, top + 8)
    out.append("</svg>")
    return "".join(out)
