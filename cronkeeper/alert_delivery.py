"""Alert delivery: send queued alert events to webhooks and by email, one recorded attempt each.

``services.scheduler.alerts`` queues an ``alert_deliveries`` row per channel
when an alert opens or resolves; ``deliver_pending(conn, now)`` sends the due
ones. Each attempt is its own row: a failed one keeps its error and the next
attempt is queued ``BACKOFF_SECONDS x 2^(attempt-1)`` later, up to
``MAX_ATTEMPTS``. A due row is first leased (its ``next_attempt_at`` pushed
``LEASE_SECONDS`` on) in a short statement, then sent outside any
transaction, so several schedulers never send one attempt twice at once.

- **webhook**: a JSON ``POST`` through ``cronkeeper.notify.send_webhook``
  (outbound policy, redaction, ``X-Cronkeeper-Signature`` with the channel's
  signing secret by name, ``cronkeeper.signing_secrets``); the body has a
  Slack-compatible ``text`` plus ``event`` and ``alert``.
- **email**: a plain-text mail over SMTP (``smtplib``; ``CRONKEEPER_SMTP_*``,
  ``cronkeeper.alert_rules.AlertSettings``), STARTTLS and login when set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import psycopg

from cronkeeper import outbound, signing_secrets
from cronkeeper.alert_rules import AlertSettings
from cronkeeper.errors import CronkeeperError, ValidationError
from cronkeeper.notify import send_webhook
from cronkeeper.redaction import redact
from cronkeeper.repo import alert_channels, alert_deliveries
from cronkeeper.repo import alerts as alerts_repo

log = logging.getLogger("cronkeeper.alerts")

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 30.0
LEASE_SECONDS = 120.0
BATCH = 50
_EMAIL = re.compile(r"^[^@\s,;<>]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


@dataclass(frozen=True)
class DeliveryResult:
    """Counts of one pass: attempts sent, failed (and retried), failed for good."""

    sent: int = 0
    failed: int = 0
    given_up: int = 0


def check_target(kind: str, target: Any, field: str = "target", policy: outbound.Policy | None = None) -> str:
    """A channel's target when valid for its kind (an http(s) URL the outbound policy allows, an address)."""
    if kind == "webhook":
        return outbound.check_url(target, field, policy)
    if not isinstance(target, str) or not _EMAIL.match(target):
        raise ValidationError(f"{field} must be an email address", field=field)
    return target


def alert_text(alert: dict[str, Any], event: str) -> str:
    """One line for humans (and Slack's ``text``)."""
    job = alert.get("job_name") or str(alert["scheduled_job_id"])
    if event == "resolved":
        return f"[cronkeeper] resolved: {alert['kind']} on job {job} (alert {alert['id']})"
    return f"[cronkeeper] {alert['kind']} on job {job}: {alert['message']} (alert {alert['id']}, count {alert['count']})"


def _payload(alert: dict[str, Any], event: str) -> dict[str, Any]:
    fields = ("id", "kind", "scheduled_job_id", "customer_id", "scheduled_for", "run_id", "message", "count",
              "opened_at", "last_seen_at", "resolved_at", "resolved_by_run_id")  # fmt: skip
    return {"text": alert_text(alert, event), "event": event, "alert": {k: alert[k] for k in fields}}


def send_email(settings: AlertSettings, to: str, subject: str, body: str, timeout: float = 10.0) -> None:
    """Send one mail; raises ``CronkeeperError`` / ``OSError`` / ``smtplib.SMTPException`` on failure."""
    if not settings.smtp_host:
        raise CronkeeperError("CRONKEEPER_SMTP_HOST is not set")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


async def _post(url: str, payload: dict[str, Any], secret: str | None, **options: Any) -> str | None:
    async with httpx.AsyncClient() as client:
        result = await send_webhook(client, url, payload, secret, attempts=1, **options)
    return None if result.ok else result.error


def _send(alert: dict[str, Any], channel: dict[str, Any] | None, event: str, settings: AlertSettings,
          options: dict[str, Any]) -> str | None:
    """Send one attempt; the error, or None when it went out."""
    if channel is None or not channel["enabled"]:
        return "channel disabled or deleted"
    if channel["kind"] == "email":
        try:
            send_email(settings, channel["target"], alert_text(alert, event)[:200], redact(_body(alert, event)))
        except (CronkeeperError, OSError, smtplib.SMTPException) as exc:
            return redact(f"email: {type(exc).__name__}: {exc}")[:500]
        return None
    secret = None
    if channel["secret_name"]:
        try:
            secret = signing_secrets.value(channel["secret_name"])
        except CronkeeperError:
            secret = None
        if secret is None:
            return f"signing secret {channel['secret_name']!r} is not available"
    return asyncio.run(_post(channel["target"], _payload(alert, event), secret, **options))


def _body(alert: dict[str, Any], event: str) -> str:
    lines = [alert_text(alert, event), ""]
    lines += [f"{k}: {alert[k]}" for k in ("kind", "scheduled_job_id", "scheduled_for", "run_id", "count",
                                           "opened_at", "resolved_at") if alert.get(k) is not None]  # fmt: skip
    return "\n".join(lines) + "\n"


def deliver_pending(
    conn: psycopg.Connection, now: dt.datetime, *, settings: AlertSettings | None = None,
    limit: int = BATCH, **webhook_options: Any,
) -> DeliveryResult:
    """Send the due attempts (``conn`` in autocommit); ``webhook_options`` go to ``send_webhook`` (policy, resolver)."""
    settings = settings or AlertSettings.from_env()
    sent = failed = given_up = 0
    for row in alert_deliveries.claim_due(conn, now, limit, LEASE_SECONDS):
        alert = alerts_repo.get(conn, row["alert_id"])
        error = None if alert is None else _send(
            alert, alert_channels.get(conn, row["channel_id"]), row["event"], settings, webhook_options
        )  # fmt: skip
        with conn.transaction():
            if error is None:
                alert_deliveries.mark_sent(conn, row["id"], now)
                sent += 1
                continue
            alert_deliveries.mark_failed(conn, row["id"], error)
            log.warning("alert_delivery_failed", extra={"delivery_id": row["id"], "attempt": row["attempt"]})
            if row["attempt"] < MAX_ATTEMPTS and alert is not None:
                alert_deliveries.retry(conn, row, now + dt.timedelta(seconds=BACKOFF_SECONDS * 2 ** (row["attempt"] - 1)))
                failed += 1
            else:
                given_up += 1
    return DeliveryResult(sent, failed, given_up)
