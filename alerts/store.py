"""Where alert state lives: `$TIERWISE_HOME/alerts.duckdb`, a file of its own, so evaluating and delivering an
alert never takes the warehouse's one write lock (the pipeline's), and a slow webhook never holds it.

Tables:
- `alert_state`: the state machine's state per rule and subject (alerts.state);
- `alerts`: every transition (fired, resolved) with the values that caused it, and whether it was sent;
- `alert_deliveries`: one row per alert and channel: pending, sending (claimed by a deliverer), sent or failed,
  with the attempts and the last error. A restart finds what was already sent here and never sends it again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from alerts.config import AlertsConfig, Rule
from alerts.state import Observation, State, Transition, step
from core.home import Home
from core.warehouse_lock import open_with_retry

# A claim older than this is taken to be a deliverer that died mid-send; its rows are pending again.
STALE_CLAIM = timedelta(minutes=10)

DDL = (
    """CREATE TABLE IF NOT EXISTS alert_state (
        rule VARCHAR NOT NULL, subject VARCHAR NOT NULL, status VARCHAR NOT NULL,
        value DECIMAL(38, 12) NOT NULL, threshold DECIMAL(38, 12) NOT NULL, since TIMESTAMP NOT NULL,
        notified BOOLEAN NOT NULL, last_sent_at TIMESTAMP, PRIMARY KEY (rule, subject))""",
    """CREATE TABLE IF NOT EXISTS alerts (
        alert_id VARCHAR NOT NULL PRIMARY KEY, occurred_at TIMESTAMP NOT NULL, rule VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        severity VARCHAR NOT NULL, subject VARCHAR NOT NULL, transition VARCHAR NOT NULL,
        value DECIMAL(38, 12) NOT NULL, threshold DECIMAL(38, 12) NOT NULL, direction VARCHAR NOT NULL,
        message VARCHAR NOT NULL, detail JSON, notified BOOLEAN NOT NULL, source VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS alert_deliveries (
        alert_id VARCHAR NOT NULL, channel VARCHAR NOT NULL, status VARCHAR NOT NULL, attempts INTEGER NOT NULL,
        last_error VARCHAR, claimed_at TIMESTAMP, updated_at TIMESTAMP NOT NULL, PRIMARY KEY (alert_id, channel))""",
)


def store_path(home: Home) -> Path:
    return home.root / "alerts.duckdb"


@contextmanager
def open_store(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The alert store; every user holds it only for a short transaction, so a wait is brief."""
    if read_only and not path.exists():
        con = duckdb.connect(":memory:")
        for ddl in DDL:
            con.execute(ddl)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = open_with_retry(lambda: duckdb.connect(str(path), read_only=read_only))
        if not read_only:
            for ddl in DDL:
                con.execute(ddl)
    try:
        yield con
    finally:
        con.close()


@dataclass(frozen=True)
class Alert:
    alert_id: str
    at: datetime
    rule: str
    kind: str
    severity: str
    subject: str
    transition: str
    value: Decimal
    threshold: Decimal
    direction: str
    message: str
    detail: dict[str, Any]
    notified: bool
    source: str

    def payload(self) -> dict[str, Any]:
        """The JSON every channel sends: money and volumes as decimal strings, never floats."""
        return {
            "alert_id": self.alert_id,
            "at": self.at.isoformat() + "Z",
            "rule": self.rule,
            "kind": self.kind,
            "severity": self.severity,
            "subject": self.subject,
            "status": "firing" if self.transition == "fired" else "resolved",
            "value": _plain(self.value),
            "threshold": _plain(self.threshold),
            "direction": self.direction,
            "message": self.message,
            "detail": self.detail,
        }

    def title(self) -> str:
        status = "FIRING" if self.transition == "fired" else "RESOLVED"
        return f"[tierwise {status} {self.severity}] {self.rule} {self.subject}: {self.message}"


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _state(row: tuple[Any, ...]) -> State:
    return State(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])


def _load_states(con: duckdb.DuckDBPyConnection, rules: Iterable[str]) -> dict[tuple[str, str], State]:
    names = list(rules)
    if not names:
        return {}
    rows = con.execute(
        "SELECT rule, subject, status, value, threshold, since, notified, last_sent_at FROM alert_state "
        "WHERE list_contains(?, rule)",
        [names],
    ).fetchall()
    return {(r[0], r[1]): _state(r) for r in rows}


def record(
    con: duckdb.DuckDBPyConnection,
    config: AlertsConfig,
    observations: Iterable[tuple[Rule, Observation]],
    now: datetime,
    source: str,
) -> list[Alert]:
    """Run each observation through the state machine and store the new states, every transition, and a
    pending delivery per channel for each transition that is to be sent; one transaction."""
    pairs = list(observations)
    states = _load_states(con, {rule.name for rule, _ in pairs})
    created: list[Alert] = []
    con.execute("BEGIN TRANSACTION")
    try:
        for rule, obs in pairs:
            key = (obs.rule, obs.subject)
            new, transition = step(states.get(key), obs, now, config.hysteresis(rule), config.quiet_period(rule))
            if new == states.get(key):
                continue
            states[key] = new
            con.execute(
                "INSERT OR REPLACE INTO alert_state VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [new.rule, new.subject, new.status, new.value, new.threshold, new.since, new.notified, new.last_sent_at],
            )
            if transition is not None:
                created.append(_insert(con, config, rule, transition, now, source))
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return created


