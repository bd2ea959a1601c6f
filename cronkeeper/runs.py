"""Reading, cancelling and retrying job runs: the one implementation every
surface calls. A run is created by the scheduler (a due slot), by
``cronkeeper.jobs.trigger_job`` (a manual run) or by ``retry_run`` here.

``customer_id=`` (keyword) limits these functions to one customer's runs;
another customer's run is simply not found.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper.errors import Conflict, NotFound, RetryInProgress
from cronkeeper.models import JobRun, RunStatus
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import NewRun

RETRYABLE = (RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.PARTIAL, RunStatus.SKIPPED)


def get_run(conn: psycopg.Connection, run_id: int, *, customer_id: UUID | None = None) -> JobRun:
    return NotFound.unless(runs_repo.get_run(conn, run_id, customer_id=customer_id), f"no job run {run_id}")


def retried_by(conn: psycopg.Connection, run_id: int) -> int | None:
    """The id of the newest run retrying ``run_id`` (the run a failed run's page links to), or None."""
    return runs_repo.retried_by(conn, run_id)


def list_runs(
    conn: psycopg.Connection,
    *,
    job_id: UUID | None = None,
    brand_id: UUID | None = None,
    customer_id: UUID | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Runs newest first with their brand's name; an unknown ``job_id`` is ``NotFound``, not an empty list."""
    if job_id is not None and jobs_repo.get_job(conn, job_id, customer_id=customer_id) is None:
        raise NotFound(f"no scheduled job {job_id}")
    return runs_repo.list_runs(conn, job_id=job_id, brand_id=brand_id, customer_id=customer_id,
                               status=status, limit=limit)  # fmt: skip


def cancel_run(
    conn: psycopg.Connection, run_id: int, now: dt.datetime, *, customer_id: UUID | None = None
) -> JobRun:
    """Cancel a pending run now; a processing one stops at its next checkpoint."""
    with conn.transaction():
        run = get_run(conn, run_id, customer_id=customer_id)
        if RunStatus(run.status).is_final:
            raise Conflict(f"run {run_id} is already {run.status}")
        cancelled = runs_repo.cancel_run(conn, run_id, now)
    if cancelled is None:
        raise Conflict(f"run {run_id} finished meanwhile")
    return cancelled


def retry_run(
    conn: psycopg.Connection, run_id: int, now: dt.datetime, *, customer_id: UUID | None = None
) -> JobRun:
    """A new attempt of a finished run that did not succeed, due now.

    ``RetryInProgress`` (a ``Conflict`` naming the run) when a retry of it, or a
    later one in its chain, is still pending or processing: a chain never forks.
    """
    with conn.transaction():
        runs_repo.lock_run(conn, run_id)  # two retries of one run at once: the second waits, then sees the first
        run = get_run(conn, run_id, customer_id=customer_id)
        if run.status not in RETRYABLE:
            raise Conflict(f"only failed, partial, cancelled or skipped runs can be retried; run {run_id} is {run.status}")
        active = runs_repo.active_retry(conn, run.id)
        if active is not None:
            raise RetryInProgress(run.id, active)
        rows = runs_repo.insert_runs(conn, [NewRun.retry(run, now)])
        new = runs_repo.get_run(conn, rows[0]["id"])
    assert new is not None
    return new
