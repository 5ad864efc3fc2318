"""The alert rules and channels: one YAML file (TIERWISE_ALERTS_CONFIG, else $TIERWISE_HOME/alerts.yaml),
validated by pydantic; absent, the documented defaults in `alerts/default.yaml` (every rule to the log).

A bad value is one line naming the file, the rule or channel, and the field. Secrets (webhook URLs that carry
a token, HMAC keys, SMTP passwords) never sit in the file: it names the environment variable that holds them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core import env
from core.errors import TierwiseError
from core.home import Home
from core.yaml_config import named_items, read_text, validate, yaml_mapping

DEFAULT_FILE = Path(__file__).with_name("default.yaml")
_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9}
_DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def alerts_config_path(home: Home) -> Path:
    return env.alerts_config_override() or home.root / "alerts.yaml"


def alerts_config_is_explicit() -> bool:
    """TIERWISE_ALERTS_CONFIG names the file: then it must exist."""
    return env.alerts_config_override() is not None


def parse_amount(value: Any) -> Decimal:
    """5000000, '5M', '40M', '1.5B', '$500', 0.05 -> Decimal (exact: a float is read through its repr)."""
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        match = re.fullmatch(r"\s*\$?\s*([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([kKmMbB]?)\s*", value)
        if match:
            try:
                return Decimal(match.group(1).replace(",", "").replace("_", "")) * _SUFFIX[match.group(2).upper()]
            except InvalidOperation:
                pass
    raise ValueError(f"{value!r} is not a number (e.g. 5000000, 5M, $500, 0.05)")


def parse_duration(value: Any) -> timedelta:
    """'24h', '30m', '7d', '90s', or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdw])\s*", value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _DURATION[match.group(2)])
    raise ValueError(f"{value!r} is not a duration (e.g. 90s, 30m, 24h, 7d)")


Amount = Annotated[Decimal, Field(ge=0)]
Duration = timedelta


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _env_name(value: str | None) -> str | None:
    if value is not None and not ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not an environment variable name (e.g. TIERWISE_WEBHOOK_SECRET)")
    return value


class Retry(_Strict):
    """How each delivery is retried (tenacity): exponential backoff, then recorded as failed."""

    attempts: int = Field(default=4, ge=1, le=20)
    initial_wait_s: float = Field(default=0.5, gt=0, le=60)
    max_wait_s: float = Field(default=8.0, gt=0, le=600)
    timeout_s: float = Field(default=10.0, gt=0, le=120)


class LogChannel(_Strict):
    type: Literal["log"]


class WebhookChannel(_Strict):
    """A generic JSON webhook: POST of the alert as JSON; signed when `secret_env` names a variable."""

    type: Literal["webhook"]
    url: str | None = None
    url_env: str | None = None
    secret_env: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url_env", "secret_env")
    @classmethod
    def _names(cls, value: str | None) -> str | None:
        return _env_name(value)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _one_url(self) -> WebhookChannel:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give url or url_env (the variable holding the URL), exactly one")
        return self


class SlackChannel(_Strict):
    """A Slack-compatible incoming webhook. Its URL carries the token, so it only comes from a variable."""

    type: Literal["slack"]
    url_env: str

    @field_validator("url_env")
    @classmethod
    def _names(cls, value: str | None) -> str | None:
        return _env_name(value)


class EmailChannel(_Strict):
    type: Literal["email"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    # A private CA's certificate file for a relay whose certificate the system store does not know.
    ca_file: Path | None = None
    username: str | None = None
    password_env: str | None = None
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)

    @field_validator("password_env")
    @classmethod
    def _names(cls, value: str | None) -> str | None:
        return _env_name(value)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Channel = Annotated[LogChannel | WebhookChannel | SlackChannel | EmailChannel, Field(discriminator="type")]

RuleKind = Literal[
    "volume",
    "breakeven",
    "forecast",
    "closed_api_spend",
    "budget",
    "error_rate",
    "p99_latency",
    "volume_spike",
    "unpriced",
    "rejected_rate",
    "consumer_lag",
    "license",
]
# Where each kind is evaluated: right after landing commits (raw tables, a fast query), after each dbt build
# (the marts and decision tables), or by the lag sensor (Kafka, no warehouse at all).
AFTER_LANDING = frozenset({"volume", "breakeven", "error_rate", "p99_latency", "volume_spike", "rejected_rate"})
AFTER_BUILD = frozenset({"breakeven", "forecast", "closed_api_spend", "budget", "unpriced", "license"})
FROM_KAFKA = frozenset({"consumer_lag"})
# Kinds whose threshold is given in the rule (the others take it from the data: break-even, SLO, budget).
NEEDS_THRESHOLD = frozenset({"volume", "closed_api_spend", "error_rate", "volume_spike", "rejected_rate", "consumer_lag"})


