"""Every query on ``processes``: live schedulers, workers and API servers."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from cronkeeper.repo.queries import load

Q = load("processes")


def new_process_id(kind: str) -> str:
    return f"{kind}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def heartbeat(
    conn: psycopg.Connection, process_id: str, kind: str, now: dt.datetime, info: dict[str, Any] | None = None,
    *, skew: float | None = None,
) -> None:
    """Upsert this process's row; ``skew``: its clock minus the database's, in seconds (also put in ``info``
    as ``clock_skew_seconds``, which /api/admin/system shows), None when not measured."""
    info = dict(info or {})
    if skew is not None:
        info["clock_skew_seconds"] = round(skew, 3)
    params = {
        "id": process_id, "kind": kind, "hostname": socket.gethostname(), "pid": os.getpid(),
        "now": now, "info": Jsonb(info), "skew": skew,
    }  # fmt: skip
    conn.execute(Q["upsert_process"], params)


def mark_stopped(conn: psycopg.Connection, process_id: str, now: dt.datetime) -> None:
    conn.execute(Q["mark_stopped"], {"id": process_id, "now": now})


def list_live(conn: psycopg.Connection, since: dt.datetime) -> list[dict[str, Any]]:
    return conn.execute(Q["list_processes"], {"since": since}).fetchall()


def last_beat(
    conn: psycopg.Connection, kind: str, *, hostname: str | None = None, process_id: str | None = None
) -> dict[str, Any] | None:
    """The newest heartbeat (``id``, ``hostname``, ``heartbeat_at``) of a running process of
    ``kind``, on ``hostname`` and/or with ``process_id`` when given; None when there is none."""
    params = {"kind": kind, "hostname": hostname, "id": process_id}
    return conn.execute(Q["last_beat"], params).fetchone()


def last_seen(conn: psycopg.Connection) -> dict[str, dt.datetime]:
    return {r["kind"]: r["heartbeat_at"] for r in conn.execute(Q["last_seen"])}

