"""Before and after a schedule edit: the diff of upcoming runs, the versions, a revert.

The one implementation the API, the CLI and the Python API call:

* ``schedule_diff``: what an edit (the body of an update) would do to the job's
  next ``count`` runs, computed exactly as ``jobs.update_job`` would save it,
  and nothing written (``cronkeeper.schedule.diff`` compares the slots); the
  runs each side's calendar excludes are marked with the tick's reason
  (``excluded_before`` for the job as it is, ``skipped`` for the edit), and
  do not count against ``max_runs``;
* ``versions``: the job's schedule versions, newest first
  (``cronkeeper.schedule_versions`` writes them with each change);
* ``revert``: a version's fields applied through ``jobs.update_job``, so the
  revert is itself a new version (``reverted_from`` names the one restored).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import calendars, fields, jobs, limits, schedule_versions
from cronkeeper.audit import plain
from cronkeeper.errors import CronkeeperError, InvalidSchedule, NotFound
from cronkeeper.job_bounds import bounds_changed, first_slot, resumed_next_slot
from cronkeeper.models import ScheduledJob
from cronkeeper.repo import schedule_versions as versions_repo
from cronkeeper.schedule import Schedule
from cronkeeper.schedule.bounds import Bounds, CalendarRule
from cronkeeper.schedule.diff import MAX_COUNT, SlotDiff, diff_slots
from cronkeeper.schedule_versions import ScheduleVersion

DEFAULT_COUNT = 10


@dataclass(frozen=True)
class ScheduleDiff:
    """An edit's effect on job ``job_id``: ``changes`` ({field: [now, proposed]} of the schedule fields),
    each side's description and ``next_run_at``, and the slots compared (``slots``)."""

    job_id: UUID
    count: int
    timezone: str  # the proposed schedule's zone
    changes: dict[str, list[Any]]
    before_description: str | None
    after_description: str | None
    next_run_at_before: dt.datetime | None
    next_run_at_after: dt.datetime | None
    slots: SlotDiff
    # runs of ``after`` the job's (proposed) calendar excludes: recorded skipped, with the reason
    skipped: dict[dt.datetime, str] = field(default_factory=dict)
    # runs of ``before`` the job's current calendar excludes, with the reason
    excluded_before: dict[dt.datetime, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        s = self.slots
        return plain({
            "job_id": self.job_id, "count": self.count, "timezone": self.timezone, "changes": self.changes,
            "before_description": self.before_description, "after_description": self.after_description,
            "next_run_at_before": self.next_run_at_before, "next_run_at_after": self.next_run_at_after,
            "before": s.before, "after": s.after, "unchanged": s.unchanged, "added": s.added,
            "removed": s.removed, "moved": [{"from": a, "to": b} for a, b in s.moved],
            "dst_notes": [{"kind": n.kind, "at": n.at, "zone": n.zone, "text": n.text} for n in s.dst_notes],
            "complete": s.complete,
            "skipped": _listed(self.skipped),
            "excluded": {"before": _listed(self.excluded_before), "after": _listed(self.skipped)},
        })  # fmt: skip


def _listed(reasons: dict[dt.datetime, str]) -> list[dict[str, Any]]:
    return [{"at": at, "reason": why} for at, why in sorted(reasons.items())]


def _proposed_schedule(out: dict[str, Any], job: ScheduledJob) -> Schedule:
    keys = ("schedule_kind", *jobs.SCHEDULE_FIELDS)
    return Schedule.from_fields(**{k: out.get(k) for k in keys}).for_job(job.id)


def _describe(schedule: Schedule | None) -> str | None:
    try:
        return schedule.describe() if schedule is not None else None
    except CronkeeperError:
        return None


def _start_after(
    job: ScheduledJob, out: dict[str, Any], new: Schedule, changed: bool, now: dt.datetime
):
    """The ``next_run_at`` ``jobs.update_job`` would save for ``out`` (None when paused)."""
    if not out["is_active"]:
        return None
    if changed or bounds_changed(job, out):
        return first_slot(new, out, now, getattr(job, "scheduled_run_count", 0))
    if not job.is_active and job.next_run_at is not None and job.next_run_at <= now:
        return resumed_next_slot(job, now)  # a resume skips the paused slots
    return job.next_run_at


def schedule_diff(
    conn: psycopg.Connection, job_id: UUID, changes: dict[str, Any], now: dt.datetime, *,
    count: int = DEFAULT_COUNT, customer_id: UUID | None = None,
) -> ScheduleDiff:  # fmt: skip
    """The next ``count`` (1-100) runs of the job as it is and as ``changes`` would make it.

    ``changes`` is what ``jobs.update_job`` takes, checked the same way (a bad field is a
    ``ValidationError`` / ``InvalidSchedule`` naming it); nothing is written.
    """
    count = fields.integer(count, "count", 1, MAX_COUNT)
    jobs.check_changes(changes)
    job = jobs.get_job(conn, job_id, customer_id=customer_id)
    out = jobs.merged_fields(conn, job, changes)
    out["calendar_id"] = calendars.check_job_calendar(conn, out.get("calendar_id"), job.customer_id)  # as an update
    new = _proposed_schedule(out, job)
    changed = any(out.get(k) != getattr(job, k) for k in (*jobs.SCHEDULE_FIELDS, "schedule_kind"))
    if changed or out["job_type"] != job.job_type:
        limits.check_min_interval(out["job_type"], new)
    try:
        old = job.schedule
    except CronkeeperError:  # a schedule edited by hand into something invalid: no runs to compare
        old = None
    old_start = job.next_run_at if job.is_active else None
    new_start = _start_after(job, out, new, changed, now)
    old_rule = _rule(conn, job.calendar_id, job)
    new_rule = old_rule if out.get("calendar_id") == job.calendar_id else _rule(conn, out.get("calendar_id"), job)
    try:
        slots = diff_slots(old, old_start, new, new_start, count=count, now=now,
                           old_bounds=Bounds.of(job), new_bounds=_bounds(job, out),
                           old_excluded=_excludes(old_rule, job.timezone),
                           new_excluded=_excludes(new_rule, new.timezone))  # fmt: skip
    except (ValueError, OverflowError) as exc:  # runs past year 9999 (a huge interval, count)
        field_ = next((k for k in ("cron_expression", "interval_seconds", "run_at") if k in changes), "count")
        raise InvalidSchedule(f"cannot compute the next runs: {exc}", field=field_) from exc
    proposed = schedule_versions.snapshot_of(out)
    return ScheduleDiff(
        job.id, count, new.timezone, schedule_versions.changed_fields(schedule_versions.snapshot(job), proposed),
        _describe(old), _describe(new), old_start, new_start, slots,
        new_rule.reasons(slots.after, new.timezone) if new_rule else {},
        old_rule.reasons(slots.before, job.timezone) if old_rule else {},
    )  # fmt: skip


def _bounds(job: ScheduledJob, out: dict[str, Any]) -> Bounds:
    """The proposed bounds, counting the job's scheduled runs so far against ``max_runs``."""
    runs = getattr(job, "scheduled_run_count", 0) or 0
    return Bounds(out.get("starts_at"), out.get("ends_at"), out.get("max_runs"), runs)


def _rule(conn: psycopg.Connection, calendar_id: UUID | None, job: ScheduledJob) -> CalendarRule | None:
    """The calendar ``calendar_id`` (one of the job's customer's) as the tick applies it, or None."""
    if calendar_id is None:
        return None
    return calendars.rule_for(conn, calendar_id, customer_id=job.customer_id)


def _excludes(rule: CalendarRule | None, zone: str) -> Callable[[dt.datetime], bool] | None:
    """Whether ``rule`` excludes a slot (its local date in ``zone``), for ``diff_slots``."""
    return None if rule is None else (lambda slot: rule.excludes(slot, zone) is not None)


def versions(
    conn: psycopg.Connection, job_id: UUID, *, before: int | None = None, limit: int = 50,
    customer_id: UUID | None = None,
) -> list[ScheduleVersion]:  # fmt: skip
    """The job's schedule versions, newest first (below version ``before`` when given)."""
    limit = fields.integer(limit, "limit", 1, 500)
    job = jobs.get_job(conn, job_id, customer_id=customer_id)
    return schedule_versions.list_versions(conn, job.id, before=before, limit=limit)


def _restorable(after: dict[str, Any]) -> dict[str, Any]:
    """A version's fields as ``jobs.update_job`` changes (times back from ISO text)."""
    out = {}
    for key in schedule_versions.SCHEDULE_VERSION_FIELDS:
        value = after.get(key)
        if isinstance(value, str) and key.endswith("_at"):
            value = fields.iso_time(value, key)
        out[key] = value
    return out


def revert(
    conn: psycopg.Connection,
    job_id: UUID,
    version: int,
    now: dt.datetime,
    *,
    customer_id: UUID | None = None,
) -> tuple[ScheduledJob, ScheduleVersion | None]:
    """Apply version ``version``'s schedule fields to the job as a new version; the job, and
    the version written (None when the job already had exactly those fields).

    A version the job does not have is ``NotFound``; the fields are checked as any update's
    (a quota refusing to resume the job, for one).
    """
    version = fields.integer(version, "version", 1)
    with conn.transaction():
        job = jobs.get_job(conn, job_id, customer_id=customer_id)
        target = schedule_versions.get_version(conn, job.id, version)
        if target is None:
            raise NotFound(f"job {job.id} has no schedule version {version}")
        latest = versions_repo.latest_version(conn, job.id)
        updated = jobs.update_job(
            conn, job.id, _restorable(target.after), now, customer_id=customer_id
        )
        newest = versions_repo.latest_version(conn, job.id)
        if newest == latest:
            return updated, None
        row = versions_repo.mark_reverted(conn, job.id, newest, version)
    return updated, ScheduleVersion.from_row(row)
