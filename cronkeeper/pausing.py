"""Pause with a reason, resume, skip the next runs: the one implementation the API,
the CLI and the Python API call (docs/alerts.md, "Pausing").

- ``pause_job``: the job stops being scheduled; who (the current actor: a token's
  name, ``cli:<user>``, ``python``), why (``reason``, up to 500 characters) and,
  optionally, until when (``until``, in the future: the scheduler resumes it then,
  ``services.scheduler.pauses``). Pausing a paused job replaces its reason and end.
- ``resume_job``: scheduled again; who and when are recorded, the pause's record is
  cleared, and the slots that passed while paused are recorded ``skipped`` ("job
  paused"), as ``jobs.set_active`` always did.
- ``bulk_pause_options``: the reason and end a bulk pause (``POST
  /scheduled-jobs/bulk``, action ``deactivate``) gives every job, checked once.
- ``skip_runs``: the next ``count`` slots the scheduler reaches that would run are
  recorded ``skipped`` with the reason "skipped on request by <who>" (the tick
  counts them down in its own transaction: ``services.scheduler.skips``).

Each runs in one transaction and writes its audit event (``pause``, ``resume``,
``skip``) in it. ``customer_id=`` limits them to one customer's jobs (a bound
token): another's job is ``NotFound``. Bad input raises ``ValidationError``
naming the field, before anything is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import audit, fields, jobs, pause_fields, schedule_versions
from cronkeeper.errors import NotFound
from cronkeeper.models import ScheduledJob
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import pauses as pauses_repo

PAUSE_AUDITED = ("is_active", "paused_reason", "paused_until")


def _locked(conn: psycopg.Connection, job_id: UUID, customer_id: UUID | None) -> ScheduledJob:
    job = jobs_repo.get_job(conn, job_id, customer_id=customer_id, for_update=True)
    return NotFound.unless(job, f"no scheduled job {job_id}")


def _values(job: ScheduledJob, names: tuple[str, ...]) -> dict[str, Any]:
    return {k: getattr(job, k) for k in names}


def pause_job(
    conn: psycopg.Connection, job_id: UUID, now: dt.datetime, *, reason: Any = None, until: Any = None,
    customer_id: UUID | None = None,
) -> ScheduledJob:
    """Pause the job with ``reason`` (None: none) until ``until`` (None: until resumed); the job."""
    why = pause_fields.reason(reason)
    end = pause_fields.until(until, now)
    with conn.transaction():
        job = _locked(conn, job_id, customer_id)
        after = pauses_repo.mark_paused(conn, job.id, now, by=audit.current_actor().name, reason=why, until=end)
        assert after is not None  # locked above
        schedule_versions.record(conn, job, after, now)  # is_active is a schedule field
        changes = audit.diff(_values(job, PAUSE_AUDITED), _values(after, PAUSE_AUDITED))
        if changes:
            audit.record(conn, "pause", "job", job.id, customer_id=job.customer_id, changes=changes, job_id=job.id)
    return after


def resume_job(
    conn: psycopg.Connection, job_id: UUID, now: dt.datetime, *, customer_id: UUID | None = None
) -> ScheduledJob:
    """Resume the job (an active one is left as it is); the job. The customer's quota of
    active jobs applies (``QuotaExceeded``)."""
    return jobs.update_job(conn, job_id, {"is_active": True}, now, customer_id=customer_id)


def skip_runs(
    conn: psycopg.Connection, job_id: UUID, count: Any, *, customer_id: UUID | None = None
) -> ScheduledJob:
    """Skip the next ``count`` (1 to 1000) runs the scheduler would make; replaces an earlier
    request's count. The job, with ``skip_next_runs``."""
    n = pause_fields.skip_count(count)
    with conn.transaction():
        job = _locked(conn, job_id, customer_id)
        by = audit.current_actor().name
        after = pauses_repo.set_skips(conn, job.id, n, by)
        assert after is not None
        changes = audit.diff({"skip_next_runs": job.skip_next_runs}, {"skip_next_runs": n})
        audit.record(conn, "skip", "job", job.id, customer_id=job.customer_id, changes=changes, job_id=job.id)
    return after


def bulk_pause_options(action: str, reason: Any, until: Any, now: dt.datetime) -> dict[str, Any] | None:
    """A bulk action's pause options, checked once for all its jobs: ``{"reason", "until"}`` for
    ``pause_job`` when a ``deactivate`` gives a reason or an end, ``None`` when it gives neither
    (each job is then switched off as ``jobs.set_active`` does). Another action with either is a
    ``ValidationError`` naming the field."""
    why, end = pause_fields.reason(reason), pause_fields.until(until, now)
    if why is None and end is None:
        return None
    if action != "deactivate":
        field = "reason" if why is not None else "until"
        fields.refuse(field, f"is taken by the deactivate (pause) action only, not {action}")
    return {"reason": why, "until": end}
