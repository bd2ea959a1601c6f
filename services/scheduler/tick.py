"""The scheduler's step: turn due jobs into runs and advance ``next_run_at``.

``tick(conn, now)`` locks a batch of due active jobs (``FOR UPDATE SKIP LOCKED``),
plans each job's slots (``plan_job``, pure), inserts the runs (pending or
skipped, with the reason) and advances the jobs, all in one transaction per
batch (``tick_batch``). Any number of schedulers (and connections) may tick at
once: the row locks keep them apart, the unique index on ``(scheduled_job_id,
scheduled_for)`` makes a doubled slot impossible.

Every slot is accounted for: a slot that does not run is inserted with status
``skipped`` and a ``skip_reason``. Which slots are due comes from
``cronkeeper.schedule.slots`` (listed up to ``MAX_ENUMERATED_SLOTS`` per job;
the rest of a longer gap is noted on a skipped run).

A job's requested skips (``skip_next_runs``) turn its next slots that would run
into skipped ones, "skipped on request by <who>", counted down in the batch's
transaction (``services.scheduler.skips``).

Overlap ``forbid`` skips the slots due while a run of the job is pending or
processing; of several slots due at one tick it keeps the first, except under
misfire ``run_all``, where every slot is inserted and the worker's claim runs
them one after another, in slot order (``ck_claim_runs``, migration 0032).

Options (of ``tick``/``tick_batch``; the loop passes the settings in brackets):

- ``batch_size`` (1000) [``scheduler_batch_size``]: jobs locked per transaction;
- ``grace_seconds`` (120) [``misfire_grace_seconds``]: how late a slot may
  start under the ``skip`` misfire policy;
- ``max_catchup`` (100) [``max_catchup_runs``]: slots run under ``run_all``;
- ``rng`` (a fresh ``random.Random``): draws each run's jitter;
- ``local_settings`` (none): server settings ``SET LOCAL`` in each batch's
  transaction (the loop's bounded waits behind a pooler, ``cronkeeper.dblimits``);
- ``helper`` (none; the loop's second connection): ``tick``'s, see there.

A batch of ``COPY_MIN_ROWS`` runs or more is written by binary COPY straight into
``job_runs`` (in a savepoint: a slot already there sends the rows through a staging
table and ``ON CONFLICT DO NOTHING``, ``runs_repo.write_scheduled_runs``) and its
advances by COPY into a temporary table and one UPDATE; a smaller one, the usual
tick, by binary arrays (no temporary table made at every small tick). Jobs without
jitter that share what their plan depends on share one plan per batch
(``_plan_key``); only forbid and replace jobs look up active runs.

Emits: a ``TickResult``; ``run_scheduled``/``run_skipped`` (run and job ids) per run of a
batch of up to ``RUN_EVENTS_PER_BATCH`` runs, else one ``runs_scheduled`` of counts;
``job_schedule_invalid`` (error) for a job whose schedule no longer computes (parked).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from uuid import UUID

import psycopg

from cronkeeper.calendars import calendar_rules
from cronkeeper.dblimits import set_local
from cronkeeper.errors import CronkeeperError
from cronkeeper.models import DueJob, MisfirePolicy, OverlapPolicy, ScheduledJob
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import NewRun
from cronkeeper.schedule.bounds import Bounds, CalendarRule, bounded_slots, cap_runs
from cronkeeper.schedule.slots import due_slots
from cronkeeper.services.scheduler import skips

log = logging.getLogger("cronkeeper.scheduler")
RUN_EVENTS_PER_BATCH = 100  # a bigger batch logs one runs_scheduled line, not one per run


@dataclass(frozen=True)
class PlannedSlot:
    """One slot of a plan: when it was due, when it may start (after jitter), why it is skipped."""

    scheduled_for: dt.datetime
    run_after: dt.datetime
    skip_reason: str | None = None  # None: the slot runs


@dataclass(frozen=True)
class JobPlan:
    """One job's plan at a tick: its due slots, its next ``next_run_at``, whether active runs are cancelled."""

    slots: tuple[PlannedSlot, ...]
    next_run_at: dt.datetime | None
    replace_active: bool = False

    @property
    def to_run(self) -> list[PlannedSlot]:
        return [s for s in self.slots if s.skip_reason is None]


@dataclass(frozen=True)
class TickResult:
    """Counts of one tick: jobs due, runs created/skipped/replaced, slots already there, batches, errors."""

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


