"""Gap-only backfill: runs for a job's past slots that have no run at all.

``backfill(conn, job_id, start, end, now)`` lists the job's slots from
``start`` to ``end`` (inclusive; ``cronkeeper.schedule.slots``, so ``H``, the
zone and ISC cron's DST rules hold as they do for the scheduler), leaves out
every slot that already has a run (of any trigger or status: done, failed,
skipped ...), and inserts one pending scheduled run (trigger ``schedule``,
due ``now``) per remaining slot. The unique slot index makes a race with the
scheduler or another backfill harmless (``ON CONFLICT DO NOTHING``: counted
in ``skipped_existing``). ``dry_run`` lists the same slots and writes nothing.

Bounds and calendar, as the scheduler applies them (``schedule/bounds.py``):
the range is narrowed to the job's ``starts_at`` / ``ends_at`` (slots outside
them are not slots of the job at all: neither listed nor written; ``notes``
says the range was narrowed). A slot without a run that the job's calendar
excludes is not run: it is recorded ``skipped`` with the calendar's reason
("calendar: Holidays excludes 2027-12-25"), as the tick records it, and listed
in ``excluded`` (with its reason) by the dry run and the backfill alike, so the
dry run shows exactly what is then written. Backfilled runs do not count
against the job's own ``max_runs`` bound (``scheduled_run_count`` counts the
scheduler's runs).

Order: the runs are scheduled runs, so the worker's claim holds overlap
``forbid`` (``ck_claim_runs``, migration 0032): they run one after another, in slot
order. A job with overlap ``allow`` runs them side by side. ``replace`` is
refused (field ``overlap_policy``): the job's next slot would cancel every
pending backfill run. While a ``forbid`` backfill drains, the job's own new
slots are recorded skipped ("a previous run is still pending"), as for any
long catch-up.

Caps: at most ``max_runs`` (default 1000, at most ``MAX_RUNS``) slots written,
pending runs and calendar skips together; more missing slots in the range is a
``ValidationError`` naming ``max_runs``.
Backfill is not a manual trigger: the per-minute manual-trigger quota
(``limits.check_trigger``) does not count it; ``max_runs`` bounds it. Each
backfill that writes is recorded in the audit trail (action ``backfill``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import audit, calendars, fields
from cronkeeper.errors import ValidationError
from cronkeeper.jobs import get_job
from cronkeeper.models import OverlapPolicy, ScheduledJob
from cronkeeper.repo import backfill as backfill_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import NewRun
from cronkeeper.schedule.bounds import Bounds
from cronkeeper.schedule.slots import slots_between

DEFAULT_MAX_RUNS = 1000
MAX_RUNS = 10_000
_TICK = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class BackfillResult:
    """The slots without a run to run (created unless ``dry_run``), how many were created, and how
    many slots in the range already had a run (or got one from a concurrent writer); ``excluded``:
    the slots without a run the job's calendar excludes, each with its reason (recorded skipped
    unless ``dry_run``; ``skipped_calendar`` of them were); ``notes``: the range narrowed to
    the job's bounds."""

    slots: list[dt.datetime]
    created: int
    skipped_existing: int
    dry_run: bool
    excluded: dict[dt.datetime, str] = field(default_factory=dict)
    skipped_calendar: int = 0
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "slots": [audit.plain(s) for s in self.slots], "created": self.created,
            "skipped_existing": self.skipped_existing, "dry_run": self.dry_run,
            "excluded": [{"at": audit.plain(at), "reason": why} for at, why in sorted(self.excluded.items())],
            "skipped_calendar": self.skipped_calendar, "notes": list(self.notes),
        }  # fmt: skip


