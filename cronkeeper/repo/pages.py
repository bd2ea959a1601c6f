"""Pages of runs and jobs as JSON built by PostgreSQL, for the admin API's lists.

A page of 50 runs decoded into Python and encoded again cost the API about
twice what PostgreSQL takes to write the same JSON (``docs/benchmarks.md``),
so the lists ask PostgreSQL for one JSON text per row and pass it on. The
shape is that of ``api.schemas.RunOut`` / ``JobOut`` (checked by
``tests/test_api_pages.py``); a job's ``schedule_description`` is the one
field PostgreSQL cannot write, so it comes back with the schedule's columns.

The WHERE clause holds only the filters given, from the constant fragments
below: each combination is its own prepared statement whose plan can use the
filter's index (a catch-all ``(%(x)s IS NULL OR col = %(x)s)`` cannot, once
PostgreSQL settles on a generic plan).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import tuple_row

from cronkeeper.repo.queries import load

RUN_FILTERS = {
    "customer_id": "r.customer_id = %(customer_id)s",
    "brand_id": "r.brand_id = %(brand_id)s",
    "job_id": "r.scheduled_job_id = %(job_id)s",
    "status": "r.status = %(status)s",
    "job_type": "r.job_type = %(job_type)s",
    "before_id": "r.id < %(before_id)s",
}
JOB_FILTERS = {
    "customer_id": "j.customer_id = %(customer_id)s",
    "brand_id": "j.brand_id = %(brand_id)s",
    "is_active": "j.is_active = %(is_active)s",
    "job_type": "j.job_type = %(job_type)s",
    "search": "b.name ILIKE '%%' || %(search)s || '%%'",
    "after_created": "(j.created_at, j.id) < (%(after_created)s, %(after_id)s::uuid)",
}


@cache
def _statement(name: str, given: tuple[str, ...]) -> bytes:
    fragments = RUN_FILTERS if name == "runs_page" else JOB_FILTERS
    where = " AND ".join(fragments[k] for k in given) or "true"
    return load("pages")[name].replace(b"{filters}", where.encode())


def _run(conn: psycopg.Connection, name: str, params: Mapping[str, Any]) -> list[tuple]:
    fragments = RUN_FILTERS if name == "runs_page" else JOB_FILTERS
    given = tuple(k for k in fragments if params.get(k) is not None)
    with conn.cursor(row_factory=tuple_row) as cur:
        return cur.execute(_statement(name, given), params).fetchall()


@dataclass(frozen=True, slots=True)
class RunRow:
    id: int
    json: str


@dataclass(frozen=True, slots=True)
class JobRow:
    id: UUID
    created_at: dt.datetime
    schedule: tuple  # (kind, cron, zone, interval, jitter, run_at), for the description
    json: str


def runs_page(
    conn: psycopg.Connection,
    *,
    customer_id: UUID | None = None,
    brand_id: UUID | None = None,
    job_id: UUID | None = None,
    status: str | None = None,
    job_type: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[RunRow]:
    """Runs newest first (keyset on id), each as its JSON object."""
    params = {
        "customer_id": customer_id, "brand_id": brand_id, "job_id": job_id, "status": status,
        "job_type": job_type, "before_id": before_id, "limit": limit,
    }  # fmt: skip
    return [RunRow(r[0], r[1]) for r in _run(conn, "runs_page", params)]


def jobs_page(
    conn: psycopg.Connection,
    *,
    customer_id: UUID | None = None,
    brand_id: UUID | None = None,
    is_active: bool | None = None,
    job_type: str | None = None,
    search: str | None = None,
    after: tuple[dt.datetime, UUID] | None = None,
    limit: int = 50,
) -> list[JobRow]:
    """Jobs newest first (keyset on created_at, id), each as its JSON object without the description."""
    params = {
        "customer_id": customer_id, "brand_id": brand_id, "is_active": is_active, "job_type": job_type,
        "search": search or None, "limit": limit,
        "after_created": after[0] if after else None, "after_id": after[1] if after else None,
    }  # fmt: skip
    return [JobRow(r[0], r[1], r[2:8], r[8]) for r in _run(conn, "jobs_page", params)]