def _misfire_reasons(
    policy: MisfirePolicy,
    slots: list[dt.datetime],
    now: dt.datetime,
    grace_seconds: float,
    max_catchup: int,
) -> dict[dt.datetime, str]:
    """Which due slots the misfire policy skips, and why."""
    if policy is MisfirePolicy.RUN_ONCE:
        return {
            s: f"misfire: coalesced into the catch-up run for {_iso(slots[-1])}" for s in slots[:-1]
        }
    if policy is MisfirePolicy.SKIP:
        late = {s: (now - s).total_seconds() for s in slots}
        return {
            s: f"misfire: missed by {seconds:.0f} s (grace {grace_seconds:.0f} s)"
            for s, seconds in late.items() if seconds > grace_seconds
        }  # fmt: skip
    # run_all, bounded like Kubernetes' 100 missed starts
    return {
        s: f"misfire: more than {max_catchup} missed slots (run_all limit)"
        for s in slots[:-max_catchup]
    }


def _overlap_reasons(
    policy: OverlapPolicy, runnable: list[dt.datetime], has_active: bool, misfire: MisfirePolicy
) -> tuple[dict[dt.datetime, str], bool]:
    """Which runnable slots the overlap policy skips, and why; also whether active runs are replaced.

    ``forbid`` with ``run_all`` keeps every missed slot: the claim runs them one
    at a time in slot order (``ck_claim_runs``, migration 0032).
    """
    if policy is OverlapPolicy.FORBID:
        if has_active:
            return {
                s: "overlap: a previous run is still pending or processing" for s in runnable
            }, False
        if misfire is MisfirePolicy.RUN_ALL:
            return {}, False
        first = runnable[0] if runnable else None
        return {
            s: f"overlap: the run for {_iso(first)} was created in the same tick"
            for s in runnable[1:]
        }, False
    if policy is OverlapPolicy.REPLACE and runnable:
        last = runnable[-1]
        return {
            s: f"overlap: replaced by the run for {_iso(last)}" for s in runnable[:-1]
        }, has_active
    return {}, False


def plan_job(
    job: ScheduledJob | DueJob,
    now: dt.datetime,
    *,
    has_active: bool,
    grace_seconds: float,
    max_catchup: int,
    rng: random.Random,
    calendar: CalendarRule | None = None,
) -> JobPlan:
    """Decide, for one due job, which slots run, which are skipped and why (pure: ``now`` and ``rng`` given).

    Slots outside the job's bounds are dropped; a slot its ``calendar`` excludes is skipped with
    the calendar's reason (``cronkeeper.schedule.bounds``)."""
    due = due_slots(job.schedule, job.next_run_at, now)
    bounds = Bounds.of(job)
    slots, next_slot = bounded_slots(bounds, due.slots, due.next_slot)
    if not slots:
        return JobPlan((), next_slot)
    reasons = calendar.reasons(slots, job.timezone) if calendar else {}
    eligible = [s for s in slots if s not in reasons]
    reasons.update(_misfire_reasons(job.misfire_policy, eligible, now, grace_seconds, max_catchup))
    runnable = [s for s in slots if s not in reasons]
    overlap, replace = _overlap_reasons(job.overlap_policy, runnable, has_active, job.misfire_policy)
    reasons.update(overlap)
    slots, next_slot = cap_runs(bounds, slots, reasons, next_slot)
    if due.unlisted:
        # the unlisted rest of a long gap is noted on the latest skipped slot
        gap = f"{due.unlisted} further slots" if due.unlisted > 0 else "further slots"
        noted = [s for s in slots if s in reasons]
        if noted:
            reasons[noted[-1]] += f"; misfire: {gap} up to {_iso(now)} not listed (downtime)"
    jitter = job.jitter_seconds or 0
    planned = tuple(
        PlannedSlot(
            scheduled_for=s,
            run_after=s + dt.timedelta(seconds=rng.uniform(0, jitter))
            if jitter and s not in reasons
            else s,
            skip_reason=reasons.get(s),
        )
        for s in slots
    )
    return JobPlan(planned, next_slot, replace_active=replace)


