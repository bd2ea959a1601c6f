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

from cronkeeper import audit, limits
from cronkeeper.errors import Conflict, CronkeeperError, NotFound, RetryInProgress, ValidationError
from cronkeeper.models import JobRun, RunStatus
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import NewRun

RETRYABLE = (RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.PARTIAL, RunStatus.SKIPPED)


def get_run(conn: psycopg.Connection, run_id: int, *, customer_id: UUID | None = None) -> JobRun:
    return NotFound.unless(runs_repo.get_run(conn, run_id, customer_id=customer_id), f"no job run {run_id}")


def get_run_named(conn: psycopg.Connection, run_id: int, *, customer_id: UUID | None = None) -> tuple[JobRun, dict]:
    """A run with its ``brand_name`` and ``retried_by``, for its page; NotFound outside ``customer_id``."""
    return NotFound.unless(runs_repo.get_run_named(conn, run_id, customer_id=customer_id), f"no job run {run_id}")


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
        if cancelled is not None:
            audit.run_changed(conn, "cancel", run, cancelled)
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
        limits.check_trigger(conn, run.customer_id, now)  # a retry asked for is a manual run
        rows = runs_repo.insert_runs(conn, [NewRun.retry(run, now)])
        new = runs_repo.get_run(conn, rows[0]["id"])
        assert new is not None
        audit.run_event(conn, "retry", new, {"retry_of": [None, run.id], "status": [None, str(new.status)]})
    return new


BULK_MAX = 100


def bulk_runs(
    conn: psycopg.Connection, action: str, run_ids: list[int], now: dt.datetime, *, customer_id: UUID | None = None
) -> list[tuple[int, JobRun | None, CronkeeperError | None]]:
    """``cancel`` or ``retry`` each run (duplicates once) through ``cancel_run`` / ``retry_run``,
    each in its own (nested) transaction, so a refused one changes nothing: per id the changed run
    (the new attempt for a retry), or the error that refused it (another customer's run is
    ``NotFound``). At most ``BULK_MAX`` ids."""
    if action not in ("cancel", "retry"):
        raise ValidationError(f"action must be cancel or retry, not {action!r}", field="action")
    ids = list(dict.fromkeys(run_ids))
    if not 1 <= len(ids) <= BULK_MAX:
        raise ValidationError(f"give 1 to {BULK_MAX} run ids, not {len(ids)}", field="ids")
    one = cancel_run if action == "cancel" else retry_run
    out: list[tuple[int, JobRun | None, CronkeeperError | None]] = []
    for run_id in ids:
        try:
            out.append((run_id, one(conn, run_id, now, customer_id=customer_id), None))
        except CronkeeperError as exc:
            out.append((run_id, None, exc))
    return out