def _instant(value: Any, field: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            fields.refuse(
                field, f"must be an ISO 8601 date and time with an offset; got {value[:40]!r}"
            )
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        fields.refuse(field, "must be a date and time with a UTC offset")
    return value.astimezone(dt.UTC)


def _first_slot(job: ScheduledJob, start: dt.datetime) -> dt.datetime | None:
    """The job's first slot at or after ``start``."""
    schedule = job.schedule
    if schedule.interval_seconds:
        anchor = job.next_run_at or job.created_at  # the grid the scheduler keeps
        step = dt.timedelta(seconds=schedule.interval_seconds)
        return anchor - step * ((anchor - start) // step)
    if schedule.run_at is not None:
        return schedule.run_at if schedule.run_at >= start else None
    return schedule.next_after(start - _TICK)


def _within_bounds(job: ScheduledJob, start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime, list[str]]:
    """The range narrowed to the job's ``starts_at`` / ``ends_at``, and notes saying so."""
    notes = []
    if job.starts_at is not None and start < job.starts_at:
        start = job.starts_at
        notes.append(f"from: moved to the job's starts_at ({audit.plain(start)}); it has no slot before it")
    if job.ends_at is not None and end > job.ends_at:
        end = job.ends_at
        notes.append(f"to: moved to the job's ends_at ({audit.plain(end)}); it has no slot after it")
    return start, end, notes


def _check_range(start: Any, end: Any, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start, end = _instant(start, "from"), _instant(end, "to")
    if start > end:
        fields.refuse("from", f"must not be after to ({audit.plain(end)})")
    if end > now:
        fields.refuse(
            "to", "must not be in the future: the scheduler creates the runs of future slots"
        )
    return start, end


def _gaps(conn: psycopg.Connection, job: ScheduledJob, start: dt.datetime, end: dt.datetime, max_runs: int):
    """The slots from ``start`` to ``end`` without a run, those the calendar excludes (with the
    reason), and how many slots were listed; more than ``max_runs`` gaps is refused."""
    existing = backfill_repo.slots_with_runs(conn, job.id, start, end)
    limit = max_runs + len(existing) + 1  # listing more means more than max_runs gaps
    try:
        listed, _ = slots_between(job.schedule, _first_slot(job, start), end, limit)
    except (ValueError, OverflowError) as exc:  # e.g. year 1 minus a microsecond
        fields.refuse("from", f"is out of the range slots can be computed for ({exc})")
    bounds = Bounds(job.starts_at, job.ends_at)
    listed = [s for s in listed if bounds.within(s)]
    gaps = [s for s in listed if s not in existing]
    rule = calendars.calendar_rules(conn, [job]).get(job.calendar_id) if job.calendar_id else None
    excluded = rule.reasons(gaps, job.timezone) if rule else {}
    if len(gaps) > max_runs:
        more = "at least " if len(listed) == limit else ""
        of_them = f" ({len(excluded)} of them excluded by the calendar, recorded skipped)" if excluded else ""
        raise ValidationError(
            f"max_runs: the range has {more}{len(gaps)} slots without a run{of_them}, more than max_runs "
            f"({max_runs}); narrow from/to or raise max_runs (at most {MAX_RUNS})", field="max_runs",
        )  # fmt: skip
    return gaps, excluded, len(listed)


def backfill(
    conn: psycopg.Connection,
    job_id: UUID,
    start: Any,
    end: Any,
    now: dt.datetime,
    *,
    dry_run: bool = False,
    max_runs: Any = DEFAULT_MAX_RUNS,
    customer_id: UUID | None = None,
) -> BackfillResult:
    """Create runs for the slots of ``job_id`` from ``start`` to ``end`` that have none (module doc)."""
    start, end = _check_range(start, end, now)
    max_runs = fields.integer(max_runs, "max_runs", 1, MAX_RUNS)
    dry_run = fields.boolean(dry_run, "dry_run")
    with conn.transaction():
        job = get_job(conn, job_id, customer_id=customer_id)
        if job.overlap_policy is OverlapPolicy.REPLACE:
            fields.refuse("overlap_policy", "replace: the job's next slot would cancel the backfilled runs; "
                          "set forbid (one after another) or allow (side by side) to backfill")  # fmt: skip
        start, end, notes = _within_bounds(job, start, end)
        if start > end:
            notes.append("the range lies outside the job's starts_at / ends_at: no slot to backfill")
            return BackfillResult([], 0, 0, dry_run, notes=tuple(notes))
        gaps, excluded, listed = _gaps(conn, job, start, end, max_runs)
        to_run = [s for s in gaps if s not in excluded]
        if dry_run:
            return BackfillResult(to_run, 0, listed - len(gaps), True, excluded, 0, tuple(notes))
        rows = runs_repo.insert_runs(conn, [
            NewRun.for_slot(job, slot, slot, now, skip_reason=excluded[slot]) if slot in excluded
            else NewRun.for_slot(job, slot, now, now) for slot in gaps
        ])  # fmt: skip
        created = sum(1 for r in rows if r["status"] == "pending")
        skipped = len(rows) - created
        if gaps:
            done = {"from": audit.plain(start), "to": audit.plain(end), "created": created, "excluded": skipped}
            audit.record(
                conn, "backfill", "job", job.id, customer_id=job.customer_id, job_id=job.id,
                changes={"backfill": [None, done]},
            )  # fmt: skip
    return BackfillResult(to_run, created, listed - len(rows), False, excluded, skipped, tuple(notes))
