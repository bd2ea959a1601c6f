"""The scheduler's step: turn due jobs into runs and advance ``next_run_at``.

``tick(conn, now)`` locks a batch of due active jobs (``FOR UPDATE SKIP LOCKED``),
plans each job's slots, inserts the runs (pending or skipped, with the reason)
and advances the jobs, all in one transaction per batch. Any number of
schedulers may tick at once: the row locks keep them apart, and the unique
index on ``(scheduled_job_id, scheduled_for)`` makes a doubled slot impossible.

Every slot is accounted for: a slot that does not run is inserted with status
``skipped`` and a ``skip_reason``.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass, field

import psycopg

from cronkeeper.errors import CronkeeperError
from cronkeeper.models import MisfirePolicy, OverlapPolicy, ScheduledJob
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import NewRun

log = logging.getLogger("cronkeeper.scheduler")

# Slots enumerated per job per tick after downtime; past this, the rest of the
# gap is recorded as one skipped run (every slot is still accounted for).
MAX_ENUMERATED_SLOTS = 1000


@dataclass(frozen=True)
class PlannedSlot:
    scheduled_for: dt.datetime
    run_after: dt.datetime
    skip_reason: str | None = None  # None: the slot runs


@dataclass(frozen=True)
class JobPlan:
    slots: tuple[PlannedSlot, ...]
    next_run_at: dt.datetime | None
    replace_active: bool = False

    @property
    def to_run(self) -> list[PlannedSlot]:
        return [s for s in self.slots if s.skip_reason is None]


@dataclass(frozen=True)
class TickResult:
    jobs: int = 0
    runs_created: int = 0
    runs_skipped: int = 0
    replaced: int = 0
    duplicates: int = 0
    batches: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)

    def __add__(self, other: TickResult) -> TickResult:
        return TickResult(
            self.jobs + other.jobs,
            self.runs_created + other.runs_created,
            self.runs_skipped + other.runs_skipped,
            self.replaced + other.replaced,
            self.duplicates + other.duplicates,
            self.batches + other.batches,
            self.errors + other.errors,
        )


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat(timespec="seconds")


def due_slots(job: ScheduledJob, now: dt.datetime) -> tuple[list[dt.datetime], int, dt.datetime | None]:
    """Slots from ``next_run_at`` up to ``now``; also how many more were not listed, and the next future slot."""
    schedule = job.schedule
    slots: list[dt.datetime] = []
    slot = job.next_run_at
    while slot is not None and slot <= now and len(slots) < MAX_ENUMERATED_SLOTS:
        slots.append(slot)
        slot = schedule.next_after(slot)
    more = 0
    if slot is not None and slot <= now:
        # a very long gap: jump to the first future slot without listing each one
        if schedule.interval_seconds:
            step = schedule.interval_seconds
            behind = (now - slot).total_seconds()
            n = int(behind // step) + 1
            more, slot = n, slot + dt.timedelta(seconds=n * step)
        else:
            more, slot = -1, schedule.next_after(now)  # count unknown for cron
    return slots, more, slot


def plan_job(
    job: ScheduledJob,
    now: dt.datetime,
    *,
    has_active: bool,
    grace_seconds: float,
    max_catchup: int,
    rng: random.Random,
) -> JobPlan:
    """Decide, for one due job, which slots run, which are skipped and why."""
    slots, more, next_run_at = due_slots(job, now)
    if not slots:
        return JobPlan((), next_run_at)
    reasons: dict[dt.datetime, str] = {}
    policy = job.misfire_policy
    if policy is MisfirePolicy.RUN_ONCE:
        for s in slots[:-1]:
            reasons[s] = f"misfire: coalesced into the catch-up run for {_iso(slots[-1])}"
    elif policy is MisfirePolicy.SKIP:
        for s in slots:
            late = (now - s).total_seconds()
            if late > grace_seconds:
                reasons[s] = f"misfire: missed by {late:.0f} s (grace {grace_seconds:.0f} s)"
    else:  # run_all, bounded like Kubernetes' 100 missed starts
        for s in slots[:-max_catchup]:
            reasons[s] = f"misfire: more than {max_catchup} missed slots (run_all limit)"
    runnable = [s for s in slots if s not in reasons]
    replace = False
    overlap = job.overlap_policy
    if overlap is OverlapPolicy.FORBID:
        if has_active:
            for s in runnable:
                reasons[s] = "overlap: a previous run is still pending or processing"
        else:
            for s in runnable[1:]:
                reasons[s] = f"overlap: the run for {_iso(runnable[0])} was created in the same tick"
    elif overlap is OverlapPolicy.REPLACE and runnable:
        replace = has_active
        for s in runnable[:-1]:
            reasons[s] = f"overlap: replaced by the run for {_iso(runnable[-1])}"
    if more:
        # the unlisted rest of a long gap is noted on the latest skipped slot
        gap = f"{more} further slots" if more > 0 else "further slots"
        noted = [s for s in slots if s in reasons]
        if noted:
            reasons[noted[-1]] += f"; misfire: {gap} up to {_iso(now)} not listed (downtime)"
    jitter = job.jitter_seconds or 0
    planned = tuple(
        PlannedSlot(
            scheduled_for=s,
            run_after=s + dt.timedelta(seconds=rng.uniform(0, jitter)) if jitter and s not in reasons else s,
            skip_reason=reasons.get(s),
        )
        for s in slots
    )
    return JobPlan(planned, next_run_at, replace_active=replace)


def _new_run(job: ScheduledJob, slot: PlannedSlot, now: dt.datetime) -> NewRun:
    return NewRun.for_slot(job, slot.scheduled_for, slot.run_after, now, skip_reason=slot.skip_reason)


def tick_batch(
    conn: psycopg.Connection,
    now: dt.datetime,
    *,
    batch_size: int = 1000,
    grace_seconds: float = 120.0,
    max_catchup: int = 100,
    rng: random.Random | None = None,
) -> TickResult:
    """One transaction: lock up to ``batch_size`` due jobs, insert their runs, advance them."""
    rng = rng or random.Random()
    with conn.transaction():
        jobs = jobs_repo.lock_due_jobs(conn, now, batch_size)
        if not jobs:
            return TickResult()
        active = runs_repo.active_job_ids(conn, [j.id for j in jobs])
        new_runs: list[NewRun] = []
        ids, nexts, lasts, replace_ids, errors = [], [], [], [], []
        for job in jobs:
            try:
                plan = plan_job(
                    job, now, has_active=job.id in active, grace_seconds=grace_seconds,
                    max_catchup=max_catchup, rng=rng,
                )  # fmt: skip
            except CronkeeperError as exc:
                # a schedule that no longer computes (e.g. edited by hand): park the job
                log.error("job_schedule_invalid", extra={"job_id": str(job.id), "error": str(exc)})
                errors.append(f"{job.id}: {exc}")
                ids.append(job.id), nexts.append(None), lasts.append(None)
                continue
            if plan.replace_active:
                replace_ids.append(job.id)
            new_runs.extend(_new_run(job, s, now) for s in plan.slots)
            ran = plan.to_run
            ids.append(job.id)
            nexts.append(plan.next_run_at)
            lasts.append(ran[-1].scheduled_for if ran else None)
        replaced = 0
        if replace_ids:
            replaced = runs_repo.cancel_active_for_jobs(
                conn, replace_ids, now, "cancelled: replaced by a newer run (overlap policy replace)"
            )
        inserted = runs_repo.insert_runs(conn, new_runs)
        jobs_repo.advance_jobs(conn, ids, nexts, lasts)
    created = sum(1 for r in inserted if r["status"] == "pending")
    skipped = len(inserted) - created
    if log.isEnabledFor(logging.INFO):
        for r in inserted:
            event = "run_scheduled" if r["status"] == "pending" else "run_skipped"
            log.info(event, extra={"run_id": r["id"], "job_id": str(r["scheduled_job_id"])})
    return TickResult(
        jobs=len(jobs), runs_created=created, runs_skipped=skipped, replaced=replaced,
        duplicates=len(new_runs) - len(inserted), batches=1, errors=tuple(errors),
    )  # fmt: skip


def tick(conn: psycopg.Connection, now: dt.datetime, **options) -> TickResult:
    """Materialise every job due at ``now``, batch after batch, until none is left."""
    batch_size = options.get("batch_size", 1000)
    total = TickResult()
    while True:
        result = tick_batch(conn, now, **options)
        total = total + result
        if result.jobs < batch_size:
            return total