class Rule(_Strict):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    kind: RuleKind
    threshold: Amount | None = None
    # forecast: fire when the forecast crosses a threshold within this many weeks
    weeks: int | None = Field(default=None, ge=1, le=52)
    # budget: per workload or team, monthly USD; `projected` warns on the month-to-date run rate
    scope: Literal["workload", "team"] | None = None
    budgets: dict[str, Amount] | None = None
    projected: bool = False
    severity: Literal["info", "warning", "critical"] = "warning"
    channels: list[str] | None = None  # None: every channel
    hysteresis: Decimal | None = Field(default=None, ge=0, lt=1)
    quiet_period: Duration | None = None
    # only these workloads (None: all)
    workloads: list[str] | None = None

    @field_validator("threshold", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        return None if value is None else parse_amount(value)

    @field_validator("budgets", mode="before")
    @classmethod
    def _budgets(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: parse_amount(v) for k, v in value.items()}
        return value

    @field_validator("quiet_period", mode="before")
    @classmethod
    def _quiet(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        if self.kind in NEEDS_THRESHOLD and self.threshold is None:
            raise ValueError(f"a {self.kind} rule needs a threshold")
        if self.kind == "forecast" and self.weeks is None:
            raise ValueError("a forecast rule needs weeks (fire when a crossing is forecast within that many weeks)")
        if self.kind == "budget" and (self.scope is None or not self.budgets):
            raise ValueError("a budget rule needs scope (workload or team) and budgets ({name: monthly USD})")
        if self.kind in ("error_rate", "rejected_rate") and self.threshold is not None and self.threshold > 1:
            raise ValueError(f"a {self.kind} threshold is a fraction between 0 and 1, got {self.threshold}")
        return self


class Defaults(_Strict):
    hysteresis: Decimal = Field(default=Decimal("0.1"), ge=0, lt=1)
    quiet_period: Duration = timedelta(hours=24)

    @field_validator("quiet_period", mode="before")
    @classmethod
    def _quiet(cls, value: Any) -> Any:
        return parse_duration(value)


class AlertsConfig(_Strict):
    defaults: Defaults = Defaults()
    retry: Retry = Retry()
    channels: dict[str, Channel] = Field(default_factory=lambda: {"log": LogChannel(type="log")})
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> AlertsConfig:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"rule {rule.name}: the name is used twice")
            seen.add(rule.name)
            for channel in rule.channels or []:
                if channel not in self.channels:
                    raise ValueError(f"rule {rule.name}: channels: {channel!r} is not a channel of this file")
        return self

    def hysteresis(self, rule: Rule) -> Decimal:
        return self.defaults.hysteresis if rule.hysteresis is None else rule.hysteresis

    def quiet_period(self, rule: Rule) -> timedelta:
        return self.defaults.quiet_period if rule.quiet_period is None else rule.quiet_period

    def channels_of(self, rule: Rule) -> list[str]:
        return list(self.channels) if rule.channels is None else list(rule.channels)

    def rules_of(self, kinds: frozenset[str]) -> list[Rule]:
        return [r for r in self.rules if r.kind in kinds]


_where = named_items({"rules": "rule", "channels": "channel"}, skip=("log", "webhook", "slack", "email"))


def parse_config(text: str, source: str) -> AlertsConfig:
    data = yaml_mapping(text, source, "channels and rules")
    return validate(AlertsConfig, data, source, _where, {"union_tag_invalid": "type must be one of log, webhook, slack, email"})


def load_alerts_config(home: Home, path: Path | None = None) -> tuple[AlertsConfig, Path]:
    """The file at `path`, else TIERWISE_ALERTS_CONFIG, else the home's alerts.yaml, else the defaults."""
    explicit = path is not None or alerts_config_is_explicit()
    path = path or alerts_config_path(home)
    if not path.exists():
        if explicit:
            raise TierwiseError(f"alerts config file {path} does not exist")
        path = DEFAULT_FILE
    return parse_config(read_text(path), str(path)), path
