"""Every query on ``job_runs``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from cronkeeper.models import JOB_TYPES, TRIGGERS, JobRun, RunStatus, new_run
from cronkeeper.repo.queries import load
from cronkeeper.repo.run_values import ClaimedRun, NewRun

Q = load("job_runs")

_INSERT_COLUMNS = (
    "scheduled_job_id", "customer_id", "brand_id", "job_type", "trigger", "status",
    "skip_reason", "scheduled_for", "run_after", "attempt", "retry_of", "finished_at", "error_message",
)  # fmt: skip


def insert_runs(conn: psycopg.Connection, runs: Sequence[NewRun]) -> list[dict[str, Any]]:
    """Insert in one statement; a scheduled slot that exists already is left alone.

    Returns ``{id, scheduled_job_id, status}`` for each row actually inserted.
    """
    if not runs:
        return []
    params = {col: [getattr(r, col) for r in runs] for col in _INSERT_COLUMNS}
    # binary arrays: dumping 100,000-element text arrays costs more than the insert
    return conn.execute(Q["insert_runs"], params).fetchall()


# the columns of the tick's rows (write_scheduled_runs), in order
SCHEDULED_RUN_COLUMNS = (
    "scheduled_job_id", "customer_id", "brand_id", "job_type", "status", "skip_reason",
    "scheduled_for", "run_after", "finished_at", "trigger",
)  # fmt: skip
_RUN_TYPES = ["uuid"] * 3 + ["text"] * 3 + ["timestamptz"] * 3 + ["text"]
_STATUS = SCHEDULED_RUN_COLUMNS.index("status")


def write_scheduled_runs(conn: psycopg.Connection, rows: Sequence[tuple]) -> tuple[int, int]:
    """Insert scheduled runs (tuples of ``SCHEDULED_RUN_COLUMNS``) by binary COPY; a slot that exists
    already is left alone, however many schedulers insert it. Returns (pending inserted, all inserted).

    The rows go by COPY straight into ``job_runs`` in a savepoint (the server inserts them while
    the next are encoded). A slot already there fails that COPY on ``job_runs_slot_key``: the
    savepoint is rolled back and the rows go through a staging table and ``INSERT ... ON CONFLICT
    DO NOTHING``. Call it inside a transaction (the staging table is dropped at commit). No run ids
    come back: a batch this big is logged as counts (``services.scheduler.tick``)."""
    if not rows:
        return 0, 0
    try:
        with conn.transaction(), conn.cursor() as cur:  # a savepoint: a slot already there undoes this COPY only
            _copy_rows(cur, "copy_runs", rows)
        return sum(1 for r in rows if r[_STATUS] == "pending"), len(rows)
    except psycopg.errors.UniqueViolation:
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(Q["stage_scheduled_runs"])
            _copy_rows(cur, "copy_scheduled_runs", rows)
            return cur.execute(Q["insert_staged_runs"]).fetchone()


def _copy_rows(cur: psycopg.Cursor, query: str, rows: Sequence[tuple]) -> None:
    with cur.copy(Q[query]) as copy:
        copy.set_types(_RUN_TYPES)
        for row in rows:
            copy.write_row(row)


def active_job_ids(conn: psycopg.Connection, job_ids: Sequence[UUID]) -> set[UUID]:
    """Those of ``job_ids`` that have a pending or processing run."""
    rows = conn.execute(Q["active_job_ids"], {"job_ids": list(job_ids)}).fetchall()
    return {r["scheduled_job_id"] for r in rows}


def cancel_active_for_jobs(
    conn: psycopg.Connection, job_ids: Sequence[UUID], now: dt.datetime, reason: str
) -> int:
    """Cancel pending runs and ask processing ones to stop (``replace`` overlap)."""
    params = {"job_ids": list(job_ids), "now": now, "reason": reason}
    n = len(conn.execute(Q["cancel_pending_for_jobs"], params).fetchall())
    n += len(conn.execute(Q["request_cancel_processing_for_jobs"], params).fetchall())
    return n


def claim_runs(
    conn: psycopg.Connection, worker_id: str, now: dt.datetime, limit: int, lease_seconds: float
) -> list[ClaimedRun]:
    """Take up to ``limit`` due pending runs, skipping rows others hold.

    A run of an overlap-``forbid`` job is not taken while an earlier run of the
    same job is pending or processing (manual runs excepted): see the query.

    The claim returns tuples of only what the claim did not set itself (see the
    query): the runs are built here, the claim's own values filled in.
    """
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    params = {"worker_id": worker_id, "now": now, "limit": limit, "lease_until": lease_until}
    # one statement (ck_claim_runs, migration 0032: JIT off, planned once per server connection),
    # sent with its BEGIN in one round trip
    with conn.pipeline(), conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(Q["claim_runs"], params).fetchall()
    processing, job_types, triggers = RunStatus.PROCESSING, JOB_TYPES, TRIGGERS
    claimed = []
    for (
        run_id, job_id, customer_id, brand_id, job_type, trigger, scheduled_for, run_after, attempt,
        retry_of, cancel_requested, metrics, error_message, created_at,
        timeout_seconds, max_retries, retry_delay, metadata_json,
    ) in rows:  # fmt: skip
        run = new_run({
            "id": run_id, "scheduled_job_id": job_id, "customer_id": customer_id, "brand_id": brand_id,
            "job_type": job_types[job_type], "trigger": triggers[trigger], "status": processing,
            "scheduled_for": scheduled_for, "run_after": run_after, "attempt": attempt,
            "created_at": created_at, "updated_at": now, "skip_reason": None, "retry_of": retry_of,
            "worker_id": worker_id, "lease_expires_at": lease_until, "heartbeat_at": now,
            "cancel_requested": cancel_requested, "started_at": now, "finished_at": None,
            "metrics": {} if metrics is None else metrics, "error_message": error_message,
            "failure_code": None,
        })  # fmt: skip
        claimed.append(ClaimedRun(run, timeout_seconds, max_retries, retry_delay, metadata_json))
    return claimed


def claim_run(
    conn: psycopg.Connection, run_id: int, worker_id: str, now: dt.datetime, lease_seconds: float
) -> ClaimedRun | None:
    """Take one given run if it is still pending; None otherwise."""
    params = {
        "id": run_id, "worker_id": worker_id, "now": now,
        "lease_until": now + dt.timedelta(seconds=lease_seconds),
    }  # fmt: skip
    row = conn.execute(Q["claim_run"], params).fetchone()
    return ClaimedRun.from_row(row) if row else None


def latest_runs(conn: psycopg.Connection, job_ids: Sequence[UUID]) -> dict[UUID, JobRun]:
    """Each job's newest run that is not a skipped slot, by job id (jobs never run are absent)."""
    if not job_ids:
        return {}
    rows = conn.execute(Q["latest_runs_of_jobs"], {"job_ids": list(job_ids)}).fetchall()
    return {r["scheduled_job_id"]: JobRun.from_row(r) for r in rows}


