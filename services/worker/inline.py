"""Run one job now, in this process: ``?mode=sync`` and the Python API's ``Job.run()``.

Both go the same way. ``start`` inserts an ordinary manual run
(``jobs.trigger_job``) and claims it by id in the same transaction, so no
worker sees it pending; ``execute_here`` runs its handler through the
executor and writes the outcome back through a ``Completer``, exactly like a
worker's run (status, metrics, error, ``worker_id``).

Two callers, two policies:

- ``run_now`` (``POST .../trigger?mode=sync``) is bounded, so a request never
  turns into a long job: at most ``MAX_QUERIES`` active brand queries for a
  collecting job (else ``ValidationError``, field ``mode``); the run gets at
  most ``TIMEOUT_SECONDS`` (or its job's timeout if shorter), after which a
  handler is stopped at its next checkpoint and recorded ``failed`` ("timed
  out") while the caller gets ``Conflict`` at the deadline; at most
  ``MAX_CONCURRENT`` sync runs per process (else ``Conflict``). A failed sync
  run is not retried: the caller sees the failure at once. Nothing renews its
  lease, which outlasts the deadline: a handler that never returns keeps the
  run until the lease expires and a worker's rescuer fails it. Should another
  worker have claimed the run, its outcome is awaited up to the deadline.
- ``run_here`` (``JobManager.run_job``, ``Job.run()``) runs in the caller's
  thread with the job's own timeout, renews the lease while the handler runs
  (noticing a cancellation, as the worker's heartbeat does) and leaves a
  failure's retry to the workers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from typing import Any
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from cronkeeper import handlers, job_types, jobs, runs
from cronkeeper.clock import Clock, SystemClock
from cronkeeper.errors import Conflict, ValidationError
from cronkeeper.models import JobRun, JobType, RunStatus
from cronkeeper.repo import brand_queries, processes
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import ClaimedRun
from cronkeeper.services.worker.completer import Completer, Completion
from cronkeeper.services.worker.executor import Context, RunOutcome, execute

log = logging.getLogger("cronkeeper.services.worker.inline")

MAX_QUERIES = 5
TIMEOUT_SECONDS = 20
MAX_CONCURRENT = 4
# time left after the run's deadline for a stopped handler's outcome to be written
FINISH_GRACE_SECONDS = 1.0
POLL_SECONDS = 0.05

_slots = threading.BoundedSemaphore(MAX_CONCURRENT)
_COLLECTING = (JobType.DATA_COLLECTION, JobType.DATA_COLLECTION_AND_SCORING)


# -- the one path: start, execute, complete ------------------------------------------------
def start(
    pool: ConnectionPool,
    job_id: UUID,
    now: dt.datetime,
    worker_id: str,
    lease_seconds: float,
    *,
    customer_id: UUID | None = None,
    max_queries: int | None = None,
    sync: bool = False,
) -> tuple[JobRun, ClaimedRun | None]:
    """Insert a manual run of ``job_id`` and claim it in one transaction (NOTIFY goes out
    already claimed); the claim is None when someone else took the run first.

    ``max_queries`` bounds a collecting job's active brand queries (``ValidationError``).
    """
    with pool.connection() as conn, conn.transaction():
        if max_queries is not None:
            _check_size(conn, job_id, customer_id, max_queries)
        run = jobs.trigger_job(conn, job_id, now, customer_id=customer_id, sync=sync)  # sync: its quota
        return run, runs_repo.claim_run(conn, run.id, worker_id, now, lease_seconds)


def execute_here(
    pool: ConnectionPool,
    claimed: ClaimedRun,
    worker_id: str,
    clock: Clock,
    registry: handlers.Registry,
    *,
    dsn: str | None = None,
    renew_lease: float | None = None,
    log_extra: dict[str, Any] | None = None,
) -> tuple[RunOutcome, Completion]:
    """Execute a claimed run in this thread and write its outcome back; returns both.

    With ``renew_lease`` (seconds) the lease is renewed while the handler runs;
    without, the claim's lease must outlast the run. Raises ``psycopg.Error``
    when the outcome could not be written.
    """
    ctx = Context(claimed, pool, worker_id, clock, dsn=dsn or pool.conninfo)
    done = threading.Event()
    keeper = None
    if renew_lease:
        keeper = threading.Thread(target=_keep_lease, args=(ctx, renew_lease, done), daemon=True)
        keeper.start()
    try:
        outcome = execute(ctx, registry)
    finally:
        done.set()
        if keeper is not None:
            keeper.join()
    completer = Completer(pool, worker_id, clock, log_extra=log_extra)
    written = completer.submit(claimed, outcome)
    assert written is not None  # an unbatched completer writes at once
    return outcome, written


def _keep_lease(ctx: Context, lease_seconds: float, done: threading.Event) -> None:
    """The worker's heartbeat for one run: renew its lease, notice a cancellation."""
    while not done.wait(min(lease_seconds / 3, 5.0)):
        try:
            with ctx.connection() as conn:
                flags = runs_repo.renew_leases(conn, ctx.worker_id, [ctx.run.id], ctx.clock.now(), lease_seconds)
        except psycopg.Error as exc:  # a missed renewal is retried on the next beat
            log.warning("heartbeat_failed", extra={**ctx.ids(), "error": str(exc).strip()})
            continue
        if flags.get(ctx.run.id):
            ctx.cancel_seen.set()


