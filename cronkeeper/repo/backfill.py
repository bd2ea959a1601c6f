"""The query of ``job_runs`` a gap-only backfill asks (``cronkeeper/backfill.py``)."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

import psycopg

from cronkeeper.repo.queries import load

Q = load("backfill")


def slots_with_runs(conn: psycopg.Connection, job_id: UUID, start: dt.datetime, end: dt.datetime) -> set[dt.datetime]:
    """The slots of ``job_id`` from ``start`` to ``end`` (inclusive) that have any run."""
    rows = conn.execute(Q["slots_with_runs"], {"job_id": job_id, "start": start, "end": end}).fetchall()
    return {r["scheduled_for"] for r in rows}
