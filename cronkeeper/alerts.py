"""Alerts for people: list and acknowledge alerts, manage channels, set alert rules.

The API and the CLI call these; the scheduler raises and resolves alerts
(``services.scheduler.alerts``) and ``cronkeeper.alert_delivery`` sends them.
``scope`` is the customer a caller is bound to (None: everything): another
customer's alert, channel, job or customer is not found. Acknowledging, and
every change to a channel or to rules, is recorded in the audit trail
(``cronkeeper.audit``) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import alert_delivery, audit, signing_secrets
from cronkeeper.alert_rules import AlertSettings, check_rules, merged
from cronkeeper.errors import NotFound, ValidationError
from cronkeeper.repo import alert_channels
from cronkeeper.repo import alerts as alerts_repo
from cronkeeper.repo import customers as customers_repo

KINDS = ("late", "missed", "failed", "consecutive_failures", "slow", "auto_paused")  # auto_paused: services/scheduler/pauses.py
STATUSES = ("open", "resolved")
CHANNEL_KINDS = ("webhook", "email")


def list_alerts(
    conn: psycopg.Connection, *, scope: UUID | None = None, customer_id: UUID | None = None,
    job_id: UUID | None = None, kind: str | None = None, status: str | None = None,
    before_id: int | None = None, limit: int = 50,
) -> list[dict[str, Any]]:
    """Alerts newest first; a ``customer_id`` other than ``scope`` finds nothing."""
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if status is not None and status not in STATUSES:
        raise ValidationError("status must be open or resolved", field="status")
    if scope is not None:
        if customer_id is not None and customer_id != scope:
            return []
        customer_id = scope
    return alerts_repo.list_alerts(conn, customer_id=customer_id, job_id=job_id, kind=kind, status=status,
                                   before_id=before_id, limit=limit)  # fmt: skip


def get_alert(conn: psycopg.Connection, alert_id: int, *, scope: UUID | None = None) -> dict[str, Any]:
    row = alerts_repo.get(conn, alert_id)
    if row is None or (scope is not None and row["customer_id"] != scope):
        raise NotFound(f"no alert {alert_id}")
    return row


def ack(conn: psycopg.Connection, alert_id: int, now: dt.datetime, *, scope: UUID | None = None) -> dict[str, Any]:
    """Acknowledge (by the current actor); acknowledging again changes nothing. The alert."""
    with conn.transaction():
        alert = get_alert(conn, alert_id, scope=scope)
        by = audit.current_actor().name
        if alerts_repo.ack(conn, alert_id, by, now):
            audit.record(conn, "ack", "alert", alert_id, customer_id=alert["customer_id"],
                         changes={"acked_by": [None, by]}, job_id=alert["scheduled_job_id"])  # fmt: skip
        return alerts_repo.get(conn, alert_id)


# -- channels ---------------------------------------------------------------------------


def _channel_values(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    if kind not in CHANNEL_KINDS:
        raise ValidationError("kind must be webhook or email", field="kind")
    secret = values.get("secret_name")
    if secret is not None:
        if kind != "webhook":
            raise ValidationError("secret_name is for webhook channels only", field="secret_name")
        signing_secrets.check_name(secret, "secret_name")
    enabled = values.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValidationError("enabled must be true or false", field="enabled")
    target = alert_delivery.check_target(kind, values.get("target"), "target")
    return {"target": target, "secret_name": secret, "enabled": enabled}


def _audit_channel(conn: psycopg.Connection, action: str, before: dict | None, after: dict | None) -> None:
    keys = ("customer_id", "kind", "target", "secret_name", "enabled")
    row = after or before or {}
    changes = audit.diff({k: before[k] for k in keys} if before else {}, {k: after[k] for k in keys} if after else {})
    audit.record(conn, action, "alert_channel", row["id"], customer_id=row["customer_id"], changes=changes)


def list_channels(conn: psycopg.Connection, *, scope: UUID | None = None) -> list[dict[str, Any]]:
    """Every channel (unbound), or the scope's own (global channels are the operator's)."""
    return alert_channels.list_channels(conn, scope)


def get_channel(conn: psycopg.Connection, channel_id: int, *, scope: UUID | None = None) -> dict[str, Any]:
    row = alert_channels.get(conn, channel_id)
    if row is None or (scope is not None and row["customer_id"] != scope):
        raise NotFound(f"no alert channel {channel_id}")
    return row


def create_channel(conn: psycopg.Connection, values: dict[str, Any], *, scope: UUID | None = None) -> dict[str, Any]:
    """A new channel; ``customer_id`` None makes a global one (unbound callers only)."""
    customer_id = values.get("customer_id")
    if scope is not None:
        if customer_id is not None and customer_id != scope:
            raise NotFound("no such customer", field="customer_id")
        customer_id = scope
    kind = values.get("kind")
    checked = _channel_values(kind, values)
    with conn.transaction():
        if customer_id is not None and customers_repo.get_customer(conn, customer_id) is None:
            raise NotFound("no such customer", field="customer_id")
        row = alert_channels.insert(conn, customer_id=customer_id, kind=kind, **checked)
        _audit_channel(conn, "create", None, row)
    return row


def update_channel(
    conn: psycopg.Connection, channel_id: int, changes: dict[str, Any], *, scope: UUID | None = None
) -> dict[str, Any]:
    """Change a channel's ``target``, ``secret_name`` or ``enabled`` (its kind and customer stay)."""
    unknown = set(changes) - {"target", "secret_name", "enabled"}
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationError(f"{field} cannot be changed", field=field)
    with conn.transaction():
        before = get_channel(conn, channel_id, scope=scope)
        current = {k: before[k] for k in ("target", "secret_name", "enabled")}
        checked = _channel_values(before["kind"], {**current, **changes})
        after = alert_channels.update(conn, channel_id, **checked)
        _audit_channel(conn, "update", before, after)
    return after


