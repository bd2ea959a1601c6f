"""Gap-only backfill: runs for a job's past slots that have no run at all.

``backfill(conn, job_id, start, end, now)`` lists the job's slots from
``start`` to ``end`` (inclusive; ``cronkeeper.schedule.slots``, so ``H``, the
zone and ISC cron's DST rules hold as they do for the scheduler), leaves out
every slot that already has a run (of any trigger or status: done, failed,
skipped ...), and inserts one pending scheduled run (trigger ``schedule``,
due ``now``) per remaining slot. The unique slot index makes a race with the
scheduler or another backfill harmless (``ON CONFLICT DO NOTHING``: counted
in ``skipped_existing``). ``dry_run`` lists the same slots and writes nothing.

Order: the runs are scheduled runs, so the worker's claim holds overlap
``forbid`` (``job_runs.sql: claim_runs``): they run one after another, in slot
order. A job with overlap ``allow`` runs them side by side. ``replace`` is
refused (field ``overlap_policy``): the job's next slot would cancel every
pending backfill run. While a ``forbid`` backfill drains, the job's own new
slots are recorded skipped ("a previous run is still pending"), as for any
long catch-up.

Caps: at most ``max_runs`` (default 1000, at most ``MAX_RUNS``) runs; more
missing slots in the range is a ``ValidationError`` naming ``max_runs``.
Backfill is not a manual trigger: the per-minute manual-trigger quota
(``limits.check_trigger``) does not count it; ``max_runs`` bounds it. Each
backfill that writes is recorded in the audit trail (action ``backfill``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import audit, fields
from cronkeeper.errors import ValidationError
from cronkeeper.jobs import get_job
from cronkeeper.models import OverlapPolicy, ScheduledJob
from cronkeeper.repo import backfill as backfill_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import NewRun
from cronkeeper.schedule.slots import slots_between

DEFAULT_MAX_RUNS = 1000
MAX_RUNS = 10_000
_TICK = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class BackfillResult:
    """The slots without a run (created unless ``dry_run``), how many were created, and how many
    slots in the range already had a run (or got one from a concurrent writer)."""

    slots: list[dt.datetime]
    created: int
    skipped_existing: int
    dry_run: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "slots": [audit.plain(s) for s in self.slots], "created": self.created,
            "skipped_existing": self.skipped_existing, "dry_run": self.dry_run,
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
    start, end = _instant(start, "from"), _instant(end, "to")
    max_runs = fields.integer(max_runs, "max_runs", 1, MAX_RUNS)
    dry_run = fields.boolean(dry_run, "dry_run")
    if start > end:
        fields.refuse("from", f"must not be after to ({audit.plain(end)})")
    if end > now:
        fields.refuse(
            "to", "must not be in the future: the scheduler creates the runs of future slots"
        )
    with conn.transaction():
        job = get_job(conn, job_id, customer_id=customer_id)
        if job.overlap_policy is OverlapPolicy.REPLACE:
            fields.refuse("overlap_policy", "replace: the job's next slot would cancel the backfilled runs; "
                          "set forbid (one after another) or allow (side by side) to backfill")  # fmt: skip
        existing = backfill_repo.slots_with_runs(conn, job.id, start, end)
        limit = max_runs + len(existing) + 1  # listing more means more than max_runs gaps
        try:
            listed, _ = slots_between(job.schedule, _first_slot(job, start), end, limit)
        except (ValueError, OverflowError) as exc:  # e.g. year 1 minus a microsecond
            fields.refuse("from", f"is out of the range slots can be computed for ({exc})")
        gaps = [s for s in listed if s not in existing]
        if len(gaps) > max_runs:
            more = "at least " if len(listed) == limit else ""
            raise ValidationError(
                f"max_runs: the range has {more}{len(gaps)} slots without a run, more than max_runs "
                f"({max_runs}); narrow from/to or raise max_runs (at most {MAX_RUNS})", field="max_runs",
            )  # fmt: skip
        if dry_run:
            return BackfillResult(gaps, 0, len(listed) - len(gaps), True)
        rows = runs_repo.insert_runs(conn, [NewRun.for_slot(job, slot, now, now) for slot in gaps])
        created = len(rows)
        if gaps:
            audit.record(
                conn, "backfill", "job", job.id, customer_id=job.customer_id, job_id=job.id,
                changes={"backfill": [None, {"from": audit.plain(start), "to": audit.plain(end), "created": created}]},
            )  # fmt: skip
    return BackfillResult(gaps, created, len(listed) - created, False)
