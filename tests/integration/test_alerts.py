"""Alerts end to end: events through a real broker, landed into a real DuckDB file, evaluated by the code the
landing asset runs, delivered by the real deliverer process to a loopback HTTP server (generic webhook with an
HMAC signature, a Slack-compatible one, one that always fails) and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from alerts.channels import SIGNATURE_HEADER, verify
from alerts.config import load_alerts_config
from alerts.evaluate import settle
from alerts.state import Observation
from alerts.store import open_store, store_path
from core.home import Home
from landing.consumer import TopicLander
from landing.warehouse import connect
from pipelines.defs.alerts.resource import alerts_resource
from tests.alert_receivers import HttpReceiver, SmtpReceiver, http_receiver, smtp_receiver
from tests.factories import BASE_TIME, encode, produce, usage_event, wait_for

SECRET = "s3cret-hmac-key"
SMTP_USER, SMTP_PASSWORD = "alerts", "smtp-pass-123"


@pytest.fixture
def receivers(tmp_path: Path) -> Iterator[tuple[HttpReceiver, SmtpReceiver]]:
    with http_receiver() as http, smtp_receiver(SMTP_USER, SMTP_PASSWORD, tls_dir=tmp_path) as smtp:
        http.failing.add("/down")
        yield http, smtp


def write_config(home: Home, http: HttpReceiver, smtp: SmtpReceiver, tls_dir: Path, rules: str) -> None:
    (home.root / "alerts.yaml").write_text(
        f"""
defaults: {{hysteresis: 0.1, quiet_period: 24h}}
retry: {{attempts: 3, initial_wait_s: 0.05, max_wait_s: 0.2, timeout_s: 5}}
channels:
  log: {{type: log}}
  hook: {{type: webhook, url: "{http.url}/hook", secret_env: TW_TEST_HMAC}}
  slack: {{type: slack, url_env: TW_TEST_SLACK_URL}}
  down: {{type: webhook, url: "{http.url}/down"}}
  mail:
    type: email
    host: 127.0.0.1
    port: {smtp.port}
    starttls: true
    ca_file: {tls_dir / "smtp-cert.pem"}
    username: {SMTP_USER}
    password_env: TW_TEST_SMTP_PASSWORD
    from: tierwise@example.test
    to: [finops@example.test]
