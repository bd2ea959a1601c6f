"""Every query on ``alert_channels``: where a customer's alerts go (``customer_id`` NULL: everyone's)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from cronkeeper.repo.queries import load

Q = load("alert_channels")


def insert(
    conn: psycopg.Connection, *, customer_id: UUID | None, kind: str, target: str, secret_name: str | None,
    enabled: bool = True,
) -> dict[str, Any]:
    params = {"customer_id": customer_id, "kind": kind, "target": target, "secret_name": secret_name,
              "enabled": enabled}  # fmt: skip
    return conn.execute(Q["insert"], params).fetchone()


def get(conn: psycopg.Connection, channel_id: int) -> dict[str, Any] | None:
    return conn.execute(Q["get"], {"id": channel_id}).fetchone()


def list_channels(conn: psycopg.Connection, customer_id: UUID | None = None) -> list[dict[str, Any]]:
    """Every channel (``customer_id`` None), or one customer's own."""
    return conn.execute(Q["list"], {"customer_id": customer_id}).fetchall()


def update(conn: psycopg.Connection, channel_id: int, *, target: str, secret_name: str | None,
           enabled: bool) -> dict[str, Any] | None:
    params = {"id": channel_id, "target": target, "secret_name": secret_name, "enabled": enabled}
    return conn.execute(Q["update"], params).fetchone()


def delete(conn: psycopg.Connection, channel_id: int) -> bool:
    return conn.execute(Q["delete"], {"id": channel_id}).fetchone() is not None
