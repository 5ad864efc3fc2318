"""The alert config file and the state machine: pure logic, no broker, no receivers."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from alerts.channels import sign, slack_body, verify
from alerts.config import DEFAULT_FILE, load_alerts_config, parse_config
from alerts.state import Observation, step
from core.errors import TierwiseError
from core.home import Home

T0 = datetime(2026, 3, 2, 12, 0)
H = Decimal("0.1")
QUIET = timedelta(hours=24)


def obs(value: int | str, threshold: int = 100, direction: str = "above") -> Observation:
    return Observation("r", "s", Decimal(value), Decimal(threshold), direction)  # type: ignore[arg-type]


def run(values: list[int | str], direction: str = "above", every: timedelta = timedelta(minutes=10)) -> list[tuple[str, bool]]:
    state, out = None, []
    for i, v in enumerate(values):
        state, t = step(state, obs(v, direction=direction), T0 + i * every, H, QUIET)
        if t:
            out.append((t.kind, t.notify))
    return out


def test_fires_once_and_resolves_only_past_the_hysteresis() -> None:
    assert run([50, 99, 100, 150, 120, 95, 91, 90, 89]) == [("fired", True), ("resolved", True)]
    # 100 reaches the threshold; 91..90 stay within 10% of it; 89 is past it


def test_below_rules_mirror_above_rules() -> None:
    assert run([150, 100, 50, 105, 111], direction="below") == [("fired", True), ("resolved", True)]


def test_a_refire_inside_the_quiet_period_is_recorded_not_sent_and_its_resolve_neither() -> None:
    assert run([100, 80, 100, 80]) == [("fired", True), ("resolved", True), ("fired", False), ("resolved", False)]
    # a day apart, both fires are sent
    assert run([100, 80, 100], every=timedelta(hours=12)) == [("fired", True), ("resolved", True), ("fired", True)]


def test_the_same_observation_twice_is_no_transition() -> None:
    state, first = step(None, obs(120), T0, H, QUIET)
    again, second = step(state, obs(120), T0 + timedelta(hours=1), H, QUIET)
    assert first is not None and first.kind == "fired" and second is None and again == state


def test_the_default_file_is_valid_and_holds_the_articles_decision_points(tmp_path: Path) -> None:
    config, path = load_alerts_config(Home(tmp_path))
    assert path == DEFAULT_FILE
    volumes = sorted(r.threshold for r in config.rules if r.kind == "volume" and r.threshold is not None)
    assert volumes == [5_000_000, 40_000_000, 300_000_000, 1_000_000_000]
    spend = [r for r in config.rules if r.kind == "closed_api_spend"]
    assert [r.threshold for r in spend] == [Decimal(500)]
    assert list(config.channels) == ["log"] and config.defaults.quiet_period == timedelta(hours=24)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [{name: big, kind: volume}]", "f.yaml: rule big: a volume rule needs a threshold"),
        ("rules: [{name: big, kind: volume, threshold: lots}]", "f.yaml: rule big: threshold: 'lots' is not a number"),
        ("rules: [{name: big, kind: volume, threshold: 5M, treshold: 6M}]", "f.yaml: rule big: treshold: is not a known field"),
        ("rules: [{name: x, kind: error_rate, threshold: 5}]", "f.yaml: rule x: a error_rate threshold is a fraction"),
        ("rules: [{name: x, kind: volume, threshold: 5M, channels: [pager]}]", "rule x: channels: 'pager' is not a channel"),
        ("rules: [{kind: volume, threshold: 5M}]", "f.yaml: rules[0]: name: Field required"),
        ("channels: {s: {type: slack, url: 'https://hooks.example/T0/B0/x'}}", "f.yaml: channel s: url_env: Field required"),
        ("channels: {h: {type: webhook, url: ftp://x}}", "f.yaml: channel h: url: 'ftp://x' is not an http(s) URL"),
        (
            "channels: {h: {type: webhook, url: 'http://x', secret_env: 'my secret'}}",
            "channel h: secret_env: 'my secret' is not",
        ),
        ("channels: {p: {type: pager}}", "f.yaml: channel p: type must be one of log, webhook, slack, email"),
        ("defaults: {quiet_period: soon}", "f.yaml: defaults.quiet_period: 'soon' is not a duration"),
        ("rules: [a, b", "f.yaml: not valid YAML"),
    ],
)
def test_a_bad_file_names_the_file_the_rule_or_channel_and_the_field(text: str, message: str) -> None:
    with pytest.raises(TierwiseError) as err:
        parse_config(text, "f.yaml")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_amounts_and_durations() -> None:
    config = parse_config(
        "defaults: {quiet_period: 90m}\nrules: [{name: a, kind: volume, threshold: 1.5B, quiet_period: 2h}, "
        "{name: b, kind: closed_api_spend, threshold: '$1,250.50'}]",
        "f.yaml",
    )
    a, b = config.rules
    assert a.threshold == Decimal(1_500_000_000) and b.threshold == Decimal("1250.50")
    assert config.quiet_period(a) == timedelta(hours=2) and config.quiet_period(b) == timedelta(minutes=90)


def test_hmac_signature_is_the_standard_construction() -> None:
    # RFC 4231-style check against the widely published HMAC-SHA256 vector
    body = b"The quick brown fox jumps over the lazy dog"
    assert sign("key", body) == "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    assert verify("key", body, sign("key", body)) and not verify("key", body + b".", sign("key", body))


def test_slack_body_has_the_text_slack_shows() -> None:
    body = slack_body(
        {"status": "resolved", "severity": "warning", "rule": "volume-40m", "subject": "chat", "message": "1.0M tokens"}
    )
    assert body["text"] == "[tierwise RESOLVED warning] volume-40m chat: 1.0M tokens"


@pytest.mark.parametrize(("domicile", "fires"), [("DE", True), ("US", False)])
def test_the_license_rule_reads_part_5s_blockers_of_todays_model(domicile: str, fires: bool) -> None:
    """Llama 4 for an EU-domiciled organization: the projection rows come from the same macros as the
    tier_projection mart (decisions.recommend.project_scenario); the rule only reads them."""
    from datetime import date

    import duckdb

    from alerts.observe import after_build
    from decisions.recommend import project_scenario
    from schemas.workload_config import Scenario

    scenario = Scenario.model_validate(
        {
            "organization": {"domicile": domicile},
            "workloads": [
                {
                    "name": "triage",
                    "tier_now": "hosted_open_api",
                    "model_now": "llama-4-scout",
                    "provider_now": "groq",
                    "tokens_per_day": 3_000_000,
                }
            ],
        }
    )
    projection, _ = project_scenario(scenario, date(2026, 5, 4))
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE tier_projection (workload VARCHAR, model VARCHAR, is_current BOOLEAN, "
        "blockers STRUCT(rule VARCHAR, detail VARCHAR)[])"
    )
    for row in projection:
        con.execute(
            "INSERT INTO tier_projection VALUES (?, ?, ?, ?)",
            [row["workload"], row["model"], row["is_current"], row["blockers"]],
        )
    config = parse_config("rules: [{name: license-forbidden, kind: license}]", "f.yaml")
    [(rule, observation)] = after_build(con, config, date(2026, 5, 4))
    assert (observation.subject, observation.value >= observation.threshold) == ("triage", fires)
    if fires:
        assert observation.message == (
            "llama-4-scout runs today but its license forbids this organization: llama-4-scout (Llama 4 Community "
            "License) may not be used by EU-domiciled organizations (domicile DE)"
        )