rules:
{rules}
"""
    )


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch, receivers: tuple[HttpReceiver, SmtpReceiver]) -> None:
    monkeypatch.setenv("TW_TEST_HMAC", SECRET)
    monkeypatch.setenv("TW_TEST_SLACK_URL", f"{receivers[0].url}/slack")
    monkeypatch.setenv("TW_TEST_SMTP_PASSWORD", SMTP_PASSWORD)


def deliveries(home: Home) -> list[tuple[str, str, str, int]]:
    with open_store(store_path(home), read_only=True) as con:
        return con.execute(
            """SELECT a.rule || ' ' || a.transition, d.channel, d.status, d.attempts
               FROM alert_deliveries AS d JOIN alerts AS a USING (alert_id) ORDER BY a.occurred_at, a.rule, d.channel"""
        ).fetchall()


def settled(home: Home) -> bool:
    rows = deliveries(home)
    return bool(rows) and all(status in ("sent", "failed") for _, _, status, _ in rows)


def land_and_evaluate(bootstrap: str, topic: str, warehouse: Path, home: Home, events: list[dict]) -> None:
    """What the landing asset does: land in one transaction, observe on that connection, then settle."""
    produce(bootstrap, topic, [encode(e) for e in events], keys=[e["workload"].encode() for e in events])
    resource = alerts_resource(home)  # a new resource each time: nothing is remembered between runs but the store
    con = connect(warehouse)
    try:
        TopicLander(bootstrap, con, topic).land()
        observed = resource.after_landing(con)
    finally:
        con.close()
    resource.settle(observed)


def burst(start: int, at: datetime, tokens: int, n: int = 4, workload: str = "ramp") -> list[dict]:
    """n events at `at` carrying `tokens` input tokens in all."""
    return [
        usage_event(start + k, workload=workload, event_time=(at + timedelta(seconds=k)).isoformat(), input_tokens=tokens // n)
        | {"output_tokens": 0}
        for k in range(n)
    ]


@pytest.mark.kafka
def test_a_ramp_fires_once_per_threshold_resolves_and_a_failing_webhook_never_blocks_the_others(
    kafka_bootstrap: str,
    fresh_topics: dict[str, str],
    tw_home: Home,
    tmp_path: Path,
    receivers: tuple[HttpReceiver, SmtpReceiver],
    secrets: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http, smtp = receivers
    write_config(
        tw_home,
        http,
        smtp,
        tmp_path,
        "  - {name: volume-5m, kind: volume, threshold: 5M}\n  - {name: volume-40m, kind: volume, threshold: 40M}",
    )
    caplog.set_level(logging.INFO, logger="tierwise.alerts")
    topic, warehouse = fresh_topics["usage"], tw_home.warehouse
    day = BASE_TIME.replace(hour=0)

    # 3M tokens: under both thresholds, nothing is sent (and no deliverer has anything to do)
    land_and_evaluate(kafka_bootstrap, topic, warehouse, tw_home, burst(0, day, 3_000_000))
    assert deliveries(tw_home) == []
    # 6M in the trailing 24h: volume-5m fires
    land_and_evaluate(kafka_bootstrap, topic, warehouse, tw_home, burst(10, day + timedelta(hours=6), 3_000_000))
    wait_for(lambda: settled(tw_home), 60, "the 5M alert delivered or failed on every channel")
    # 46M: volume-40m fires, volume-5m stays firing without a second message
    big = burst(20, day + timedelta(hours=12), 40_000_000)
    land_and_evaluate(kafka_bootstrap, topic, warehouse, tw_home, big)
    wait_for(lambda: settled(tw_home) and len(deliveries(tw_home)) == 10, 60, "the 40M alert on every channel")
    # the same events again (a replayed day) and a restarted evaluation: no change, nothing re-sent
    land_and_evaluate(kafka_bootstrap, topic, warehouse, tw_home, big)
    # the next day at 1M in the trailing 24h: both resolve
    land_and_evaluate(kafka_bootstrap, topic, warehouse, tw_home, burst(30, day + timedelta(days=1, hours=13), 1_000_000))
    wait_for(lambda: settled(tw_home) and len(deliveries(tw_home)) == 20, 60, "both resolutions on every channel")

    with open_store(store_path(tw_home), read_only=True) as con:
        transitions = con.execute(
            "SELECT rule, subject, transition, value, threshold, notified FROM alerts ORDER BY occurred_at, rule"
        ).fetchall()
    assert transitions == [
        ("volume-5m", "ramp", "fired", Decimal(6_000_000), Decimal(5_000_000), True),
        ("volume-40m", "ramp", "fired", Decimal(46_000_000), Decimal(40_000_000), True),
        ("volume-40m", "ramp", "resolved", Decimal(1_000_000), Decimal(40_000_000), True),
        ("volume-5m", "ramp", "resolved", Decimal(1_000_000), Decimal(5_000_000), True),
    ]
    # exactly one message per transition on each working channel
    hook, slack = http.on("/hook"), http.on("/slack")
    payloads = [json.loads(r.body) for r in hook]
    assert [(p["rule"], p["status"], p["value"]) for p in payloads] == [
        ("volume-5m", "firing", "6000000"),
        ("volume-40m", "firing", "46000000"),
        ("volume-40m", "resolved", "1000000"),
        ("volume-5m", "resolved", "1000000"),
    ]
    assert len(slack) == 4 and all("text" in json.loads(r.body) for r in slack)
    assert "[tierwise FIRING warning] volume-5m ramp" in json.loads(slack[0].body)["text"]
    assert [m["Subject"] for m in smtp.messages] == [
        "[tierwise FIRING] volume-5m ramp",
        "[tierwise FIRING] volume-40m ramp",
        "[tierwise RESOLVED] volume-40m ramp",
        "[tierwise RESOLVED] volume-5m ramp",
    ]
    assert smtp.tls_sessions == 4 and smtp.logins == [(SMTP_USER, SMTP_PASSWORD)] * 4
    # every signature verifies over the exact body; a changed body or key does not
    assert all(verify(SECRET, r.body, r.headers[SIGNATURE_HEADER]) for r in hook)
    assert not verify(SECRET, hook[0].body + b" ", hook[0].headers[SIGNATURE_HEADER])
    assert not verify("other-key", hook[0].body, hook[0].headers[SIGNATURE_HEADER])
    # the failing receiver got each alert 3 times (the configured attempts) and each is recorded as failed
    assert len(http.on("/down")) == 4 * 3
    rows = deliveries(tw_home)
    assert sorted({(ch, st, n) for _, ch, st, n in rows}) == [
        ("down", "failed", 3),
        ("hook", "sent", 1),
        ("log", "sent", 1),
        ("mail", "sent", 1),
        ("slack", "sent", 1),
    ]
    with open_store(store_path(tw_home), read_only=True) as con:
        errors = {r[0] for r in con.execute("SELECT last_error FROM alert_deliveries WHERE channel = 'down'").fetchall()}
    assert errors == {"OSError: HTTP 500 Internal Server Error"}
    # the log channel wrote one line per transition; no secret reached a log or the store
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("alert ")]
    assert len(lines) == 4 and lines[0].startswith("alert FIRING warning volume-5m ramp")
    store_bytes = store_path(tw_home).read_bytes()
    for secret in (SECRET, SMTP_PASSWORD, f"{http.url}/slack"):
        assert secret not in caplog.text
        assert secret.encode() not in store_bytes


def test_a_value_flapping_around_a_threshold_sends_one_fire_and_one_resolve(
    tw_home: Home, tmp_path: Path, receivers: tuple[HttpReceiver, SmtpReceiver], secrets: None
) -> None:
    http, smtp = receivers
    write_config(tw_home, http, smtp, tmp_path, "  - {name: volume-5m, kind: volume, threshold: 5M, channels: [hook]}")
    config, path = load_alerts_config(tw_home)
    (rule,) = config.rules
    t0 = datetime(2026, 3, 2, 12, 0)
    values = [5.1, 4.8, 5.3, 4.6, 5.0, 4.4, 5.2, 4.3, 5.6, 4.9, 5.1]  # M tokens, one evaluation every 10 minutes
    for i, v in enumerate(values):
        obs = Observation("volume-5m", "chat", Decimal(str(v)) * 1_000_000, Decimal(5_000_000))
        settle(tw_home, config, path, [(rule, obs)], "test", now=t0 + timedelta(minutes=10 * i), background=False)
    with open_store(store_path(tw_home), read_only=True) as con:
        rows = con.execute("SELECT transition, notified FROM alerts ORDER BY occurred_at").fetchall()
    # hysteresis (resolve under 4.5M) lets 4.8 and 4.6 pass; two later fires fall in the quiet period
    assert rows == [("fired", True), ("resolved", True), ("fired", False), ("resolved", False), ("fired", False)]
    assert [(json.loads(r.body)["status"]) for r in http.on("/hook")] == ["firing", "resolved"]
    # after the quiet period the same crossing is sent again
    later = Observation("volume-5m", "chat", Decimal(4_000_000), Decimal(5_000_000))
    settle(tw_home, config, path, [(rule, later)], "test", now=t0 + timedelta(hours=3), background=False)
    again = Observation("volume-5m", "chat", Decimal(7_000_000), Decimal(5_000_000))
    settle(tw_home, config, path, [(rule, again)], "test", now=t0 + timedelta(hours=25), background=False)
    assert [(json.loads(r.body)["status"]) for r in http.on("/hook")] == ["firing", "resolved", "firing"]


def test_a_delivery_left_pending_by_a_dead_run_is_sent_once_by_the_next_evaluation(
    tw_home: Home, tmp_path: Path, receivers: tuple[HttpReceiver, SmtpReceiver], secrets: None
) -> None:
    http, smtp = receivers
    write_config(tw_home, http, smtp, tmp_path, "  - {name: volume-5m, kind: volume, threshold: 5M, channels: [hook]}")
    config, path = load_alerts_config(tw_home)
    (rule,) = config.rules
    from alerts.store import record

    # the run recorded the fire and died before delivering it
    with open_store(store_path(tw_home)) as con:
        record(
            con, config, [(rule, Observation("volume-5m", "chat", Decimal(6_000_000), Decimal(5_000_000)))], datetime.now(), "x"
        )
    assert http.on("/hook") == []
    # the next evaluation has no new transition, but sends what is pending, once
    same = Observation("volume-5m", "chat", Decimal(6_100_000), Decimal(5_000_000))
    for _ in range(3):
        settle(tw_home, config, path, [(rule, same)], "test", background=False)
    assert [json.loads(r.body)["value"] for r in http.on("/hook")] == ["6000000"]


def test_volumes_are_observed_on_the_landing_connection_with_the_default_rules(tw_home: Home) -> None:
    """No second connection to the warehouse: the observation runs on the one landing holds, with the
    documented defaults (no alerts.yaml in the home)."""
    con = connect(tw_home.warehouse)
    try:
        con.execute(
            "INSERT INTO raw.usage_events (event_id, event_time, event_date, tier, provider, model, workload, environment, "
            "operation, input_tokens, output_tokens, cached_input_tokens, cache_creation_input_tokens, reasoning_tokens, "
            "status, batch, shadow, schema_version, content_fields_dropped, kafka_topic, kafka_partition, kafka_offset, "
            "landed_at) VALUES ('e1', TIMESTAMP '2026-03-02 10:00', DATE '2026-03-02', 'closed_api', 'openai', 'gpt-5.4', "
            "'chat', 'production', 'chat', 5000000, 1000000, 0, 0, 0, 'ok', false, false, '1.0', 0, 't', 0, 0, now())"
        )
        observed = alerts_resource(tw_home).after_landing(con)
    finally:
        con.close()
    assert observed is not None
    volumes = {(r.name, o.subject): o.value for r, o in observed.pairs if r.kind == "volume"}
    assert volumes == {(name, "chat"): 6_000_000 for name in ("volume-5m", "volume-40m", "volume-300m", "volume-1b")}


def test_cli_lists_alerts_and_sends_a_test_message(
    tw_home: Home,
    tmp_path: Path,
    receivers: tuple[HttpReceiver, SmtpReceiver],
    secrets: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tierwise.cli import main

    http, smtp = receivers
    write_config(tw_home, http, smtp, tmp_path, "  - {name: volume-5m, kind: volume, threshold: 5M, channels: [hook, down]}")
    config, path = load_alerts_config(tw_home)
    (rule,) = config.rules
    obs = Observation("volume-5m", "chat", Decimal(6_000_000), Decimal(5_000_000), message="6.0M tokens")
    settle(tw_home, config, path, [(rule, obs)], "test", background=False)
    assert main(["alerts", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(a["rule"], a["subject"], a["value"]) for a in listed["active"]] == [("volume-5m", "chat", "6000000")]
    [latest] = listed["recent"]
    assert [(d["channel"], d["status"], d["attempts"]) for d in latest["deliveries"]] == [
        ("down", "failed", 3),
        ("hook", "sent", 1),
    ]
    assert main(["alerts"]) == 0
    text = capsys.readouterr().out
    assert "firing now (1):" in text and "down failed after 3 attempt(s): OSError: HTTP 500" in text
    # a test message: signed like a real one
    assert main(["alerts", "test", "hook"]) == 0
    assert capsys.readouterr().out.strip() == "test message sent to hook in 1 attempt(s)"
    probe = http.on("/hook")[-1]
    assert json.loads(probe.body)["rule"] == "test" and verify(SECRET, probe.body, probe.headers[SIGNATURE_HEADER])
    assert main(["alerts", "test", "mail"]) == 0
    assert smtp.messages[-1]["Subject"] == "[tierwise FIRING] test mail"
    # a failing channel, an unknown one, a bad file: one line each, exit 2
    assert main(["alerts", "test", "down"]) == 2
    assert capsys.readouterr().err.strip().startswith("tierwise: error: channel down (")
    assert main(["alerts", "test", "pager"]) == 2
    assert "no alert channel 'pager' (channels in the config: down, hook, log, mail, slack)" in capsys.readouterr().err
    (tw_home.root / "alerts.yaml").write_text("rules: [{name: big, kind: volume, threshold: lots}]\n")
    assert main(["alerts"]) == 2
    err = capsys.readouterr().err.strip()
    where = tw_home.root / "alerts.yaml"
    assert err == f"tierwise: error: {where}: rule big: threshold: 'lots' is not a number (e.g. 5000000, 5M, $500, 0.05)"


def test_health_rules_read_the_trailing_24_hours_of_the_raw_tables(tw_home: Home) -> None:
    """Error rate, p99 against the workload's SLO, a day-over-day spike and the rejected rate, on a real
    DuckDB file, with numbers worked out by hand."""
    from alerts.config import parse_config
    from alerts.observe import after_landing
    from decisions.config import load_into_warehouse

    config = parse_config(
        """
