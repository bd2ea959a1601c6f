"""Every query on ``customer_quotas``, and the usage counted against it."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper.repo.queries import load

Q = load("customer_quotas")

LIMITS = ("max_jobs", "max_active_jobs", "manual_triggers_per_minute", "max_sync_runs")


def lock_quotas(conn: psycopg.Connection, customer_id: UUID) -> dict[str, Any]:
    """The customer's quota row (created when missing), locked until the transaction ends."""
    return conn.execute(Q["lock_quotas"], {"customer_id": customer_id}).fetchone()


def get_quotas(conn: psycopg.Connection, customer_id: UUID) -> dict[str, Any] | None:
    return conn.execute(Q["get_quotas"], {"customer_id": customer_id}).fetchone()


def set_quotas(conn: psycopg.Connection, customer_id: UUID, limits: dict[str, int | None]) -> dict[str, Any]:
    """Store the limits named in ``limits`` (``None``: back to the default); others are kept."""
    params = {name: limits.get(name) for name in LIMITS}
    params.update(customer_id=customer_id, given=[n for n in LIMITS if n in limits])
    return conn.execute(Q["set_quotas"], params).fetchone()


def count_trigger(conn: psycopg.Connection, customer_id: UUID, now: dt.datetime) -> tuple[int, dt.datetime]:
    """Count one manual trigger (row locked by ``lock_quotas``); returns the window's count and start."""
    row = conn.execute(Q["count_trigger"], {"customer_id": customer_id, "now": now}).fetchone()
    return row["triggers_in_window"], row["trigger_window"]


def job_usage(conn: psycopg.Connection, customer_id: UUID) -> dict[str, int]:
    """``{jobs, active_jobs}`` of the customer."""
    return conn.execute(Q["job_usage"], {"customer_id": customer_id}).fetchone()


def sync_runs_in_flight(conn: psycopg.Connection, customer_id: UUID) -> int:
    return conn.execute(Q["sync_runs_in_flight"], {"customer_id": customer_id}).fetchone()["n"]
