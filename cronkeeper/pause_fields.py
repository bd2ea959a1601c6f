"""The fields of pausing: checks of a pause's reason, its end, a skip count and the
auto-pause settings, and the record kept when a job is switched off or on.

``cronkeeper.jobs`` calls ``auto_pause_settings`` (create and update validate
the two settings) and ``record_switch`` (any change of ``is_active``, the PUT
of ``is_active`` included, records who paused or resumed, and when);
``cronkeeper.pausing`` adds the reason, the end and the skips.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from cronkeeper import fields
from cronkeeper.models import DueJob, ScheduledJob
from cronkeeper.repo import pauses as pauses_repo

REASON_MAX = 500
SKIP_MAX = 1000
AUTO_PAUSE_MIN, AUTO_PAUSE_MAX = 2, 1000
TRIAL_MAX_SECONDS = 30 * 86_400
AUTO_PAUSE_FIELDS = ("auto_pause_after_failures", "auto_pause_trial_after_seconds")


def reason(value: Any, field: str = "reason") -> str | None:
    """A pause's reason: ``None`` or blank is none; at most ``REASON_MAX`` characters, no NUL."""
    return fields.optional_text(value, field, max_length=REASON_MAX)


def until(value: Any, now: dt.datetime, field: str = "until") -> dt.datetime | None:
    """When a pause ends by itself: ``None``, or an ISO 8601 time with an offset after ``now``."""
    if value is None:
        return None
    at = fields.iso_time(value, field)
    if at.utcoffset() is None:
        fields.refuse(field, "must have a UTC offset (2030-01-31T09:00:00Z)")
    if at <= now:
        fields.refuse(field, f"must be in the future (now: {now.astimezone(dt.UTC).isoformat(timespec='seconds')})")
    return at


def skip_count(value: Any, field: str = "count") -> int:
    """How many of the next runs to skip: 1 to ``SKIP_MAX``."""
    return fields.integer(value, field, 1, SKIP_MAX)


def auto_pause_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The two auto-pause settings of a job's fields, checked (``None``: off)."""
    after = values.get("auto_pause_after_failures")
    trial = values.get("auto_pause_trial_after_seconds")
    return {
        "auto_pause_after_failures": None if after is None else fields.integer(
            after, "auto_pause_after_failures", AUTO_PAUSE_MIN, AUTO_PAUSE_MAX),
        "auto_pause_trial_after_seconds": None if trial is None else fields.integer(
            trial, "auto_pause_trial_after_seconds", 1, TRIAL_MAX_SECONDS),
    }  # fmt: skip


def skip_reason(job: ScheduledJob | DueJob) -> str:
    """The ``skip_reason`` of a slot skipped on request."""
    return f"skipped on request by {job.skip_requested_by or 'unknown'}"


def record_created(conn: psycopg.Connection, job: ScheduledJob, now: dt.datetime, by: str) -> ScheduledJob:
    """A job created paused records who paused it (no reason); an active one is returned as it is."""
    if job.is_active:
        return job
    return pauses_repo.mark_paused(conn, job.id, now, by=by) or job


def record_switch(
    conn: psycopg.Connection, before: ScheduledJob, after: ScheduledJob, now: dt.datetime, by: str
) -> ScheduledJob:
    """After a change of ``is_active`` (in its transaction): record who paused (no reason, no end)
    or who resumed (the pause's record cleared). ``after`` itself when nothing switched."""
    if before.is_active == after.is_active:
        return after
    if after.is_active:
        saved = pauses_repo.mark_resumed(conn, after.id, now, by=by)
    else:
        saved = pauses_repo.mark_paused(conn, after.id, now, by=by)
    return saved or after