rules:
  - {name: errors, kind: error_rate, threshold: 0.05}
  - {name: p99, kind: p99_latency}
  - {name: spike, kind: volume_spike, threshold: 3}
  - {name: rejected, kind: rejected_rate, threshold: 0.01}
""",
        "alerts.yaml",
    )
    con = connect(tw_home.warehouse)
    newest = datetime(2026, 3, 3, 12, 0)
    columns = (
        "event_id, event_time, event_date, tier, provider, model, workload, environment, operation, input_tokens, "
        "output_tokens, cached_input_tokens, cache_creation_input_tokens, reasoning_tokens, duration_ms, status, batch, "
        "shadow, schema_version, content_fields_dropped, kafka_topic, kafka_partition, kafka_offset, landed_at"
    )

    def add(i: int, when: datetime, workload: str, tokens: int, ms: float, status: str = "ok", shadow: bool = False) -> None:
        con.execute(
            f"INSERT INTO raw.usage_events ({columns}) VALUES (?, ?, ?, 'closed_api', 'openai', 'gpt-5.4', ?, 'p', 'chat', "
            "?, 0, 0, 0, 0, ?, ?, false, ?, '1', 0, 't', 0, ?, ?)",
            [f"e{i}", when, when.date(), workload, tokens, ms, status, shadow, i, when],
        )

    try:
        # chat, last 24 h: 100 requests of 1,000 tokens, 7 failed, latencies 100..199 ms plus one 5 s outlier
        for i in range(100):
            add(i, newest - timedelta(minutes=10 * i), "chat", 1000, 100.0 + i, "error" if i < 7 else "ok")
        add(100, newest - timedelta(hours=1), "chat", 0, 5000.0, shadow=True)  # shadow: left out
        # the 24 h before: 20,000 tokens, so 100,000 / 20,000 = 5x
        for i in range(20):
            add(200 + i, newest - timedelta(hours=30, minutes=i), "chat", 1000, 100.0)
        # rag: steady, 2 requests each day, no errors
        for i, hours in enumerate((1, 2, 25, 26)):
            add(300 + i, newest - timedelta(hours=hours), "rag", 500, 50.0)
        con.execute(
            "INSERT INTO raw.landing_batches VALUES ('b1', 't', 990, 0, 10, 0, ?), ('b0', 't', 500, 0, 500, 0, ?)",
            [newest, newest - timedelta(hours=30)],
        )
        slo = tw_home.root / "tierwise.yaml"
        slo.write_text("workloads:\n  - {name: chat, latency_slo_ms: 190}\n")
        load_into_warehouse(con, slo)
        pairs = after_landing(con, config)
    finally:
        con.close()
    seen = {(rule.name, o.subject): (o.value, o.threshold) for rule, o in pairs}
    # p99 over 100 latencies 100..199 (the shadow's 5 s is not one of them): 198.01 ms
    assert seen == {
        ("errors", "chat"): (Decimal("0.07"), Decimal("0.05")),
        ("errors", "rag"): (Decimal(0), Decimal("0.05")),
        ("p99", "chat"): (Decimal("198.01"), Decimal(190)),
        ("spike", "chat"): (Decimal(5), Decimal(3)),
        ("spike", "rag"): (Decimal(1), Decimal(3)),
        ("rejected", "landing"): (Decimal("0.01"), Decimal("0.01")),
    }


@pytest.mark.kafka
def test_the_lag_sensor_alerts_when_landing_falls_behind_and_resolves_when_it_catches_up(
    kafka_bootstrap: str,
    fresh_topics: dict[str, str],
    topic_prefix: str,
    tw_home: Home,
    tmp_path: Path,
    receivers: tuple[HttpReceiver, SmtpReceiver],
    secrets: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dagster as dg

    from core.settings import Settings
    from pipelines.defs.alerts.sensors import alert_lag_sensor
    from pipelines.defs.resources import build_resources

    http, smtp = receivers
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("TIERWISE_TOPIC_PREFIX", topic_prefix)
    write_config(
        tw_home, http, smtp, tmp_path, "  - {name: lag-20, kind: consumer_lag, threshold: 20, hysteresis: 0, channels: [log]}"
    )
    topic = fresh_topics["usage"]
    produce(kafka_bootstrap, topic, [encode(usage_event(i)) for i in range(25)])

    def tick() -> None:
        with dg.DagsterInstance.ephemeral() as instance:
            context = dg.build_sensor_context(instance=instance, resources=build_resources(Settings.from_env()))
            result = alert_lag_sensor.evaluate_tick(context)
            assert not result.run_requests  # it only alerts; the landing sensor requests runs

    def states() -> list[tuple[str, str, Decimal]]:
        with open_store(store_path(tw_home), read_only=True) as con:
            return con.execute("SELECT subject, transition, value FROM alerts ORDER BY occurred_at, subject").fetchall()

    tick()
    assert states() == [(topic, "fired", Decimal(25))]
    tick()  # still behind: nothing new
    assert states() == [(topic, "fired", Decimal(25))]
    con = connect(tw_home.warehouse)
    try:
        TopicLander(kafka_bootstrap, con, topic).land()  # commits and mirrors the offsets to the consumer group
    finally:
        con.close()
    tick()
    assert states() == [(topic, "fired", Decimal(25)), (topic, "resolved", Decimal(0))]
