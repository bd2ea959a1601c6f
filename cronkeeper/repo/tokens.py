"""Every query on ``api_tokens``. Only hashes are stored; ``cronkeeper.tokens`` makes them."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper.repo._translate import translated
from cronkeeper.repo.queries import load

Q = load("api_tokens")


def insert_token(
    conn: psycopg.Connection,
    name: str,
    token_hash: str,
    role: str,
    customer_id: UUID | None,
    expires_at: dt.datetime | None = None,
) -> dict[str, Any]:
    params = {
        "name": name, "token_hash": token_hash, "role": role, "customer_id": customer_id, "expires_at": expires_at,
    }  # fmt: skip
    with translated():
        return conn.execute(Q["insert_token"], params).fetchone()


def get_by_hash(conn: psycopg.Connection, token_hash: str) -> dict[str, Any] | None:
    """The token with this hash unless it is revoked (an expired one is found: the caller
    compares ``expires_at`` with its clock)."""
    return conn.execute(Q["get_by_hash"], {"token_hash": token_hash}).fetchone()


def touch_token(conn: psycopg.Connection, token_id: int, now: dt.datetime, every_seconds: float) -> None:
    """Record a use; skipped when the last one is under ``every_seconds`` old (saves a write per request)."""
    conn.execute(Q["touch_token"], {"id": token_id, "now": now, "every": every_seconds})


def list_tokens(conn: psycopg.Connection, *, include_revoked: bool = True) -> list[dict[str, Any]]:
    return conn.execute(Q["list_tokens"], {"include_revoked": include_revoked}).fetchall()


def get_token(conn: psycopg.Connection, token_id: int) -> dict[str, Any] | None:
    return conn.execute(Q["get_token"], {"id": token_id}).fetchone()


def revoke_token(conn: psycopg.Connection, token_id: int, now: dt.datetime) -> dict[str, Any] | None:
    """The revoked row; None when there is no such live token."""
    return conn.execute(Q["revoke_token"], {"id": token_id, "now": now}).fetchone()
