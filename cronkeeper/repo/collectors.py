"""Every query on ``collectors`` (collector settings kept in the database)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from cronkeeper.repo._translate import translated
from cronkeeper.repo.queries import load

Q = load("collectors")


def list_collectors(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return conn.execute(Q["list_collectors"]).fetchall()


def upsert_collector(
    conn: psycopg.Connection, name: str, kind: str, config: dict[str, Any], is_active: bool = True
) -> dict[str, Any]:
    params = {"name": name, "kind": kind, "config": Jsonb(config), "is_active": is_active}
    with translated():
        return conn.execute(Q["upsert_collector"], params).fetchone()


def delete_collector(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute(Q["delete_collector"], {"name": name}).fetchone() is not None
