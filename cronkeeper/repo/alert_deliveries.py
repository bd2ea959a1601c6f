"""Every query on ``alert_deliveries``: one row per attempt to deliver an alert's event to a channel."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper.repo.queries import load

Q = load("alert_deliveries")


def queue(conn: psycopg.Connection, alert_id: int, customer_id: UUID, event: str, now: dt.datetime) -> int:
    """A pending attempt for each enabled channel of the customer (and global ones); how many."""
    params = {"alert_id": alert_id, "customer_id": customer_id, "event": event, "now": now}
    return conn.execute(Q["queue"], params).rowcount


def claim_due(conn: psycopg.Connection, now: dt.datetime, limit: int, lease_seconds: float) -> list[dict[str, Any]]:
    """Due attempts, each held for ``lease_seconds`` (its ``next_attempt_at`` pushed on)."""
    return conn.execute(Q["claim_due"], {"now": now, "limit": limit, "lease_seconds": lease_seconds}).fetchall()


def mark_sent(conn: psycopg.Connection, delivery_id: int, now: dt.datetime) -> None:
    conn.execute(Q["mark_sent"], {"id": delivery_id, "now": now})


def mark_failed(conn: psycopg.Connection, delivery_id: int, error: str) -> bool:
    return conn.execute(Q["mark_failed"], {"id": delivery_id, "error": error[:1000]}).fetchone() is not None


def retry(conn: psycopg.Connection, row: dict[str, Any], next_attempt_at: dt.datetime) -> None:
    """The next attempt of ``row`` (a failed one), due at ``next_attempt_at``."""
    params = {"alert_id": row["alert_id"], "channel_id": row["channel_id"], "event": row["event"],
              "attempt": row["attempt"] + 1, "next_attempt_at": next_attempt_at}  # fmt: skip
    conn.execute(Q["retry"], params)


def for_alert(conn: psycopg.Connection, alert_id: int) -> list[dict[str, Any]]:
    return conn.execute(Q["for_alert"], {"alert_id": alert_id}).fetchall()
