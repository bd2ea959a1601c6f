"""Aggregates of ``job_runs`` for the admin UI's charts: runs per hour or day by status,
duration percentiles (``repo/sql/run_stats.sql``).

Read-only, like ``repo/pages.py``: the runs' writes stay in ``repo/runs.py``. The
scope (one job, one customer, every run) is a constant fragment chosen here, so
each scope is its own statement, planned on its own index.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from cronkeeper.repo.queries import load

Q = load("run_stats")

BUCKETS = ("hour", "day")
STATUS_COLUMNS = ("pending", "processing", "completed", "partial", "failed", "cancelled", "skipped")

# Each scope reads through its own index: a job's runs through job_runs_job_idx, a customer's
# through job_runs_customer_idx (or both that and job_runs_created_idx, bitmap-ANDed, when the
# range is a small part of them), every run through job_runs_created_idx (migration 0014). The
# time range is exact (created_at): no assumption that ids follow creation times, which runs
# loaded or backdated by hand would break.
_SCOPES = {
    "job": "r.scheduled_job_id = %(job_id)s AND (%(customer_id)s::uuid IS NULL OR r.customer_id = %(customer_id)s)",
    "customer": "r.customer_id = %(customer_id)s",
    "all": "true",
}


def _scoped(name: str, scope: str) -> sql.Composed:
    return sql.SQL(Q[name].decode()).format(scope=sql.SQL(_SCOPES[scope]))


def run_buckets(
    conn: psycopg.Connection,
    *,
    start: dt.datetime,
    end: dt.datetime,
    bucket: str,
    timezone: str = "UTC",
    job_id: UUID | None = None,
    customer_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """Runs created in ``[start, end)`` per ``bucket`` (``hour`` or ``day``, cut in ``timezone``):
    ``{bucket, total, <status>..., p50_seconds, p95_seconds}`` for each bucket that holds runs,
    oldest first, then the whole range's row (``bucket`` None). Percentiles are over the runs
    that started and finished (None when there is none)."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}")
    scope = "job" if job_id else "customer" if customer_id else "all"
    params = {
        "bucket": bucket, "timezone": timezone, "start": start, "end": end,
        "job_id": job_id, "customer_id": customer_id,
    }  # fmt: skip
    return conn.execute(_scoped("run_buckets", scope), params).fetchall()
