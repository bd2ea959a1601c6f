"""A job's calendar and bounds as ``cronkeeper/jobs.py`` checks and applies them.

``calendar_id`` names one of the job's customer's calendars (``cronkeeper.calendars``);
``starts_at`` / ``ends_at`` bound its slots (no slot before or after); ``max_runs``
caps its scheduled runs, after which it finishes (``schedule.bounds.finished_reason``).
A resume keeps to them too: ``paused_runs`` records only the paused slots within the
start and end (with the calendar's reason where it excludes one), and
``resumed_next_slot`` is ``None`` past the end or the last run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from cronkeeper import fields
from cronkeeper.calendars import calendar_rules
from cronkeeper.models import ScheduledJob
from cronkeeper.repo.runs import NewRun
from cronkeeper.schedule import Schedule
from cronkeeper.schedule.bounds import Bounds, bounded_slots
from cronkeeper.schedule.slots import due_slots, first_after

BOUND_FIELDS = ("calendar_id", "starts_at", "ends_at", "max_runs")
# the bounds that move a job's next run when they change (a calendar only skips slots)
REPLANNING_FIELDS = ("starts_at", "ends_at", "max_runs")
MAX_RUNS = 1_000_000


def _instant(value: Any, field: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    moment = fields.iso_time(value, field)
    if moment.utcoffset() is None:
        fields.refuse(field, "must have a UTC offset (2027-01-31T09:00:00+01:00)")
    return moment.astimezone(dt.UTC)


def validate_bounds(values: dict[str, Any]) -> dict[str, Any]:
    """The calendar and bounds of ``values``, checked and normalised (each ``None`` when not
    given); a ``ValidationError`` naming the field: ``ends_at`` not after ``starts_at``,
    ``max_runs`` outside 1..1000000."""
    out: dict[str, Any] = {
        "calendar_id": fields.uuid(values["calendar_id"], "calendar_id") if values.get("calendar_id") else None,
        "starts_at": _instant(values.get("starts_at"), "starts_at"),
        "ends_at": _instant(values.get("ends_at"), "ends_at"),
        "max_runs": None,
    }
    if values.get("max_runs") is not None:
        if isinstance(values["max_runs"], bool) or not isinstance(values["max_runs"], int):
            fields.refuse("max_runs", f"must be a whole number; got {values['max_runs']!r}")
        out["max_runs"] = fields.integer(values["max_runs"], "max_runs", 1, MAX_RUNS)
    if out["starts_at"] and out["ends_at"] and out["ends_at"] <= out["starts_at"]:
        fields.refuse("ends_at", "must be after starts_at")
    return out


def first_slot(schedule: Schedule, values: dict[str, Any], now: dt.datetime, run_count: int = 0) -> dt.datetime | None:
    """A job's first ``next_run_at`` from ``now`` within its bounds: the schedule's first run
    from the start (an interval starts at ``starts_at`` itself), ``None`` when the end has
    passed or its ``max_runs`` are used up."""
    bounds = Bounds(values.get("starts_at"), values.get("ends_at"), values.get("max_runs"), run_count)
    if schedule.interval_seconds and bounds.starts_at is not None and bounds.starts_at > now:
        return bounds.next_slot(bounds.starts_at)
    return bounds.next_slot(schedule.first_run(bounds.start_from(now)))


def bounds_changed(job: Any, out: dict[str, Any]) -> bool:
    """Whether ``out`` moves the job's bounds (its next run is then computed anew)."""
    return any(out.get(k) != getattr(job, k) for k in REPLANNING_FIELDS)


PAUSED_REASON = "job paused"


def paused_runs(conn: psycopg.Connection, job: ScheduledJob, now: dt.datetime) -> list[NewRun]:
    """The skipped runs a resume at ``now`` records for the slots that passed while ``job`` was
    paused: only those within its ``starts_at`` / ``ends_at`` (the others are not slots of the
    job), each "job paused", or the calendar's reason when the job's calendar excludes it."""
    due = due_slots(job.schedule, job.next_run_at, now)
    slots, _ = bounded_slots(Bounds.of(job), due.slots, None)
    rule = calendar_rules(conn, [job]).get(job.calendar_id) if job.calendar_id else None
    reasons = rule.reasons(slots, job.timezone) if rule else {}
    return [NewRun.for_slot(job, s, s, now, skip_reason=reasons.get(s, PAUSED_REASON)) for s in slots]


def resumed_next_slot(job: ScheduledJob, now: dt.datetime) -> dt.datetime | None:
    """A resumed job's ``next_run_at``: its first slot after ``now`` on its own sequence, ``None``
    when that is past ``ends_at`` or its ``max_runs`` are used up (it finishes); not before
    ``starts_at``."""
    bounds = Bounds.of(job)
    return bounds.next_slot(first_after(job.schedule, job.next_run_at, bounds.start_from(now)))
