"""Every query on ``cronkeeper_meta``: installation-wide facts, one text value per key.

Also the transaction-scoped advisory lock that guards a change to such a fact
(``try_xact_lock``): the lock and the value it protects travel together.
"""

from __future__ import annotations

import datetime as dt

import psycopg

from cronkeeper.repo.queries import load

Q = load("cronkeeper_meta")


def get_value(conn: psycopg.Connection, key: str) -> str | None:
    """The value stored under ``key``, or ``None`` when there is none."""
    row = conn.execute(Q["get_value"], {"key": key}).fetchone()
    return None if row is None else row["value"]


def put_value(conn: psycopg.Connection, key: str, value: str, now: dt.datetime) -> None:
    """Store ``value`` under ``key`` (insert or replace), stamped ``now``."""
    conn.execute(Q["put_value"], {"key": key, "value": value, "now": now})


def delete_value(conn: psycopg.Connection, key: str) -> None:
    conn.execute(Q["delete_value"], {"key": key})


def try_xact_lock(conn: psycopg.Connection, lock_key: int) -> bool:
    """Take the advisory lock ``lock_key`` until the current transaction ends; False if another holds it."""
    return conn.execute(Q["try_xact_lock"], {"lock_key": lock_key}).fetchone()["locked"]

