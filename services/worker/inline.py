"""Run a small job now, in this process, and return the finished run.

``run_now`` is what ``POST .../trigger?mode=sync`` calls (and what a script can
call). The run is an ordinary manual run: it is inserted by
``jobs.trigger_job`` and claimed by id in the same transaction, so no worker
sees it pending; it is executed by ``execution.execute`` and recorded by
``execution.finish`` exactly like a worker's run (status, metrics, error,
``worker_id`` ``sync-...``).

Bounds, so a request never turns into a long job:

- at most ``MAX_QUERIES`` active brand queries for a collecting job (else
  ``ValidationError``, field ``mode``);
- the run gets at most ``TIMEOUT_SECONDS`` (or the job's own timeout if
  shorter): a handler that goes on past it is stopped at its next checkpoint
  and recorded ``failed`` ("timed out"); the caller gets ``Conflict`` at the
  deadline and does not wait for it;
- at most ``MAX_CONCURRENT`` sync runs per process (else ``Conflict``).

A failed sync run is not retried automatically: the caller sees the failure at
once and may retry it. Should the run have been claimed by someone else, it is
waited for up to the same deadline. A run whose handler never returns keeps its
lease only until it expires; then any worker fails it ("lease expired").
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from uuid import UUID

from cronkeeper.services.worker.executor import Context, Outcome, execute, finish
from psycopg_pool import ConnectionPool

from cronkeeper import handlers, job_types, jobs
from cronkeeper.clock import Clock, SystemClock
from cronkeeper.errors import Conflict, ValidationError
from cronkeeper.models import JobRun, JobType, RunStatus
from cronkeeper.repo import brand_queries, processes
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import ClaimedRun

log = logging.getLogger("cronkeeper.services.worker.inline")

MAX_QUERIES = 5
TIMEOUT_SECONDS = 20
MAX_CONCURRENT = 4
# time left after the run's deadline for a stopped handler's outcome to be written
FINISH_GRACE_SECONDS = 1.0
POLL_SECONDS = 0.05

_slots = threading.BoundedSemaphore(MAX_CONCURRENT)
_COLLECTING = (JobType.DATA_COLLECTION, JobType.DATA_COLLECTION_AND_SCORING)


def _use_async(reason: str) -> str:
    return f"{reason}; use mode=async (the default) for this job"


def _check_size(conn, job_id: UUID, customer_id: UUID | None, max_queries: int) -> None:
    job = jobs.get_job(conn, job_id, customer_id=customer_id)
    if job.job_type not in _COLLECTING:
        return
    n = len(brand_queries.list_queries(conn, job.brand_id, active_only=True))
    if n > max_queries:
        raise ValidationError(
            _use_async(f"mode=sync runs at most {max_queries} brand queries; this job's brand has {n} active"),
            field="mode",
        )


def _start(pool: ConnectionPool, job_id: UUID, clock: Clock, customer_id: UUID | None, max_queries: int,
           worker_id: str, lease_seconds: float) -> tuple[JobRun, ClaimedRun | None]:  # fmt: skip
    """Insert the manual run and claim it in one transaction (NOTIFY goes out already claimed)."""
    with pool.connection() as conn, conn.transaction():
        _check_size(conn, job_id, customer_id, max_queries)
        now = clock.now()
        run = jobs.trigger_job(conn, job_id, now, customer_id=customer_id)
        return run, runs_repo.claim_run(conn, run.id, worker_id, now, lease_seconds)


class _Execution(threading.Thread):
    """Executes and records one claimed run; ``done`` is set once it is written."""

    def __init__(self, pool: ConnectionPool, claimed: ClaimedRun, worker_id: str, clock: Clock,
                 registry: handlers.Registry) -> None:  # fmt: skip
        super().__init__(name=f"sync-run-{claimed.run.id}", daemon=True)
        self.ctx = Context(claimed, pool, worker_id, clock, dsn=pool.conninfo)
        self.pool, self.registry = pool, registry
        self.done = threading.Event()
        self.outcome: Outcome | None = None
        self.timed_out = False
        self.recorded: JobRun | None = None  # None when the run was no longer ours

    def run(self) -> None:
        ctx = self.ctx
        try:
            self.outcome = execute(ctx, self.registry)
            self.timed_out = time.monotonic() > ctx.deadline and self.outcome.status is RunStatus.FAILED
            with self.pool.connection() as conn:
                result = finish(conn, ctx.claimed, ctx.worker_id, self.outcome, ctx.clock.now())
            self.recorded = result.run
            status = str(self.outcome.status)
            log.info(f"run_{status}", extra={**ctx.ids(), "mode": "sync", "error": self.outcome.error_message})
            if result.run is None:
                log.warning("run_lost", extra={**ctx.ids(), "mode": "sync", "status": status})
        except Exception:  # the lease expires and a worker fails the run
            log.exception("sync_run_error", extra=ctx.ids())
        finally:
            self.done.set()
            _slots.release()


def run_now(
    pool: ConnectionPool,
    job_id: UUID,
    *,
    customer_id: UUID | None = None,
    clock: Clock | None = None,
    registry: handlers.Registry | None = None,
    timeout: float | None = None,
    max_queries: int | None = None,
    lease_seconds: float = 60.0,
) -> JobRun:
    """Trigger ``job_id`` and execute the run here; returns the finished run (any final status).

    Raises ``NotFound`` for an unknown job, ``ValidationError`` (field ``mode``) when
    the job is too big for a sync run, ``Conflict`` when the run did not finish
    within ``timeout`` seconds or too many sync runs are in progress.
    """
    clock = clock or SystemClock()
    registry = registry or job_types.registry
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    max_queries = MAX_QUERIES if max_queries is None else max_queries
    deadline = time.monotonic() + timeout
    if not _slots.acquire(blocking=False):
        raise Conflict(_use_async(f"{MAX_CONCURRENT} sync runs are in progress already"))
    try:
        worker_id = processes.new_process_id("sync")
        # the lease outlasts the wait: nothing renews it while the handler runs
        run, claimed = _start(pool, job_id, clock, customer_id, max_queries, worker_id,
                              max(lease_seconds, timeout + FINISH_GRACE_SECONDS))  # fmt: skip
    except BaseException:
        _slots.release()
        raise
    if claimed is None:  # someone else holds it: wait for their outcome
        _slots.release()
        return _wait_for(pool, run.id, deadline)
    limit = min(claimed.timeout_seconds, timeout)  # the run's own clock starts now
    execution = _Execution(pool, dataclasses.replace(claimed, timeout_seconds=limit, max_retries=0),
                           worker_id, clock, registry)  # fmt: skip
    execution.start()  # releases the slot when done
    execution.done.wait(max(0.0, deadline - time.monotonic()) + FINISH_GRACE_SECONDS)
    if execution.timed_out or not execution.done.is_set():
        state = "was stopped and recorded as failed" if execution.done.is_set() else (
            "is being stopped and will be recorded as failed")  # fmt: skip
        raise Conflict(_use_async(f"run {run.id} did not finish within {timeout:g} s, mode=sync's limit; it {state}"))
    return execution.recorded or _final(pool, run.id)


def _final(pool: ConnectionPool, run_id: int) -> JobRun:
    with pool.connection() as conn:
        return jobs.get_run(conn, run_id)


def _wait_for(pool: ConnectionPool, run_id: int, deadline: float) -> JobRun:
    while True:
        run = _final(pool, run_id)
        if RunStatus(run.status).is_final:
            return run
        if time.monotonic() >= deadline:
            raise Conflict(_use_async(f"run {run_id} was taken by {run.worker_id} and is still {run.status}"))
        time.sleep(POLL_SECONDS)
