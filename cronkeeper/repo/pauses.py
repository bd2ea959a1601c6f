"""Pauses, skips and auto-pause on ``scheduled_jobs`` (named SQL: ``repo/sql/job_pauses.sql``).

``cronkeeper.pausing`` (pause, resume, skip) and the scheduler's pause step
(``services.scheduler.pauses``) are the only callers; the caller owns the
transaction. Every ``lock_*`` takes row locks ``FOR UPDATE SKIP LOCKED`` so any
number of schedulers may run the step at once: each job is handled by one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper.models import ScheduledJob
from cronkeeper.repo.queries import load

Q = load("job_pauses")


def _job(row: dict[str, Any] | None) -> ScheduledJob | None:
    return ScheduledJob.from_row(row) if row else None


def mark_paused(
    conn: psycopg.Connection, job_id: UUID, now: dt.datetime, *, by: str, reason: str | None = None,
    until: dt.datetime | None = None, automatic: bool = False, trial_due_at: dt.datetime | None = None,
) -> ScheduledJob | None:
    """Pause the job (if it is not yet) and record who, why, until when; the job, None when gone."""
    params = {"id": job_id, "now": now, "by": by, "reason": reason, "until": until, "automatic": automatic,
              "trial_due_at": trial_due_at}  # fmt: skip
    return _job(conn.execute(Q["mark_paused"], params).fetchone())


def mark_resumed(conn: psycopg.Connection, job_id: UUID, now: dt.datetime, *, by: str) -> ScheduledJob | None:
    """Record who resumed the job and when; the pause's record is cleared."""
    return _job(conn.execute(Q["mark_resumed"], {"id": job_id, "now": now, "by": by}).fetchone())


def set_skips(conn: psycopg.Connection, job_id: UUID, count: int, by: str) -> ScheduledJob | None:
    return _job(conn.execute(Q["set_skips"], {"id": job_id, "count": count, "by": by}).fetchone())


def count_down_skips(conn: psycopg.Connection, used: dict[UUID, int]) -> None:
    """Take ``used[job_id]`` off each job's ``skip_next_runs`` (the tick, under its row locks)."""
    if used:
        conn.execute(Q["count_down_skips"], {"ids": list(used), "counts": list(used.values())})


def lock_due_resumes(conn: psycopg.Connection, now: dt.datetime, limit: int) -> list[ScheduledJob]:
    rows = conn.execute(Q["lock_due_resumes"], {"now": now, "limit": limit}).fetchall()
    return [ScheduledJob.from_row(r) for r in rows]


def lock_due_trials(conn: psycopg.Connection, now: dt.datetime, limit: int) -> list[ScheduledJob]:
    rows = conn.execute(Q["lock_due_trials"], {"now": now, "limit": limit}).fetchall()
    return [ScheduledJob.from_row(r) for r in rows]


def start_trial(conn: psycopg.Connection, job_id: UUID, run_id: int) -> None:
    conn.execute(Q["start_trial"], {"id": job_id, "run_id": run_id})


def lock_trials_in_flight(conn: psycopg.Connection, limit: int) -> list[ScheduledJob]:
    return [ScheduledJob.from_row(r) for r in conn.execute(Q["lock_trials_in_flight"], {"limit": limit}).fetchall()]


def trial_outcome(conn: psycopg.Connection, run_id: int) -> dict[str, Any] | None:
    """The newest attempt of the trial run's retry chain; None when the run is gone (pruned)."""
    return conn.execute(Q["trial_outcome"], {"run_id": run_id}).fetchone()


def end_trial(conn: psycopg.Connection, job_id: UUID, reason: str) -> ScheduledJob | None:
    return _job(conn.execute(Q["end_trial"], {"id": job_id, "reason": reason}).fetchone())


def auto_pause_candidates(conn: psycopg.Connection, since: dt.datetime, now: dt.datetime) -> list[UUID]:
    """Active jobs with auto-pause on and a run that failed in ``(since, now]``."""
    return [r["id"] for r in conn.execute(Q["auto_pause_candidates"], {"since": since, "now": now}).fetchall()]


def lock_job(conn: psycopg.Connection, job_id: UUID) -> ScheduledJob | None:
    return _job(conn.execute(Q["lock_job"], {"id": job_id}).fetchone())


def failure_streak_runs(
    conn: psycopg.Connection, job_id: UUID, after: dt.datetime | None, limit: int
) -> list[dict[str, Any]]:
    """The job's newest completed/failed runs that finished after ``after``, newest first."""
    return conn.execute(Q["failure_streak_runs"], {"job_id": job_id, "after": after, "limit": limit}).fetchall()


def earliest_pause_end(conn: psycopg.Connection, now: dt.datetime) -> dt.datetime | None:
    """The soonest ``paused_until`` or trial after ``now``: when the scheduler should look again."""
    return conn.execute(Q["earliest_pause_end"], {"now": now}).fetchone()["at"]