# -- the Python API: unbounded, in the caller's thread -------------------------------------
def run_here(
    pool: ConnectionPool,
    job_id: UUID,
    *,
    clock: Clock,
    registry: handlers.Registry,
    lease_seconds: float,
    dsn: str | None = None,
) -> JobRun:
    """Trigger a manual run of ``job_id`` and execute it in this thread, as a worker would;
    returns the run as written. Raises ``NotFound`` for an unknown job and ``Conflict``
    when the run was taken back (its lease expired) before it finished."""
    worker_id = processes.new_process_id("worker")
    run, claimed = start(pool, job_id, clock.now(), worker_id, lease_seconds)
    if claimed is None:
        raise Conflict(f"run {run.id} was claimed by another worker")
    _, written = execute_here(pool, claimed, worker_id, clock, registry, dsn=dsn, renew_lease=lease_seconds)
    if not written.written or written.run is None:
        raise Conflict(f"run {run.id} was taken back (its lease expired) before it finished")
    return written.run


# -- ?mode=sync: bounded, so a request never turns into a long job ----------------------------
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


class _Execution(threading.Thread):
    """Executes and records one claimed run; ``done`` is set once it is written."""

    def __init__(self, pool: ConnectionPool, claimed: ClaimedRun, worker_id: str, clock: Clock,
                 registry: handlers.Registry) -> None:  # fmt: skip
        super().__init__(name=f"sync-run-{claimed.run.id}", daemon=True)
        self.args_ = (pool, claimed, worker_id, clock, registry)
        self.done = threading.Event()
        self.timed_out = False
        self.recorded: JobRun | None = None  # None when the run was no longer ours

    def run(self) -> None:
        pool, claimed, worker_id, clock, registry = self.args_
        deadline = time.monotonic() + claimed.timeout_seconds
        try:
            outcome, written = execute_here(pool, claimed, worker_id, clock, registry, log_extra={"mode": "sync"})
            self.timed_out = time.monotonic() > deadline and outcome.status is RunStatus.FAILED
            self.recorded = written.run
        except Exception:  # the lease expires and a worker fails the run
            log.exception("sync_run_error", extra={"run_id": claimed.run.id, "worker_id": worker_id})
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
    """Trigger ``job_id`` and execute the run here within the sync bounds; returns the
    finished run (any final status).

    Raises ``NotFound`` for an unknown job, ``ValidationError`` (field ``mode``) when
    the job is too big for a sync run, ``Conflict`` when the run did not finish
    within ``timeout`` seconds or too many sync runs are in progress.
    """
    clock = clock or SystemClock()
    registry = registry or job_types.registry  # looked up now: tests swap the process-wide one
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    max_queries = MAX_QUERIES if max_queries is None else max_queries
    deadline = time.monotonic() + timeout
    if not _slots.acquire(blocking=False):
        raise Conflict(_use_async(f"{MAX_CONCURRENT} sync runs are in progress already"))
    try:
        worker_id = processes.new_process_id("sync")
        # the lease outlasts the wait: nothing renews it while the handler runs
        lease = max(lease_seconds, timeout + FINISH_GRACE_SECONDS)
        run, claimed = start(pool, job_id, clock.now(), worker_id, lease, customer_id=customer_id,
                             max_queries=max_queries, sync=True)  # fmt: skip
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
        return runs.get_run(conn, run_id)


def _wait_for(pool: ConnectionPool, run_id: int, deadline: float) -> JobRun:
    while True:
        run = _final(pool, run_id)
        if RunStatus(run.status).is_final:
            return run
        if time.monotonic() >= deadline:
            raise Conflict(_use_async(f"run {run_id} was taken by {run.worker_id} and is still {run.status}"))
        time.sleep(POLL_SECONDS)