def renew_leases(
    conn: psycopg.Connection, worker_id: str, ids: Sequence[int], now: dt.datetime, lease_seconds: float
) -> dict[int, bool]:
    """Extend the leases this worker holds; returns id -> cancel_requested."""
    if not ids:
        return {}
    params = {
        "worker_id": worker_id, "ids": list(ids), "now": now,
        "lease_until": now + dt.timedelta(seconds=lease_seconds),
    }  # fmt: skip
    return {r["id"]: r["cancel_requested"] for r in conn.execute(Q["renew_leases"], params)}


def should_stop(conn: psycopg.Connection, run_id: int, slot: dt.datetime, worker_id: str) -> bool:
    """True when the run (``slot``: its scheduled_for, which finds its month) was cancelled or is no longer this
    worker's."""
    row = conn.execute(Q["is_cancel_requested"], {"id": run_id, "slot": slot, "worker_id": worker_id}).fetchone()
    return row is None or row["stop"]


def merge_metrics(conn: psycopg.Connection, run_id: int, metrics: Any) -> None:
    conn.execute(Q["merge_metrics"], {"id": run_id, "metrics": metrics})


def update_metrics(
    conn: psycopg.Connection, run_id: int, slot: dt.datetime, worker_id: str, metrics: dict[str, Any], now: dt.datetime
) -> bool:
    """Merge ``metrics`` into the run's while it is still ``worker_id``'s; False when it is not (nothing written)."""
    params = {"id": run_id, "slot": slot, "worker_id": worker_id, "metrics": Jsonb(metrics), "now": now}
    return conn.execute(Q["progress_checkpoint"], params).fetchone() is not None  # its stop flag unread


def progress_checkpoint(
    conn: psycopg.Connection, run_id: int, slot: dt.datetime, worker_id: str, metrics: dict[str, Any], now: dt.datetime
) -> bool:
    """Merge ``metrics`` into the run's while it is still ``worker_id``'s; True when the run should
    stop (cancelled, or no longer this worker's: then nothing was written). One statement, one month."""
    params = {"id": run_id, "slot": slot, "worker_id": worker_id, "metrics": Jsonb(metrics), "now": now}
    row = conn.execute(Q["progress_checkpoint"], params).fetchone()
    return row is None or row["stop"]