def _insert(
    con: duckdb.DuckDBPyConnection, config: AlertsConfig, rule: Rule, t: Transition, now: datetime, source: str
) -> Alert:
    obs = t.observation
    alert = Alert(
        alert_id=uuid.uuid4().hex,
        at=now,
        rule=rule.name,
        kind=rule.kind,
        severity=rule.severity,
        subject=obs.subject,
        transition=t.kind,
        value=obs.value,
        threshold=obs.threshold,
        direction=obs.direction,
        message=obs.message,
        detail=obs.detail,
        notified=t.notify,
        source=source,
    )
    con.execute(
        "INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            alert.alert_id,
            alert.at,
            alert.rule,
            alert.kind,
            alert.severity,
            alert.subject,
            alert.transition,
            alert.value,
            alert.threshold,
            alert.direction,
            alert.message,
            json.dumps(alert.detail, default=str),
            alert.notified,
            alert.source,
        ],
    )
    if t.notify:
        for channel in config.channels_of(rule):
            con.execute(
                "INSERT INTO alert_deliveries VALUES (?, ?, 'pending', 0, NULL, NULL, ?)", [alert.alert_id, channel, now]
            )
    return alert


ALERT_COLUMNS = (
    "a.alert_id, a.occurred_at, a.rule, a.kind, a.severity, a.subject, a.transition, a.value, a.threshold, a.direction, "
    "a.message, a.detail, a.notified, a.source"
)


def _alert(row: tuple[Any, ...]) -> Alert:
    detail = json.loads(row[11]) if row[11] else {}
    return Alert(*row[:11], detail, *row[12:14])  # type: ignore[arg-type]


def claim_pending(
    con: duckdb.DuckDBPyConnection, now: datetime, channels: Iterable[str] | None = None
) -> list[tuple[str, Alert]]:
    """Mark pending deliveries (and stale claims) as being sent by this deliverer and return them, oldest
    first; the file's write lock makes the claim exclusive, so two deliverers never send the same row."""
    wanted = None if channels is None else list(channels)
    con.execute("BEGIN TRANSACTION")
    try:
        rows = con.execute(
            """UPDATE alert_deliveries AS d SET status = 'sending', claimed_at = ?, updated_at = ?
                WHERE (status = 'pending' OR (status = 'sending' AND claimed_at < ?))
                  AND (? IS NULL OR list_contains(?, channel))
                RETURNING alert_id, channel""",
            [now, now, now - STALE_CLAIM, wanted, wanted or []],
        ).fetchall()
        claimed: list[tuple[str, Alert]] = []
        if rows:
            ids = sorted({r[0] for r in rows})
            alerts = {
                r[0]: _alert(r)
                for r in con.execute(
                    f"SELECT {ALERT_COLUMNS} FROM alerts AS a WHERE list_contains(?, alert_id)", [ids]
                ).fetchall()
            }
            claimed = sorted(
                ((channel, alerts[aid]) for aid, channel in rows),
                key=lambda p: (p[1].at, p[1].rule, p[1].subject, p[1].alert_id, p[0]),
            )
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return claimed


@dataclass(frozen=True)
class DeliveryResult:
    alert_id: str
    channel: str
    ok: bool
    attempts: int
    error: str | None


def finish(con: duckdb.DuckDBPyConnection, results: Iterable[DeliveryResult], now: datetime) -> None:
    for r in results:
        con.execute(
            """UPDATE alert_deliveries SET status = ?, attempts = attempts + ?, last_error = ?, claimed_at = NULL,
               updated_at = ? WHERE alert_id = ? AND channel = ?""",
            ["sent" if r.ok else "failed", r.attempts, r.error, now, r.alert_id, r.channel],
        )


def active(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Alerts firing now: the newest fire of each rule and subject whose state is firing."""
    rows = con.execute(
        f"""SELECT {ALERT_COLUMNS}, s.since FROM alert_state AS s
            JOIN alerts AS a ON a.rule = s.rule AND a.subject = s.subject AND a.transition = 'fired'
            WHERE s.status = 'firing'
            QUALIFY row_number() OVER (PARTITION BY s.rule, s.subject ORDER BY a.occurred_at DESC, a.alert_id) = 1
            ORDER BY a.occurred_at, a.rule, a.subject"""
    ).fetchall()
    return [_alert(r[:14]).payload() for r in rows]


def recent(con: duckdb.DuckDBPyConnection, limit: int = 50) -> list[dict[str, Any]]:
    """The newest transitions with how each channel's delivery went."""
    rows = con.execute(
        f"""SELECT {ALERT_COLUMNS},
                   (SELECT list({{'channel': d.channel, 'status': d.status, 'attempts': d.attempts,
                                 'error': d.last_error}} ORDER BY d.channel)
                    FROM alert_deliveries AS d WHERE d.alert_id = a.alert_id) AS deliveries
            FROM alerts AS a ORDER BY a.occurred_at DESC, a.rule, a.subject LIMIT ?""",
        [limit],
    ).fetchall()
    out = []
    for r in rows:
        item = _alert(r[:14]).payload()
        item["sent"] = bool(r[12])
        item["deliveries"] = list(r[14] or [])
        out.append(item)
    return out