@dataclass
class _Batch:
    """What one batch writes: the new runs (tuples of ``runs_repo.SCHEDULED_RUN_COLUMNS``), and each
    job's advance."""

    now: dt.datetime
    rows: list[tuple] = field(default_factory=list)
    ids: list[UUID] = field(default_factory=list)
    nexts: list[dt.datetime | None] = field(default_factory=list)
    lasts: list[dt.datetime | None] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)  # scheduled runs planned per job (max_runs)
    replace_ids: list[UUID] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skips_used: dict[UUID, int] = field(default_factory=dict)  # skip_next_runs used per job (skips.py)
    # a plan's slots as row tails, its last run slot and run count, by plan (shared plans: once)
    _shapes: dict[int, tuple[JobPlan, tuple[tuple, ...], dt.datetime | None, int]] = field(default_factory=dict)

    def add(self, job: DueJob, plan: JobPlan) -> None:
        if plan.replace_active:
            self.replace_ids.append(job.id)
        shape = self._shapes.get(id(plan))
        if shape is None:
            now = self.now
            tails = tuple(
                ("pending", None, s.scheduled_for, s.run_after, None, "schedule") if s.skip_reason is None
                else ("skipped", s.skip_reason, s.scheduled_for, s.run_after, now, "schedule")
                for s in plan.slots
            )  # fmt: skip
            ran = plan.to_run
            shape = self._shapes[id(plan)] = (plan, tails, ran[-1].scheduled_for if ran else None, len(ran))
        _, tails, last, count = shape
        head = (job.id, job.customer_id, job.brand_id, str(job.job_type))
        self.rows.extend(head + tail for tail in tails)
        self.advance(job, plan.next_run_at, last, count)

    def advance(self, job: DueJob, next_run_at: dt.datetime | None, last: dt.datetime | None, count: int = 0) -> None:
        self.ids.append(job.id)
        self.nexts.append(next_run_at)
        self.lasts.append(last)
        self.counts.append(count)


def _plan_key(job: DueJob, has_active: bool) -> tuple | None:
    """What a job's plan depends on besides the tick's own values; None when it also draws jitter.

    Jobs with the same key share one plan (memoised per batch): 100,000 jobs due at once
    rarely have more than a few hundred distinct keys."""
    if job.jitter_seconds:
        return None
    expr = job.cron_expression
    return (
        job.schedule_kind, expr, job.timezone, job.interval_seconds, job.run_at,
        job.id if expr and "H" in expr else None,  # an H expression's times depend on the job's id
        job.next_run_at, job.starts_at, job.ends_at, job.max_runs,
        job.scheduled_run_count if job.max_runs is not None else 0,
        job.calendar_id, job.misfire_policy, job.overlap_policy, has_active,
    )  # fmt: skip


def _plan_batch(
    jobs: list[DueJob], active: set[UUID], now: dt.datetime, grace_seconds: float, max_catchup: int,
    rng: random.Random, calendars: dict[UUID, CalendarRule] | None = None,
) -> _Batch:  # fmt: skip
    """Plan every locked job; a job whose schedule no longer computes is parked, not fatal."""
    batch = _Batch(now)
    calendars = calendars or {}
    plans: dict[tuple, JobPlan] = {}
    for job in jobs:
        has_active = job.id in active
        key = _plan_key(job, has_active)
        plan = plans.get(key) if key is not None else None
        if plan is None:
            try:
                plan = plan_job(
                    job, now, has_active=has_active, grace_seconds=grace_seconds,
                    max_catchup=max_catchup, rng=rng, calendar=calendars.get(job.calendar_id),
                )  # fmt: skip
            except CronkeeperError as exc:
                # a schedule that no longer computes (e.g. edited by hand): park the job
                log.error("job_schedule_invalid", extra={"job_id": str(job.id), "error": str(exc)})
                batch.errors.append(f"{job.id}: {exc}")
                batch.advance(job, None, None)
                continue
            if key is not None:
                plans[key] = plan
        batch.add(job, skips.apply(job, plan, batch.skips_used) if job.skip_next_runs else plan)
    return batch


# from this many runs a batch is written by COPY (faster for big ticks; below it the temporary
# tables' creation would cost more than it saves, and churn the catalog at every small tick)
COPY_MIN_ROWS = 500


