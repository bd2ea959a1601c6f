"""Re-plan stored cron slots when the time-zone data changes.

A cron job's ``next_run_at`` is an instant computed from a local time with the
zone data of the process that stored it. A newer release of that data (a
country moving its clocks, a corrected history) can put the same local time
at another instant, and the stored one would go on firing at the old answer.
So the data's release is recorded in ``cronkeeper_meta`` (key
``tz_data_version``), and a scheduler that starts with another release
re-plans every active cron job before its first tick: ``run_once(conn, now,
version)``.

The rule for one job, stored slot ``S``, last run ``L``:

- **not yet due** (``S > now``): the new slot is the first slot, under the
  current data, strictly after ``now`` (and after ``L``). Never earlier than
  ``now``: the old plan had no slot between the last tick and ``now``, so a
  slot the new data puts there is an occurrence the old data placed elsewhere
  (usually at ``S``); running it late could run one local time twice, and
  cron, which reads the zone afresh, would not fire it either. When the data
  agrees with the stored plan this is ``S`` itself, so re-planning moves
  nothing and may be repeated.
- **due** (``S <= now``, after downtime): left alone. Its slot is missed work
  that the tick runs under the job's misfire policy, computing the slots after
  it with the current data; re-planning it from ``now`` would skip it.
- a schedule the current data cannot compute (a zone removed) is left as it
  is; the tick parks it with ``job_schedule_invalid``.

Interval and one-off jobs are UTC arithmetic and never touched; paused jobs
are re-planned when resumed. The first start with no recorded release re-plans
too (it moves nothing when the data did not change, and the release the
stored slots came from is unknown).

Once, whatever the number of schedulers starting together: each batch of
``batch_size`` jobs is one transaction under the advisory lock ``LOCK_KEY``
(``pg_try_advisory_xact_lock``), which re-reads the recorded release and the
progress (``tz_replan_progress``: target release, last job id, jobs moved so
far) inside the lock, so every job is moved once even when schedulers take
turns, and a scheduler that stops half-way is continued by the next. A
scheduler that finds the lock taken leaves the work to its holder. The last
batch records the new release and logs ``tz_data_replanned`` (jobs moved,
old and new release).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field, replace
from uuid import UUID

import psycopg

from cronkeeper.errors import CronkeeperError
from cronkeeper.models import ScheduledJob
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import meta

log = logging.getLogger("cronkeeper.scheduler")

VERSION_KEY = "tz_data_version"
PROGRESS_KEY = "tz_replan_progress"
LOCK_KEY = 0x636B747A64  # "cktzd": one advisory lock id for every re-planning scheduler
BATCH_SIZE = 500


@dataclass(frozen=True)
class ReplanResult:
    """What this call did: jobs examined and moved, batches, errors; ``recorded``: it wrote the new
    release (so it finished the work); ``busy``: another scheduler held the lock."""

    old_version: str | None
    new_version: str
    examined: int = 0
    moved: int = 0
    batches: int = 0
    recorded: bool = False
    busy: bool = False
    errors: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Progress:
    """Stored between batches: the release being moved to, the last job id done, jobs moved so far."""

    version: str
    after: UUID | None = None
    moved: int = 0

    @classmethod
    def load(cls, text: str | None, version: str) -> _Progress:
        """The stored progress towards ``version``; a fresh start if none, towards another release,
        or unreadable (starting over moves nothing twice: a re-planned slot stays where it is)."""
        try:
            data = json.loads(text) if text else {}
            if not isinstance(data, dict) or data.get("version") != version:
                return cls(version)
            after = data.get("after")
            return cls(version, UUID(after) if after else None, int(data.get("moved", 0)))
        except (ValueError, TypeError):
            return cls(version)

    def dump(self) -> str:
        return json.dumps({"version": self.version, "after": self.after and str(self.after), "moved": self.moved})


def replanned_slot(job: ScheduledJob, now: dt.datetime) -> dt.datetime | None:
    """The slot a not-yet-due cron job should have under the current data (the rule above)."""
    anchor = max(now, job.last_run_at) if job.last_run_at else now
    return job.schedule.next_after(anchor)


def _moves(
    jobs: list[ScheduledJob], now: dt.datetime
) -> tuple[list[UUID], list[dt.datetime], list[str]]:
    """The jobs whose stored slot differs from the re-planned one, with that slot; and errors."""
    ids: list[UUID] = []
    nexts: list[dt.datetime] = []
    errors: list[str] = []
    for job in jobs:
        try:
            slot = replanned_slot(job, now)
        except CronkeeperError as exc:  # left for the tick, which parks it
            errors.append(f"{job.id}: {exc}")
            continue
        if slot is not None and slot != job.next_run_at:
            ids.append(job.id)
            nexts.append(slot)
    return ids, nexts, errors


def replan_batch(
    conn: psycopg.Connection, now: dt.datetime, version: str, batch_size: int = BATCH_SIZE
) -> ReplanResult:
    """One transaction under the lock: re-plan the next batch, record progress or the new release."""
    with conn.transaction():
        if not meta.try_xact_lock(conn, LOCK_KEY):
            return ReplanResult(None, version, busy=True)
        old = meta.get_value(conn, VERSION_KEY)
        if old == version:
            return ReplanResult(old, version)
        progress = _Progress.load(meta.get_value(conn, PROGRESS_KEY), version)
        jobs = jobs_repo.lock_future_cron_jobs(conn, now, progress.after, batch_size)
        ids, nexts, errors = _moves(jobs, now)
        jobs_repo.advance_jobs(conn, ids, nexts, [None] * len(ids))
        progress = replace(progress, after=jobs[-1].id if jobs else progress.after, moved=progress.moved + len(ids))
        finished = len(jobs) < batch_size
        if finished:
            meta.put_value(conn, VERSION_KEY, version, now)
            meta.delete_value(conn, PROGRESS_KEY)
        else:
            meta.put_value(conn, PROGRESS_KEY, progress.dump(), now)
    if finished:
        log.info(
            "tz_data_replanned",
            extra={"old_version": old, "new_version": version, "jobs_moved": progress.moved},
        )
    return ReplanResult(
        old, version, examined=len(jobs), moved=len(ids), batches=1, recorded=finished, errors=tuple(errors)
    )


def run_once(
    conn: psycopg.Connection, now: dt.datetime, version: str, *, batch_size: int = BATCH_SIZE
) -> ReplanResult:
    """Bring every stored cron slot to the zone data ``version``, batch after batch (see the module).

    Returns this call's counts; nothing is done when ``version`` is already
    recorded, or when another scheduler holds the lock (``busy``).
    """
    total = ReplanResult(None, version)
    while True:
        step = replan_batch(conn, now, version, batch_size)
        total = replace(
            total,
            old_version=step.old_version if total.old_version is None else total.old_version,
            examined=total.examined + step.examined, moved=total.moved + step.moved,
            batches=total.batches + step.batches, recorded=step.recorded, busy=step.busy,
            errors=total.errors + step.errors,
        )  # fmt: skip
        if step.busy or step.recorded or step.batches == 0:
            return total
