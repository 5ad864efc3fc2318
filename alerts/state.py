"""The alert state machine, per rule and subject: the one place that decides when an alert fires, resolves
and is sent. Pure logic; `alerts.store` keeps the states and every transition.

- fires once when the value crosses the threshold (reaches it, in the rule's direction);
- resolves only when the value is back past the threshold by the hysteresis (10% by default), so a value
  hovering at the threshold does not flap;
- a fire is sent unless this rule and subject already sent one within the quiet period (then it is recorded,
  not sent), and a resolve is sent only when the fire it closes was: a flapping value costs at most one
  message pair per quiet period;
- the same observation twice (a replayed day, a restart, a second evaluation of the same data) is no change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

Direction = Literal["above", "below"]


@dataclass(frozen=True)
class Observation:
    """One value of one rule for one subject (a workload, a team, a topic), with what it is compared to."""

    rule: str
    subject: str
    value: Decimal
    threshold: Decimal
    direction: Direction = "above"
    detail: dict[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class State:
    rule: str
    subject: str
    status: Literal["firing", "ok"]
    value: Decimal
    threshold: Decimal
    since: datetime
    notified: bool  # whether the current (or last) fire was sent
    last_sent_at: datetime | None  # when a fire of this rule and subject was last sent


@dataclass(frozen=True)
class Transition:
    kind: Literal["fired", "resolved"]
    observation: Observation
    notify: bool
    state: State


def crossed(obs: Observation) -> bool:
    return obs.value >= obs.threshold if obs.direction == "above" else obs.value <= obs.threshold


def cleared(obs: Observation, hysteresis: Decimal) -> bool:
    """Back on the safe side by the hysteresis: below threshold x (1 - h) (or above threshold x (1 + h))."""
    if obs.direction == "above":
        return obs.value < obs.threshold * (1 - hysteresis)
    return obs.value > obs.threshold * (1 + hysteresis)


def step(
    state: State | None, obs: Observation, now: datetime, hysteresis: Decimal, quiet_period: timedelta
) -> tuple[State, Transition | None]:
    """The next state of a rule and subject given a new observation, and the transition if there is one."""
    if state is None or state.status == "ok":
        if not crossed(obs):
            if state is None:
                return State(obs.rule, obs.subject, "ok", obs.value, obs.threshold, now, False, None), None
            return replace(state, value=obs.value, threshold=obs.threshold), None
        last_sent = state.last_sent_at if state else None
        notify = last_sent is None or now - last_sent >= quiet_period
        new = State(obs.rule, obs.subject, "firing", obs.value, obs.threshold, now, notify, now if notify else last_sent)
        return new, Transition("fired", obs, notify, new)
    # firing
    if cleared(obs, hysteresis):
        new = replace(state, status="ok", value=obs.value, threshold=obs.threshold, since=now)
        return new, Transition("resolved", obs, state.notified, new)
    return replace(state, value=obs.value, threshold=obs.threshold), None