def delete_channel(conn: psycopg.Connection, channel_id: int, *, scope: UUID | None = None) -> None:
    with conn.transaction():
        before = get_channel(conn, channel_id, scope=scope)
        alert_channels.delete(conn, channel_id)
        _audit_channel(conn, "delete", before, None)


# -- rules -------------------------------------------------------------------------------


def job_rules(conn: psycopg.Connection, job_id: UUID, *, scope: UUID | None = None) -> dict[str, Any]:
    """``{"rules": the job's own, "effective": merged with its customer's and the default}``."""
    row = NotFound.unless(alerts_repo.rules_of_job(conn, job_id, scope), f"no scheduled job {job_id}")
    default = AlertSettings.from_env().default_rules
    return {"rules": row["job_rules"], "effective": merged(row["job_rules"], row["customer_rules"], default)}


def set_job_rules(conn: psycopg.Connection, job_id: UUID, rules: Any, *, scope: UUID | None = None) -> dict[str, Any]:
    """Replace the job's own rules (``{}``: inherit every one); returns what ``job_rules`` does."""
    rules = check_rules(rules)
    with conn.transaction():
        row = NotFound.unless(alerts_repo.rules_of_job(conn, job_id, scope), f"no scheduled job {job_id}")
        alerts_repo.set_job_rules(conn, job_id, rules)
        changes = audit.diff({"alert_rules": row["job_rules"]}, {"alert_rules": rules})
        if changes:
            audit.record(conn, "update", "job", job_id, customer_id=row["customer_id"], changes=changes, job_id=job_id)
    return job_rules(conn, job_id, scope=scope)


def customer_rules(conn: psycopg.Connection, customer_id: UUID, *, scope: UUID | None = None) -> dict[str, Any]:
    row = NotFound.unless(alerts_repo.rules_of_customer(conn, customer_id, scope), f"no customer {customer_id}")
    default = AlertSettings.from_env().default_rules
    return {"rules": row["customer_rules"], "effective": merged(None, row["customer_rules"], default)}


def set_customer_rules(
    conn: psycopg.Connection, customer_id: UUID, rules: Any, *, scope: UUID | None = None
) -> dict[str, Any]:
    rules = check_rules(rules)
    with conn.transaction():
        row = NotFound.unless(alerts_repo.rules_of_customer(conn, customer_id, scope), f"no customer {customer_id}")
        alerts_repo.set_customer_rules(conn, customer_id, rules)
        changes = audit.diff({"alert_rules": row["customer_rules"]}, {"alert_rules": rules})
        if changes:
            audit.record(conn, "update", "customer", customer_id, customer_id=customer_id, changes=changes)
    return customer_rules(conn, customer_id, scope=scope)