def finish_run(
    conn: psycopg.Connection,
    run_id: int,
    slot: dt.datetime,
    worker_id: str,
    status: str,
    now: dt.datetime,
    metrics: dict[str, Any],
    error_message: str | None,
    failure_code: str | None = None,
) -> JobRun | None:
    """Record the outcome (``failure_code``: a failure no retry can fix); None if the run is no longer this worker's."""
    params = {
        "id": run_id, "slot": slot, "worker_id": worker_id, "status": status, "now": now,
        "metrics": Jsonb(metrics), "error_message": error_message, "failure_code": failure_code,
    }  # fmt: skip
    row = conn.execute(Q["finish_run"], params).fetchone()
    return JobRun.from_row(row) if row else None


def finish_runs(
    conn: psycopg.Connection,
    worker_id: str,
    outcomes: Sequence[tuple[int, dt.datetime, str, dt.datetime, dict[str, Any], str | None]],
) -> set[int]:
    """Record many outcomes in one statement; returns the ids that were still ours.

    The outcomes travel as one JSON array of ``[id, scheduled_for, status,
    finished_at, metrics, error_message]``: one ``json.dumps`` in C, a third of
    the client CPU of five arrays dumped element by element. The slot (the
    partition key) keeps each lookup to its run's month.
    """
    if not outcomes:
        return set()
    iso: dict[dt.datetime, str] = {}  # a flush's outcomes share their finished_at, many runs their slot
    rows = []
    for run_id, scheduled_for, status, finished_at, metrics, error_message in outcomes:
        at = iso.get(finished_at)
        if at is None:
            at = iso[finished_at] = finished_at.isoformat()
        slot = iso.get(scheduled_for)
        if slot is None:
            slot = iso[scheduled_for] = scheduled_for.isoformat()
        rows.append((run_id, slot, status, at, metrics, error_message))
    params = {"worker_id": worker_id, "outcomes": json.dumps(rows)}
    with conn.cursor(row_factory=tuple_row) as cur:
        return {r[0] for r in cur.execute(Q["finish_runs"], params)}


def release_run(conn: psycopg.Connection, run_id: int, worker_id: str, now: dt.datetime) -> bool:
    """Give a run back to the queue untouched (graceful shutdown)."""
    params = {"id": run_id, "worker_id": worker_id, "now": now}
    return conn.execute(Q["release_run"], params).fetchone() is not None


def lock_expired_runs(conn: psycopg.Connection, now: dt.datetime, limit: int) -> list[dict[str, Any]]:
    return conn.execute(Q["lock_expired_runs"], {"now": now, "limit": limit}).fetchall()


def fail_expired(conn: psycopg.Connection, run_id: int, now: dt.datetime, message: str) -> JobRun | None:
    params = {"id": run_id, "now": now, "error_message": message}
    row = conn.execute(Q["fail_expired"], params).fetchone()
    return JobRun.from_row(row) if row else None


def get_run(conn: psycopg.Connection, run_id: int, *, customer_id: UUID | None = None) -> JobRun | None:
    row = conn.execute(Q["get_run"], {"id": run_id, "customer_id": customer_id}).fetchone()
    return JobRun.from_row(row) if row else None


def get_run_named(
    conn: psycopg.Connection, run_id: int, *, customer_id: UUID | None = None
) -> tuple[JobRun, dict[str, Any]] | None:
    """A run with its ``brand_name`` and ``retried_by`` (the run page's answer), in one round trip."""
    row = conn.execute(Q["get_run_named"], {"id": run_id, "customer_id": customer_id}).fetchone()
    return (JobRun.from_row(row), {"brand_name": row["brand_name"], "retried_by": row["retried_by"]}) if row else None


def lock_run(conn: psycopg.Connection, run_id: int) -> bool:
    """Lock the run's row until the transaction ends; False when there is no such run."""
    return conn.execute(Q["lock_run"], {"id": run_id}).fetchone() is not None


def retried_by(conn: psycopg.Connection, run_id: int) -> int | None:
    """The id of the newest run retrying this one, or None."""
    return conn.execute(Q["retried_by"], {"id": run_id}).fetchone()["id"]


def active_retry(conn: psycopg.Connection, run_id: int) -> int | None:
    """A pending or processing run in this run's retry chain (its retry, that one's, ...), or None."""
    row = conn.execute(Q["active_retry"], {"id": run_id}).fetchone()
    return row["id"] if row else None


