"""Every query on ``scheduled_jobs``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from cronkeeper.models import DueJob, JobType, MisfirePolicy, OverlapPolicy, ScheduledJob
from cronkeeper.repo._translate import translated
from cronkeeper.repo.queries import load

Q = load("scheduled_jobs")

JOB_COLUMNS = (
    "customer_id", "brand_id", "name", "job_type", "schedule_kind", "cron_expression",
    "timezone", "interval_seconds", "jitter_seconds", "run_at", "is_active", "metadata",
    "max_retries", "retry_delay", "timeout_seconds", "overlap_policy", "misfire_policy",
    "next_run_at", "calendar_id", "starts_at", "ends_at", "max_runs",
    "auto_pause_after_failures", "auto_pause_trial_after_seconds",
)  # fmt: skip


def _params(values: dict[str, Any]) -> dict[str, Any]:
    params = {k: values.get(k) for k in JOB_COLUMNS}
    params["metadata"] = Jsonb(values.get("metadata") or {})
    params["jitter_seconds"] = values.get("jitter_seconds") or 0
    return params


def insert_job(conn: psycopg.Connection, values: dict[str, Any]) -> ScheduledJob:
    with translated():
        row = conn.execute(Q["insert_job"], _params(values)).fetchone()
    return ScheduledJob.from_row(row)


def update_job(conn: psycopg.Connection, job_id: UUID, values: dict[str, Any]) -> ScheduledJob | None:
    with translated():
        row = conn.execute(Q["update_job"], {**_params(values), "id": job_id}).fetchone()
    return ScheduledJob.from_row(row) if row else None


def get_job(
    conn: psycopg.Connection, job_id: UUID, *, customer_id: UUID | None = None, for_update: bool = False
) -> ScheduledJob | None:
    query = Q["get_job_for_update"] if for_update else Q["get_job"]
    row = conn.execute(query, {"id": job_id, "customer_id": customer_id}).fetchone()
    return ScheduledJob.from_row(row) if row else None


def delete_job(conn: psycopg.Connection, job_id: UUID, *, customer_id: UUID | None = None) -> bool:
    return conn.execute(Q["delete_job"], {"id": job_id, "customer_id": customer_id}).fetchone() is not None


def job_filters(
    *,
    customer_id: UUID | None = None,
    brand_id: UUID | None = None,
    is_active: bool | None = None,
    job_type: str | None = None,
    search: str | None = None,
    after: tuple[dt.datetime, UUID] | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """The parameters of a jobs listing (keyset after (created_at, id)), here and in ``pages.jobs_page``."""
    return {
        "customer_id": customer_id, "brand_id": brand_id, "is_active": is_active,
        "job_type": job_type, "search": search or None, "limit": limit,
        "after_created": after[0] if after else None, "after_id": after[1] if after else None,
    }  # fmt: skip


def list_jobs(conn: psycopg.Connection, **filters: Any) -> list[dict[str, Any]]:
    """Jobs newest first with brand and customer names; ``filters`` as ``job_filters``."""
    return conn.execute(Q["list_jobs"], job_filters(**filters)).fetchall()


def lock_due_jobs(conn: psycopg.Connection, now: dt.datetime, limit: int) -> list[DueJob]:
    """Active jobs due at ``now``, locked; others' locked rows are skipped."""
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(Q["lock_due_jobs"], {"now": now, "limit": limit}).fetchall()
    jt, op, mp = _JOB_TYPES, _OVERLAP, _MISFIRE
    # the query's columns are DueJob's fields in order: no dict per row (the tick's hot path)
    return [DueJob(*r[:3], jt[r[3]], *r[4:11], op[r[11]], mp[r[12]], *r[13:]) for r in rows]


_JOB_TYPES = {str(v): v for v in JobType}
_OVERLAP = {str(v): v for v in OverlapPolicy}
_MISFIRE = {str(v): v for v in MisfirePolicy}


def advance_jobs(
    conn: psycopg.Connection,
    ids: Sequence[UUID],
    next_run_at: Sequence[dt.datetime | None],
    last_run_at: Sequence[dt.datetime | None],
    run_counts: Sequence[int] | None = None,
) -> None:
    """Set each job's next run, its last scheduled slot (when given) and add its new scheduled runs
    to ``scheduled_run_count`` (``max_runs``)."""
    if ids:
        counts = list(run_counts) if run_counts is not None else [0] * len(ids)
        conn.execute(
            Q["advance_jobs"],
            {"ids": list(ids), "next_run_at": list(next_run_at), "last_run_at": list(last_run_at),
             "run_counts": counts},
        )  # fmt: skip


def advance_jobs_copied(
    conn: psycopg.Connection,
    ids: Sequence[UUID],
    next_run_at: Sequence[dt.datetime | None],
    last_run_at: Sequence[dt.datetime | None],
    run_counts: Sequence[int],
) -> None:
    """``advance_jobs`` for a big batch: the values go by binary COPY, then one UPDATE (the tick).

    Call it inside a transaction: the staging table is dropped at commit."""
    if not ids:
        return
    with conn.cursor() as cur:
        cur.execute(Q["stage_advance"])
        with cur.copy(Q["copy_advance"]) as copy:
            copy.set_types(["uuid", "timestamptz", "timestamptz", "int4"])
            for row in zip(ids, next_run_at, last_run_at, run_counts, strict=True):
                copy.write_row(row)
        cur.execute(Q["advance_from_stage"])


def earliest_next_run(conn: psycopg.Connection) -> dt.datetime | None:
    return conn.execute(Q["earliest_next_run"]).fetchone()["next_run_at"]


def count_due(conn: psycopg.Connection, now: dt.datetime, *, cap: int | None = None) -> dict[str, Any]:
    """``{due, oldest}``: the active jobs due at ``now`` and the oldest ``next_run_at`` among them.
    With ``cap``, at most ``cap`` are counted and ``capped`` says whether there were more."""
    if cap is None:
        return conn.execute(Q["count_due"], {"now": now}).fetchone()
    row = conn.execute(Q["count_due_capped"], {"now": now, "cap": cap}).fetchone()
    return {"due": min(row["due"], cap), "oldest": row["oldest"], "capped": row["due"] > cap}


def lock_future_cron_jobs(
    conn: psycopg.Connection, now: dt.datetime, after: UUID | None, limit: int
) -> list[ScheduledJob]:
    """Up to ``limit`` active cron jobs whose ``next_run_at`` is after ``now``, by id after ``after``, locked."""
    rows = conn.execute(Q["lock_future_cron_jobs"], {"now": now, "after": after, "limit": limit}).fetchall()
    return [ScheduledJob.from_row(r) for r in rows]
