"""Operating the scheduler and the queue: ``/api/admin/scheduler/run`` (one tick now),
``/api/admin/scheduler/status`` and ``/api/admin/queue/status``.

Every read here is cheap at any table size: the scheduler's rows in ``processes``,
the due jobs from the partial index on active jobs' ``next_run_at``, and the
queue from the partial indexes on pending and processing runs (never a scan of
finished runs). A customer-bound token may use none of them (they span every
customer); a viewer may read the statuses but not tick.
"""

from __future__ import annotations

import datetime as dt

from litestar import Controller, get, post

from cronkeeper.api.controllers.system import COUNT_CAP, PROCESS_WINDOW, scheduler_recent_seconds
from cronkeeper.api.params import ClockDep, PoolDep, SettingsDep, errors
from cronkeeper.api.schemas.common import utc
from cronkeeper.api.schemas.system import (
    QueueStatusOut,
    QueueTypeOut,
    SchedulerProcessOut,
    SchedulerStatusOut,
    TickOut,
    TickRunOut,
)
from cronkeeper.client.tick import tick_now
from cronkeeper.db import reading
from cronkeeper.models import JobType, RunStatus
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import processes
from cronkeeper.repo import runs as runs_repo


def _last_tick(row: dict) -> dt.datetime | None:
    raw = (row.get("info") or {}).get("last_tick")
    try:
        return dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _age(now: dt.datetime, then: dt.datetime | None) -> float | None:
    return round((now - then).total_seconds(), 3) if then is not None else None


class SchedulerController(Controller):
    path = "/scheduler"
    tags = ["system"]

    @post(
        "/run", operation_id="runSchedulerTick", status_code=200, responses=errors(401, 403),
        opt={"unbound_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def run(self, pool: PoolDep, clock: ClockDep, settings: SettingsDep) -> TickOut:
        """One scheduler tick now (admin): every due job's runs are made, exactly as a scheduler
        process would (safe beside running schedulers); returns the counts and the runs made."""
        report = tick_now(pool, clock.now(), settings)
        return TickOut(
            at=utc(report.at), jobs=report.jobs, runs_created=report.runs_created, runs_skipped=report.runs_skipped,
            runs_replaced=report.replaced, duplicates=report.duplicates, errors=list(report.errors),
            runs=[
                TickRunOut(id=r["id"], job_id=str(r["scheduled_job_id"]), scheduled_for=utc(r["scheduled_for"]),
                           run_after=utc(r["run_after"]), status=r["status"], skip_reason=r["skip_reason"])
                for r in report.runs
            ],
            runs_truncated=report.runs_truncated,
        )  # fmt: skip

    @get(
        "/status", operation_id="getSchedulerStatus", responses=errors(401, 403),
        opt={"unbound_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def status(self, pool: PoolDep, clock: ClockDep, settings: SettingsDep) -> SchedulerStatusOut:
        """Schedulers seen in the last hour with their last heartbeat and tick, whether one is
        alive (a heartbeat within three poll intervals), the due jobs and the lag of the oldest."""
        now = clock.now()
        with reading(pool) as conn:
            rows = [r for r in processes.list_live(conn, now - PROCESS_WINDOW) if r["kind"] == "scheduler"]
            due = jobs_repo.count_due(conn, now, cap=COUNT_CAP)
        recent = scheduler_recent_seconds(settings)
        schedulers = [
            SchedulerProcessOut(
                id=r["id"], hostname=r["hostname"], pid=r["pid"], started_at=utc(r["started_at"]),
                heartbeat_at=utc(r["heartbeat_at"]), seconds_since_heartbeat=_age(now, r["heartbeat_at"]) or 0.0,
                last_tick_at=utc(_last_tick(r)), alive=(now - r["heartbeat_at"]).total_seconds() <= recent,
            )  # fmt: skip
            for r in rows
        ]
        ticks = [s.last_tick_at for s in schedulers if s.last_tick_at is not None]
        return SchedulerStatusOut(
            now=utc(now), alive=any(s.alive for s in schedulers), schedulers=schedulers,
            last_tick_at=max(ticks) if ticks else None, due_jobs=due["due"],
            oldest_due_next_run_at=utc(due["oldest"]), lag_seconds=_age(now, due["oldest"]) or 0.0,
            count_cap=COUNT_CAP, due_jobs_capped=due["capped"],
        )  # fmt: skip


class QueueController(Controller):
    path = "/queue"
    tags = ["system"]

    @get(
        "/status", operation_id="getQueueStatus", responses=errors(401, 403),
        opt={"unbound_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def status(self, pool: PoolDep, clock: ClockDep) -> QueueStatusOut:
        """Runs waiting (pending) and in hand (processing), overall and per job type, and the age of
        the oldest pending run that is due (``run_after`` passed)."""
        now = clock.now()
        with reading(pool) as conn:
            rows = runs_repo.queue_by_type(conn, now)
        statuses = (str(RunStatus.PENDING), str(RunStatus.PROCESSING))
        counts = {(str(t), s): 0 for t in JobType for s in statuses}
        oldest: dict[str, dt.datetime] = {}
        for r in rows:
            counts[(r["job_type"], r["status"])] = r["n"]
            if r["oldest_ready"] is not None:
                oldest[r["job_type"]] = r["oldest_ready"]
        first = min(oldest.values(), default=None)
        return QueueStatusOut(
            now=utc(now),
            depth={s: sum(n for (_, status), n in counts.items() if status == s) for s in statuses},
            oldest_pending_run_at=utc(first), oldest_pending_age_seconds=_age(now, first),
            by_job_type=[
                QueueTypeOut(job_type=str(t), pending=counts[(str(t), statuses[0])],
                             processing=counts[(str(t), statuses[1])], oldest_pending_run_at=utc(oldest.get(str(t))),
                             oldest_pending_age_seconds=_age(now, oldest.get(str(t))))
                for t in JobType
            ],
        )  # fmt: skip
