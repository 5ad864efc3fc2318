"""Migration readiness against the reference article's playbook, from what the marts measured.

The playbook: (1) an eval harness scores the candidate, (2) shadow traffic for 2+ weeks, (3) latency
p50/p90/p99 against the SLO, (4) a ramp of 5/20/50/100% of live traffic with a rollback when task success
drops more than 5%, (5) ongoing monitoring. A workload is "at" the first step it has not met.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

SHADOW_DAYS = 14
RAMP_STEPS = (5, 20, 50, 100)
ROLLBACK_DROP = 0.05  # the article: roll back on a 5% drop in task success


@dataclass(frozen=True)
class Evidence:
    """What the marts say about a workload's recommended candidate (None: not measured)."""

    candidate: str
    eval_n: int | None
    min_eval_samples: int
    eval_gap: float | None  # candidate's mean score minus the baseline's, as a share
    shadow_first: date | None
    shadow_last: date | None
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    latency_slo_ms: float | None
    live_share: float  # the candidate's share of the workload's live requests in the week, 0..1
    candidate_success: float | None  # 1 - error rate of the candidate's live requests in the week
    current_success: float | None  # the same for the rest of the workload's live requests
    scored_this_week: int  # the candidate's live requests scored in the week


@dataclass(frozen=True)
class Step:
    name: str
    done: bool
    detail: str


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f} ms"


def assess(e: Evidence) -> list[Step]:
    steps: list[Step] = []
    n = e.eval_n or 0
    if n >= e.min_eval_samples:
        gap = "" if e.eval_gap is None else f", {e.eval_gap * 100:+.1f}% against the baseline"
        steps.append(Step("eval harness", True, f"{n:,} scored requests of {e.candidate}{gap}"))
    else:
        steps.append(
            Step("eval harness", False, f"{n:,} scored requests of {e.candidate}; score at least {e.min_eval_samples:,}")
        )
    if e.shadow_first and e.shadow_last:
        days = (e.shadow_last - e.shadow_first).days + 1
        detail = f"shadow traffic {e.shadow_first} .. {e.shadow_last} ({days} days)"
        steps.append(
            Step("shadow traffic 2+ weeks", days >= SHADOW_DAYS, detail + ("" if days >= SHADOW_DAYS else "; needs 14"))
        )
    else:
        steps.append(Step("shadow traffic 2+ weeks", False, f"no shadow traffic to {e.candidate} yet"))
    measured = f"p50 {_ms(e.p50_ms)}, p90 {_ms(e.p90_ms)}, p99 {_ms(e.p99_ms)}"
    if e.p99_ms is None:
        steps.append(Step("latency against the SLO", False, f"no latency measured for {e.candidate}"))
    elif e.latency_slo_ms is None:
        steps.append(Step("latency against the SLO", False, f"{measured}; no latency_slo_ms set for the workload"))
    else:
        ok = e.p99_ms <= e.latency_slo_ms
        verdict = "within" if ok else "over"
        steps.append(Step("latency against the SLO", ok, f"{measured}: p99 {verdict} the {_ms(e.latency_slo_ms)} SLO"))
    reached = max((s for s in RAMP_STEPS if e.live_share * 100 >= s), default=0)
    drop = None
    if e.candidate_success is not None and e.current_success:
        drop = (e.current_success - e.candidate_success) / e.current_success
    if drop is not None and drop > ROLLBACK_DROP:
        steps.append(
            Step("ramp 5/20/50/100%", False, f"at {e.live_share:.0%} of live traffic; success {drop:.1%} lower: roll back")
        )
    else:
        nxt = next((s for s in RAMP_STEPS if s > reached), None)
        detail = f"at {e.live_share:.0%} of live traffic (step {reached}%)" if reached else "no live traffic yet (next: 5%)"
        if nxt and reached:
            detail += f"; next: {nxt}%"
        steps.append(Step("ramp 5/20/50/100%", reached == 100, detail))
    monitored = reached == 100 and e.scored_this_week > 0
    steps.append(
        Step(
            "ongoing monitoring",
            monitored,
            f"{e.scored_this_week:,} live requests scored this week" if reached == 100 else "after the ramp reaches 100%",
        )
    )
    return steps


def current_step(steps: list[Step]) -> str:
    """The first step not met ('done' when all are)."""
    return next((s.name for s in steps if not s.done), "done")
