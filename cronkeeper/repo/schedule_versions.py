"""Every query on ``schedule_versions`` (``cronkeeper/schedule_versions.py`` owns the rules)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from cronkeeper.repo._translate import translated
from cronkeeper.repo.queries import load

Q = load("schedule_versions")


def insert_version(conn: psycopg.Connection, values: dict[str, Any]) -> dict[str, Any]:
    """Insert one version row (``before`` / ``after`` plain dicts); the row as stored."""
    params = dict(values)
    params["before"] = Jsonb(values["before"]) if values.get("before") is not None else None
    params["after"] = Jsonb(values["after"])
    with translated():
        return conn.execute(Q["insert_version"], params).fetchone()


def latest_version(conn: psycopg.Connection, job_id: UUID) -> int:
    """The job's highest version number, 0 when it has none."""
    return conn.execute(Q["latest_version"], {"job_id": job_id}).fetchone()["version"]


def get_version(conn: psycopg.Connection, job_id: UUID, version: int) -> dict[str, Any] | None:
    return conn.execute(Q["get_version"], {"job_id": job_id, "version": version}).fetchone()


def list_versions(
    conn: psycopg.Connection, job_id: UUID, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """Newest first, below version ``before`` when given, at most ``limit``."""
    return conn.execute(
        Q["list_versions"], {"job_id": job_id, "before": before, "limit": limit}
    ).fetchall()


def mark_reverted(
    conn: psycopg.Connection, job_id: UUID, version: int, reverted_from: int
) -> dict[str, Any] | None:
    """Record that ``version`` restored version ``reverted_from``; the row, or None."""
    params = {"job_id": job_id, "version": version, "reverted_from": reverted_from}
    return conn.execute(Q["mark_reverted"], params).fetchone()