def run_filters(
    *,
    customer_id: UUID | None = None,
    brand_id: UUID | None = None,
    job_id: UUID | None = None,
    status: str | None = None,
    job_type: str | None = None,
    trigger: str | None = None,
    hide_skipped: bool = False,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """The parameters of a runs listing, here and in ``cronkeeper.repo.pages.runs_page``.

    ``hide_skipped`` leaves out skipped slots (ignored when a ``status`` is given);
    ``created_from`` / ``created_to``: runs created in ``[from, to)``."""
    return {
        "customer_id": customer_id, "brand_id": brand_id, "job_id": job_id, "status": status,
        "job_type": job_type, "trigger": trigger, "hide_skipped": (hide_skipped and status is None) or None,
        "created_from": created_from, "created_to": created_to, "before_id": before_id, "limit": limit,
    }  # fmt: skip


def list_runs(conn: psycopg.Connection, **filters: Any) -> list[dict[str, Any]]:
    """Runs newest first (keyset on id), with the brand's name; ``filters`` as ``run_filters``."""
    return conn.execute(Q["list_runs"], run_filters(**filters)).fetchall()


def cancel_run(conn: psycopg.Connection, run_id: int, now: dt.datetime) -> JobRun | None:
    """Cancel a pending run at once, or flag a processing one to stop at its next checkpoint."""
    row = conn.execute(Q["cancel_run"], {"id": run_id, "now": now}).fetchone()
    return JobRun.from_row(row) if row else None


def queue_depth(conn: psycopg.Connection) -> dict[str, int]:
    """Pending and processing runs, by status (from the partial indexes: cost follows the queue)."""
    return {r["status"]: r["n"] for r in conn.execute(Q["count_by_status"])}


def queue_depth_capped(conn: psycopg.Connection, cap: int) -> tuple[dict[str, int], list[str]]:
    """``queue_depth`` counting at most ``cap`` runs of each status, and the statuses that had more."""
    rows = conn.execute(Q["count_by_status_capped"], {"cap": cap}).fetchall()
    return {r["status"]: min(r["n"], cap) for r in rows}, [r["status"] for r in rows if r["n"] > cap]


def oldest_pending(conn: psycopg.Connection, now: dt.datetime) -> dt.datetime | None:
    return conn.execute(Q["oldest_pending"], {"now": now}).fetchone()["oldest"]


def next_run_after(conn: psycopg.Connection, now: dt.datetime) -> dt.datetime | None:
    """The earliest ``run_after`` of a pending run later than ``now``, or None."""
    return conn.execute(Q["next_run_after"], {"now": now}).fetchone()["run_after"]


def prune_by_age(conn: psycopg.Connection, cutoff: dt.datetime, limit: int) -> int:
    """Delete up to ``limit`` runs finished before ``cutoff``; returns how many."""
    return len(conn.execute(Q["prune_by_age"], {"cutoff": cutoff, "limit": limit}).fetchall())


def prune_by_count(
    conn: psycopg.Connection, keep: int, after: UUID | None, jobs: int, limit: int
) -> tuple[int, UUID | None, int]:
    """For the next ``jobs`` jobs after ``after``, delete finished runs beyond each job's newest ``keep``.

    Returns (runs deleted, last job id of the slice, jobs in the slice).
    """
    row = conn.execute(
        Q["prune_by_count"], {"keep": keep, "after": after, "jobs": jobs, "limit": limit}
    ).fetchone()
    return row["deleted"], row["last_job"], row["jobs"]


def queue_by_type(conn: psycopg.Connection, now: dt.datetime) -> list[dict[str, Any]]:
    """``{job_type, status, n, oldest_ready}`` for pending and processing runs (``oldest_ready``:
    the earliest ``run_after`` of a pending run due by ``now``); cheap at any table size."""
    return conn.execute(Q["queue_by_type"], {"now": now}).fetchall()


def last_run_id(conn: psycopg.Connection) -> int:
    """The newest run's id, 0 when there is none."""
    return conn.execute(Q["last_run_id"]).fetchone()["id"]


def scheduled_after(conn: psycopg.Connection, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` scheduled runs with an id above ``after_id``, oldest first."""
    return conn.execute(Q["scheduled_after"], {"after": after_id, "limit": limit}).fetchall()


def collector_stats(
    conn: psycopg.Connection, since: dt.datetime, *, customer_id: UUID | None = None, runs: int = 2000
) -> list[dict[str, Any]]:
    """Per collector over the newest ``runs`` runs finished since ``since`` (a customer's if given):
    ``ok``/``failed`` calls, ``runs``, ``answers``, ``p50_ms``/``p95_ms``, and ``runs_read``."""
    return conn.execute(Q["collector_stats"], {"since": since, "customer_id": customer_id, "runs": runs}).fetchall()
