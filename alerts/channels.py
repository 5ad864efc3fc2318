"""Sending an alert: the log, a generic JSON webhook (optionally HMAC-SHA256 signed), a Slack-compatible
incoming webhook, and email over SMTP. Each send is retried with exponential backoff (tenacity); a failure
is returned, never raised, so one channel never stops the others.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from alerts.config import AlertsConfig, EmailChannel, LogChannel, SlackChannel, WebhookChannel
from core import env
from core.errors import TierwiseError

LOG = logging.getLogger("tierwise.alerts")
SIGNATURE_HEADER = "X-Tierwise-Signature-256"
USER_AGENT = "tierwise-alerts/1"


class PermanentError(Exception):
    """A failure a retry cannot fix (a 4xx other than 408/429, a missing secret): recorded at once."""


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of the exact request body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute over the raw body and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), header)


def _secret(name: str, what: str) -> str:
    value = env.secret(name)
    if value is None:
        raise PermanentError(f"{what}: environment variable {name} is not set")
    return value


def _post_json(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> None:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", USER_AGENT)
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        # Never echo the URL: a Slack URL carries its token.
        message = f"HTTP {exc.code} {exc.reason}"
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise PermanentError(message) from None
        raise OSError(message) from None


def _send_webhook(channel: WebhookChannel, payload: dict[str, Any], timeout_s: float) -> None:
    url = channel.url or _secret(channel.url_env or "", "webhook url_env")
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    headers = dict(channel.headers)
    if channel.secret_env:
        headers[SIGNATURE_HEADER] = sign(_secret(channel.secret_env, "webhook secret_env"), body)
    _post_json(url, body, headers, timeout_s)


def slack_body(payload: dict[str, Any]) -> dict[str, Any]:
    """Slack's incoming-webhook format: `text` (shown in notifications) plus a section block."""
    status = "FIRING" if payload["status"] == "firing" else "RESOLVED"
    text = f"[tierwise {status} {payload['severity']}] {payload['rule']} {payload['subject']}: {payload['message']}"
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def _send_slack(channel: SlackChannel, payload: dict[str, Any], timeout_s: float) -> None:
    url = _secret(channel.url_env, "slack url_env")
    _post_json(url, json.dumps(slack_body(payload)).encode(), {}, timeout_s)


def _send_email(channel: EmailChannel, payload: dict[str, Any], timeout_s: float) -> None:
    message = EmailMessage()
    status = "FIRING" if payload["status"] == "firing" else "RESOLVED"
    message["Subject"] = f"[tierwise {status}] {payload['rule']} {payload['subject']}"
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message["X-Tierwise-Alert-Id"] = payload["alert_id"]
    message.set_content(f"{payload['message']}\n\n{json.dumps(payload, indent=2, sort_keys=True)}\n")
    with smtplib.SMTP(channel.host, channel.port, timeout=timeout_s) as smtp:
        if channel.starttls:
            cafile = str(channel.ca_file) if channel.ca_file else None
            smtp.starttls(context=ssl.create_default_context(cafile=cafile))
        if channel.username:
            password = _secret(channel.password_env, "email password_env") if channel.password_env else ""
            try:
                smtp.login(channel.username, password)
            except smtplib.SMTPAuthenticationError as exc:
                raise PermanentError(f"SMTP authentication failed ({exc.smtp_code})") from None
        smtp.send_message(message)


def _send_log(payload: dict[str, Any]) -> None:
    status = "FIRING" if payload["status"] == "firing" else "RESOLVED"
    level = logging.WARNING if payload["status"] == "firing" and payload["severity"] != "info" else logging.INFO
    LOG.log(
        level,
        "alert %s %s %s %s: %s (value %s, threshold %s, id %s)",
        status,
        payload["severity"],
        payload["rule"],
        payload["subject"],
        payload["message"],
        payload["value"],
        payload["threshold"],
        payload["alert_id"],
    )


@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    attempts: int
    error: str | None


def _retryable(exc: BaseException) -> bool:
    return not isinstance(exc, PermanentError)


def send(config: AlertsConfig, channel_name: str, payload: dict[str, Any]) -> SendOutcome:
    """Send one payload on one channel with the configured retries; the outcome, never an exception."""
    channel = config.channels.get(channel_name)
    if channel is None:
        return SendOutcome(False, 0, f"no channel {channel_name!r} in the alerts config")
    retry = config.retry
    attempts = 0

    def once() -> None:
        nonlocal attempts
        attempts += 1
        if isinstance(channel, LogChannel):
            _send_log(payload)
        elif isinstance(channel, WebhookChannel):
            _send_webhook(channel, payload, retry.timeout_s)
        elif isinstance(channel, SlackChannel):
            _send_slack(channel, payload, retry.timeout_s)
        else:
            _send_email(channel, payload, retry.timeout_s)

    try:
        for attempt in Retrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(retry.attempts),
            wait=wait_exponential(multiplier=retry.initial_wait_s, max=retry.max_wait_s),
            reraise=True,
        ):
            with attempt:
                once()
    except RetryError as exc:  # pragma: no cover - reraise=True re-raises the last error instead
        return SendOutcome(False, attempts, str(exc))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        LOG.warning("alert channel %s failed after %d attempt(s): %s", channel_name, attempts, error)
        return SendOutcome(False, attempts, error)
    return SendOutcome(True, attempts, None)


def probe_payload(channel_name: str, now_iso: str) -> dict[str, Any]:
    """What `tierwise alerts test CHANNEL` sends: a well-formed alert that says it is a test."""
    return {
        "alert_id": f"test-{channel_name}",
        "at": now_iso,
        "rule": "test",
        "kind": "test",
        "severity": "info",
        "subject": channel_name,
        "status": "firing",
        "value": "0",
        "threshold": "0",
        "direction": "above",
        "message": f"test message from tierwise to channel {channel_name}",
        "detail": {},
    }


def require_channel(config: AlertsConfig, name: str) -> None:
    if name not in config.channels:
        known = ", ".join(sorted(config.channels)) or "none"
        raise TierwiseError(f"no alert channel {name!r} (channels in the config: {known})")
