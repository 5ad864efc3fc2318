"""The weekly report's and the dashboard's pure parts: ISO weeks, migration readiness, charts, filters, burn."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.errors import TierwiseError
from reports.burn import Burn
from reports.dashboard.data import Filters
from reports.readiness import Evidence, assess, current_step
from reports.svg import Curve, Series, breakeven_chart, nice_ceiling, stacked_bars
from reports.weeks import IsoWeek

HOSTILE = "<script>alert(1)</script>"


def test_iso_weeks() -> None:
    w = IsoWeek.parse("2026-W48")
    assert (w.start, w.end, str(w.previous())) == (date(2026, 11, 23), date(2026, 11, 30), "2026-W47")
    # a Sunday's last full week is the one before its own; ISO years differ from calendar years at the edges
    assert str(IsoWeek.last_full(date(2026, 11, 29))) == "2026-W47"
    assert str(IsoWeek.last_full(date(2026, 1, 5))) == "2026-W01" and IsoWeek.parse("2026-W01").start == date(2025, 12, 29)
    with pytest.raises(TierwiseError, match=r"--week '2026-48' is not an ISO week like 2026-W48"):
        IsoWeek.parse("2026-48")
    with pytest.raises(TierwiseError, match="2025 has no ISO week 53"):
        IsoWeek.parse("2025-W53")


def evidence(**kw: object) -> Evidence:
    base: dict[str, object] = dict(
        candidate="qwen (hosted_open_api)",
        eval_n=500,
        min_eval_samples=30,
        eval_gap=-0.03,
        shadow_first=date(2026, 11, 1),
        shadow_last=date(2026, 11, 20),
        p50_ms=300.0,
        p90_ms=700.0,
        p99_ms=1500.0,
        latency_slo_ms=2000.0,
        live_share=0.0,
        candidate_success=None,
        current_success=0.99,
        scored_this_week=0,
    )
    base.update(kw)
    return Evidence(**base)  # type: ignore[arg-type]


def test_readiness_walks_the_playbook() -> None:
    nothing = assess(evidence(eval_n=None, shadow_first=None, shadow_last=None, p99_ms=None))
    assert current_step(nothing) == "eval harness" and [s.done for s in nothing] == [False] * 5
    short = assess(evidence(shadow_last=date(2026, 11, 13)))  # 13 days of shadow traffic
    assert current_step(short) == "shadow traffic 2+ weeks" and "needs 14" in short[1].detail
    slow = assess(evidence(p99_ms=2500.0))
    assert current_step(slow) == "latency against the SLO" and "over the 2,000 ms SLO" in slow[2].detail
    ramping = assess(evidence(live_share=0.25, candidate_success=0.985))
    assert current_step(ramping) == "ramp 5/20/50/100%" and ramping[3].detail == "at 25% of live traffic (step 20%); next: 50%"
    # 0.99 -> 0.93 is a 6% drop in success: over the playbook's 5%, roll back
    dropped = assess(evidence(live_share=0.5, candidate_success=0.93))
    assert not dropped[3].done and dropped[3].detail.endswith("success 6.1% lower: roll back")
    done = assess(evidence(live_share=1.0, candidate_success=0.99, current_success=None, scored_this_week=40))
    assert current_step(done) == "done"


def test_charts_escape_names_and_carry_units() -> None:
    bars = stacked_bars(["Mon"], [Series(HOSTILE, [Decimal("12.5")])], title=f"spend of {HOSTILE}")
    assert HOSTILE not in bars and "&lt;script&gt;" in bars and ">USD<" in bars
    curve = breakeven_chart([Curve(HOSTILE, [(10**6, Decimal(100)), (10**8, Decimal(10_000))])], position=10**7, title="t")
    assert HOSTILE not in curve and "USD per month (log)" in curve and "tokens per day (log)" in curve
    assert [nice_ceiling(v) for v in (0, 0.7, 3, 12.5, 1000, 1001)] == [1, 1, 5, 20, 1000, 2000]


def test_dashboard_filters() -> None:
    today = date(2026, 12, 2)
    f = Filters.parse({}, today)
    assert (f.date_from, f.date_to, f.team, f.by, f.where) == (date(2026, 11, 3), date(2026, 12, 3), None, "tier", ())
    f = Filters.parse({"from": "2026-11-01", "to": "2026-11-08", "team": "a|b", "by": "model"}, today)
    assert (f.date_from, f.date_to, f.where, f.by) == (date(2026, 11, 1), date(2026, 11, 8), (("team", "a|b"),), "model")
    for params, message in (
        ({"from": "11/01/2026"}, "from='11/01/2026' is not a date (YYYY-MM-DD)"),
        ({"from": "2026-11-08", "to": "2026-11-08"}, "to=2026-11-08 must be after from=2026-11-08 (to is exclusive)"),
        ({"by": "colour"}, "by='colour' is not one of tier, workload, team, provider, model"),
    ):
        with pytest.raises(TierwiseError) as err:
            Filters.parse(params, today)
        assert str(err.value) == message


def test_month_end_projection_uses_complete_days_only() -> None:
    # 10 complete days cost $100; today so far $1 is in the burn, not in the pace: 30 days x $10
    burn = Burn(date(2026, 11, 1), date(2026, 11, 11), Decimal("101"), 10, Decimal("100"), 30)
    assert burn.projected == Decimal("300")
    assert Burn(date(2026, 11, 1), date(2026, 11, 1), Decimal("5"), 0, Decimal(0), 30).projected is None
