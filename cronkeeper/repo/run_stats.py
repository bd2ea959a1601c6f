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
EVERY_RUN = UUID(int=0)  # the scope of the rollup's every-run rows (run_stats_slots)
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


# -- the every-run chart's rollup (run_stats_slots, migration 0023; cronkeeper/stats_rollup.py) --


Ranges = tuple[dt.datetime, dt.datetime, dt.datetime, dt.datetime]  # start, head_end, tail_start, end


def _ranges(ranges: Ranges) -> dict[str, dt.datetime]:
    return dict(zip(("start", "head_end", "tail_start", "end"), ranges, strict=True))


def slot_states(
    conn: psycopg.Connection, ranges: Ranges, final_after: dt.timedelta
) -> tuple[int, list[tuple[dt.datetime, dt.datetime]]]:
    """How many slots of ``[start, head_end)`` and ``[tail_start, end)`` are stored, and (start,
    counted_at) of those not final (a run open, or counted less than ``final_after`` after the
    slot's start), oldest first."""
    row = conn.execute(Q["slot_states"], {**_ranges(ranges), "final_after": final_after}).fetchone()
    return row["stored"], list(zip(row["changing"], row["counted_at"], strict=True))


def slot_starts(conn: psycopg.Connection, ranges: Ranges) -> list[dt.datetime]:
    """The starts of the stored slots of ``[start, head_end)`` and ``[tail_start, end)``, oldest first."""
    return [r["slot_start"] for r in conn.execute(Q["slot_starts"], _ranges(ranges))]


def count_slots(conn: psycopg.Connection, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    """Count the 30-minute slots of ``[start, end)`` (slot boundaries) from the runs and store them
    (every run's and each customer's rows), stamped ``now``. Call in a transaction."""
    params = {"start": start, "end": end, "now": now}
    conn.execute(Q["clear_slots"], params)
    conn.execute(Q["count_slots"], params)


def slot_buckets(
    conn: psycopg.Connection, ranges: Ranges, *, bucket: str, timezone: str, final_after: dt.timedelta,
    customer_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """The stored slots of ``ranges`` (every run's, or one customer's) summed per bucket:
    ``{bucket, <status>..., cls: [class], n: [runs]}`` oldest first, each row also carrying the
    ranges' ``stored``, ``changing`` and ``counted_at`` as ``slot_states`` gives them (a single
    row with ``bucket`` None when no bucket has a slot)."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}")
    params = {**_ranges(ranges), "bucket": bucket, "timezone": timezone, "final_after": final_after,
              "scope": customer_id or EVERY_RUN}  # fmt: skip
    return conn.execute(Q["slot_buckets"], params).fetchall()


def stored_days(
    conn: psycopg.Connection, start: dt.datetime, end: dt.datetime, timezone: str, customer_id: UUID | None = None
) -> list[dict[str, Any]]:
    """``{day_start, counts, cls, n}`` of the stored days of ``[start, end)`` in ``timezone``, oldest first."""
    params = {"start": start, "end": end, "timezone": timezone, "scope": customer_id or EVERY_RUN}
    return conn.execute(Q["stored_days"], params).fetchall()


def store_days(conn: psycopg.Connection, days: list[dict[str, Any]], timezone: str, customer_id: UUID | None) -> None:
    """Keep final days (``{day, counts: [7 ints], cls, n}``); a day stored already stays as it is."""
    scope = customer_id or EVERY_RUN
    with conn.cursor() as cur:
        cur.executemany(Q["store_day"], [{**d, "scope": scope, "timezone": timezone} for d in days])


def prune_slots(conn: psycopg.Connection, cutoff: dt.datetime, limit: int) -> int:
    """Delete at most ``limit`` slot rows that began before ``cutoff``; how many went."""
    return conn.execute(Q["prune_slots"], {"cutoff": cutoff, "limit": limit}).rowcount


def prune_days(conn: psycopg.Connection, cutoff: dt.datetime, limit: int) -> int:
    """Delete at most ``limit`` summed days that began before ``cutoff``; how many went."""
    return conn.execute(Q["prune_days"], {"cutoff": cutoff, "limit": limit}).rowcount
