"""Every query on ``audit_events``. ``cronkeeper.audit`` decides what an event says."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from cronkeeper.repo.queries import load

Q = load("audit_events")


def insert_event(
    conn: psycopg.Connection,
    *,
    token_id: int | None,
    token_name: str,
    customer_id: UUID | None,
    action: str,
    resource_type: str,
    resource_id: str,
    job_id: UUID | None,
    changes: dict[str, Any],
) -> dict[str, Any]:
    params = {
        "token_id": token_id, "token_name": token_name, "customer_id": customer_id, "action": action,
        "resource_type": resource_type, "resource_id": resource_id, "job_id": job_id, "changes": Jsonb(changes),
    }  # fmt: skip
    return conn.execute(Q["insert_event"], params).fetchone()


def list_events(
    conn: psycopg.Connection,
    *,
    only_customer: UUID | None = None,
    customer_id: UUID | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    job_id: UUID | None = None,
    since: dt.datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Events newest first; ``only_customer`` is the caller's scope, the rest are filters."""
    params = {
        "only_customer": only_customer, "customer_id": customer_id, "resource_type": resource_type,
        "resource_id": resource_id, "job_id": job_id, "since": since, "before_id": before_id, "limit": limit,
    }  # fmt: skip
    return conn.execute(Q["list_events"], params).fetchall()