def _write(conn: psycopg.Connection, batch: _Batch, returning: bool) -> tuple[int, int, list]:
    """Insert the batch's runs and advance its jobs (see the module docstring); the insert is
    ``ON CONFLICT DO NOTHING`` on the slot key. Returns (pending, inserted, rows when ``returning``:
    only the arrays' insert gives the runs back)."""
    if len(batch.rows) >= COPY_MIN_ROWS and not returning:
        pending, inserted = runs_repo.write_scheduled_runs(conn, batch.rows)
        jobs_repo.advance_jobs_copied(conn, batch.ids, batch.nexts, batch.lasts, batch.counts)
        return pending, inserted, []
    new_runs = [NewRun(**dict(zip(runs_repo.SCHEDULED_RUN_COLUMNS, row, strict=True))) for row in batch.rows]
    inserted = [(r["id"], r["scheduled_job_id"], r["status"]) for r in runs_repo.insert_runs(conn, new_runs)]
    jobs_repo.advance_jobs(conn, batch.ids, batch.nexts, batch.lasts, batch.counts)
    return sum(1 for r in inserted if r[2] == "pending"), len(inserted), inserted if returning else []


def tick_batch(
    conn: psycopg.Connection,
    now: dt.datetime,
    *,
    batch_size: int = 1000,
    grace_seconds: float = 120.0,
    max_catchup: int = 100,
    rng: random.Random | None = None,
    local_settings: dict[str, str] | None = None,
) -> TickResult:
    """One transaction: lock up to ``batch_size`` due jobs, insert their runs, advance them."""
    rng = rng or random.Random()
    info = log.isEnabledFor(logging.INFO)
    with conn.transaction():
        if local_settings:
            set_local(conn, local_settings)
        jobs = jobs_repo.lock_due_jobs(conn, now, batch_size)
        if not jobs:
            return TickResult()
        # only forbid and replace look at a job's active runs: allow's plan does not depend on them
        watched = [j.id for j in jobs if j.overlap_policy is not OverlapPolicy.ALLOW]
        active = runs_repo.active_job_ids(conn, watched) if watched else set()
        calendars = calendar_rules(conn, jobs)  # one query for the batch's calendars
        batch = _plan_batch(jobs, active, now, grace_seconds, max_catchup, rng, calendars)
        replaced = 0
        if batch.replace_ids:
            replaced = runs_repo.cancel_active_for_jobs(
                conn, batch.replace_ids, now, "cancelled: replaced by a newer run (overlap policy replace)")
        each = info and len(batch.rows) <= RUN_EVENTS_PER_BATCH
        created, inserted, rows = _write(conn, batch, each)
        skips.count_down(conn, batch.skips_used)  # in this transaction, under the jobs' locks
    for run_id, job_id, status in rows:  # only when they are logged: each run's event
        event = "run_scheduled" if status == "pending" else "run_skipped"
        log.info(event, extra={"run_id": run_id, "job_id": str(job_id)})
    if info and not each and inserted:  # a mass tick: one line, not a million
        log.info("runs_scheduled", extra={"jobs": len(jobs), "runs_created": created,
                                          "runs_skipped": inserted - created})  # fmt: skip
    return TickResult(
        jobs=len(jobs), runs_created=created, runs_skipped=inserted - created, replaced=replaced,
        duplicates=len(batch.rows) - inserted, batches=1, errors=tuple(batch.errors),
    )  # fmt: skip


def tick(
    conn: psycopg.Connection, now: dt.datetime, *, helper: Callable[[], psycopg.Connection] | None = None, **options
) -> TickResult:
    """Materialise every job due at ``now``, batch after batch (each its own transaction) until none
    is left. With ``helper`` (returns a second autocommit connection; called once the first batch
    was full) the rest run on both connections at once, one in a thread: while one batch writes,
    the next is locked and planned (``SKIP LOCKED`` keeps them apart, as two schedulers)."""
    batch_size = options.get("batch_size", 1000)
    first = tick_batch(conn, now, **options)
    if first.jobs < batch_size:
        return first
    if helper is None:
        return first + _drain(conn, now, batch_size, options)
    with ThreadPoolExecutor(1, thread_name_prefix="tick-helper") as pool:
        other = pool.submit(_drain, helper(), now, batch_size, options)
        mine = _drain(conn, now, batch_size, options)
        return first + mine + other.result()


def _drain(conn: psycopg.Connection, now: dt.datetime, batch_size: int, options: dict) -> TickResult:
    total = TickResult()
    while True:
        result = tick_batch(conn, now, **options)
        total = total + result
        if result.jobs < batch_size:
            return total
