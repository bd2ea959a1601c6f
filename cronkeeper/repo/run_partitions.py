"""The monthly partitions of ``job_runs``, ``collected_answers`` and ``answer_scores`` (docs/partitioning.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from psycopg.rows import dict_row

from cronkeeper.repo.queries import load

Q = load("run_partitions")

# A partition is created or dropped under a brief lock of the parent tables: wait
# this long at most (then the next pass tries again), so that no poll queues behind it.
LOCK_TIMEOUT = "2s"


def month_start(t: dt.datetime) -> dt.datetime:
    """The first instant of ``t``'s month in UTC."""
    t = t.astimezone(dt.UTC)
    return t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def add_months(t: dt.datetime, n: int) -> dt.datetime:
    """The first instant of the month ``n`` months after ``t``'s (UTC)."""
    t = month_start(t)
    y, m = divmod(t.month - 1 + n, 12)
    return t.replace(year=t.year + y, month=m + 1)


def partition_name(month: dt.datetime) -> str:
    """``job_runs_p2027_01`` for any instant of January 2027 (UTC)."""
    return f"job_runs_p{month_start(month):%Y_%m}"


def ensure(conn: psycopg.Connection, month: dt.datetime) -> bool:
    """Create ``month``'s partitions unless they exist (in a transaction of their own); True if created."""
    with conn.transaction():
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        row = conn.execute(Q["ensure"], {"month": month_start(month)}).fetchone()
    return bool(row["created"] if isinstance(row, dict) else row[0])


def drop_before(conn: psycopg.Connection, cutoff: dt.datetime, months: int = 1) -> list[str]:
    """Drop up to ``months`` whole months whose runs all finished before ``cutoff``; their names."""
    with conn.transaction():
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        rows = conn.execute(Q["drop_before"], {"cutoff": cutoff, "months": months}).fetchall()
    return [r["name"] if isinstance(r, dict) else r[0] for r in rows]


def listing(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every partition of job_runs (the months and the default), oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(Q["list"]).fetchall()
