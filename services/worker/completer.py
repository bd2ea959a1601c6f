"""Every outcome of a run written back, and a failed run's retry enqueued.

The worker loop, the inline runner (``?mode=sync``, ``Job.run()``) all hand
their outcomes to a ``Completer``. A failure is written at once, in one
transaction with its retry while the job has retries left (and the failure is
not one a retry cannot fix: a ``failure_code``, see ``enqueue_retry``): the retry is a new
row (``trigger = 'retry'``, ``attempt + 1``, ``retry_of`` the failed run, due
after an exponential backoff with jitter), so every row is processed exactly
once and the history shows each attempt. Other outcomes are written at once
too, unless the completer batches: then they wait for ``flush``, which writes
up to ``FLUSH_SIZE`` of them in one statement (a busy worker pays one round
trip per batch, not one per run).

A write only lands while the run is still this worker's (its lease not taken
back by the rescuer); otherwise the run is "lost" and its outcome dropped.
After each write the completer logs ``run_<status>``, ``run_retried`` or
``run_lost`` and then calls ``on_written`` (or ``on_flushed`` once per
flushed batch), so whoever waits for the write sees the log line too.

Every write also adds to the counters of ``/metrics`` in its own transaction
(``count_outcome``; ``cronkeeper.repo.counters``): runs finished by status and
job type, their durations, retries enqueued, outcomes lost, and what the run's
metrics say of its collector calls and its webhook. A batch adds them with one
upsert.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from cronkeeper.clock import Clock
from cronkeeper.db import TRANSIENT_ERRORS, reading
from cronkeeper.models import JobRun, RunStatus
from cronkeeper.repo import counters
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.counters import Counts
from cronkeeper.repo.runs import ClaimedRun, NewRun
from cronkeeper.services.worker.executor import RunOutcome

log = logging.getLogger("cronkeeper.worker")

MAX_BACKOFF_SECONDS = 6 * 3600
FLUSH_SIZE = 500  # outcomes written per statement at most


@dataclass(frozen=True)
class Completion:
    """What became of one outcome's write."""

    written: bool  # False: the run was no longer ours (its lease was taken back)
    run: JobRun | None = None  # the row as written (writes one by one only)
    retry_run_id: int | None = None


OnWritten = Callable[[ClaimedRun, RunOutcome, Completion], None]
OnFlushed = Callable[[list[tuple[ClaimedRun, RunOutcome, Completion]]], None]


def backoff_seconds(retry_delay: int, attempt: int, rng: random.Random) -> float:
    """Exponential backoff with jitter: ``retry_delay * 2**(attempt-1)`` plus up to 25 %."""
    base = min(MAX_BACKOFF_SECONDS, retry_delay * 2 ** max(0, attempt - 1))
    return base + rng.uniform(0, base / 4)


def enqueue_retry(
    conn: psycopg.Connection, run: JobRun, max_retries: int, retry_delay: int, now: dt.datetime, rng: random.Random
) -> int | None:
    """Insert the next attempt of a failed ``run`` if it has retries left; returns its id.

    A failure with a ``failure_code`` (``NonRetryable``: no active queries, a missing
    API key, ...) is never retried: the next attempt would fail the same way.
    """
    if run.status is not RunStatus.FAILED or run.failure_code is not None or run.attempt > max_retries:
        return None
    retry = NewRun.retry(run, now + dt.timedelta(seconds=backoff_seconds(retry_delay, run.attempt, rng)))
    rows = runs_repo.insert_runs(conn, [retry])
    return rows[0]["id"] if rows else None


def count_outcome(
    counts: Counts, job_type: str, status: str, seconds: float | None, metrics: dict[str, Any]
) -> None:
    """Count one written outcome: the run by status and type, its duration, its calls and webhook.

    The collector calls come from the run's ``calls_by_collector`` metric
    (``{name: {"ok": n, "failed": m}}``), the webhook from its ``webhook`` /
    ``webhook_error`` metrics (``cronkeeper.job_types``).
    """
    counts.run_finished(status, job_type, seconds)
    if not metrics:
        return
    calls = metrics.get("calls_by_collector")
    if isinstance(calls, dict):
        for collector, by_outcome in calls.items():
            for result in ("ok", "failed"):
                n = by_outcome.get(result) if isinstance(by_outcome, dict) else None
                if isinstance(n, int):
                    counts.add(counters.COLLECTOR_CALLS, n, collector=str(collector), outcome=result)
    webhook = metrics.get("webhook")
    if isinstance(webhook, dict):
        counts.add(counters.WEBHOOK_DELIVERIES, outcome="delivered" if webhook.get("ok") else "failed")
    elif "webhook_error" in metrics:
        counts.add(counters.WEBHOOK_DELIVERIES, outcome="failed")


def complete(
    conn: psycopg.Connection,
    claimed: ClaimedRun,
    worker_id: str,
    outcome: RunOutcome,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> Completion:
    """Write one outcome and, for a failure with retries left, enqueue the retry; one transaction
    (with the outcome's counters)."""
    counts = Counts()
    job_type = str(claimed.run.job_type)
    with conn.transaction():
        run = runs_repo.finish_run(
            conn, claimed.run.id, claimed.run.scheduled_for, worker_id, str(outcome.status), now, outcome.metrics,
            outcome.error_message, outcome.failure_code,
        )
        if run is None:
            counts.add(counters.RUNS_LOST, job_type=job_type)
            counters.add(conn, counts)
            return Completion(False)
        retry_id = enqueue_retry(conn, run, claimed.max_retries, claimed.retry_delay, now, rng or random.Random())
        seconds = (now - run.started_at).total_seconds() if run.started_at else None
        count_outcome(counts, job_type, str(run.status), seconds, outcome.metrics)
        if retry_id is not None:
            counts.add(counters.RUNS_RETRIED, job_type=job_type)
        counters.add(conn, counts)
    return Completion(True, run, retry_id)


class Completer:
    """Writes back the outcomes of one worker's runs: at once, or batched (``batch=True``).

    Failures are always written at once, with their retry. ``on_written`` is
    called after each write; ``log_extra`` is added to each log line.
    """

    def __init__(
        self,
        pool: ConnectionPool,
        worker_id: str,
        clock: Clock,
        *,
        rng: random.Random | None = None,
        batch: bool = False,
        on_written: OnWritten | None = None,
        on_flushed: OnFlushed | None = None,
        log_extra: dict[str, Any] | None = None,
    ) -> None:
        self.pool, self.worker_id, self.clock = pool, worker_id, clock
        self.rng = rng or random.Random()
        self.batch = batch
        self.on_written = on_written
        self.on_flushed = on_flushed  # a flushed batch at once, instead of on_written for each of its runs
        self.log_extra = log_extra or {}
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._queue: list[tuple[ClaimedRun, RunOutcome]] = []
        self._failures: list[tuple[ClaimedRun, RunOutcome]] = []  # submitted with wait=False

    def submit(self, claimed: ClaimedRun, outcome: RunOutcome, *, wait: bool = True) -> Completion | None:
        """Write ``outcome`` back, or queue it for ``flush`` (then None is returned).

        A write at once that fails raises ``psycopg.Error``: the run's lease will
        expire and the rescuer fail it. With ``wait=False`` (a batching completer
        only: an async run's outcome, submitted on the event loop) a failure is
        queued too, and ``flush`` writes it with its retry, one transaction each.
        """
        if self.batch and (outcome.status is not RunStatus.FAILED or not wait):
            with self._lock:
                (self._queue if outcome.status is not RunStatus.FAILED else self._failures).append((claimed, outcome))
                if len(self._queue) + len(self._failures) == 1:  # the flusher waits only while both are empty
                    self._ready.notify_all()
            return None
        try:
            with self.pool.connection() as conn:
                done = complete(conn, claimed, self.worker_id, outcome, self.clock.now(), self.rng)
        except psycopg.Error:
            log.exception("run_finish_failed", extra=self._ids(claimed))
            raise
        self._report(claimed, outcome, done)
        return done

    def pending(self) -> int:
        """Outcomes queued and not written yet."""
        with self._lock:
            return len(self._queue) + len(self._failures)

    def flush(self) -> int:
        """Write up to ``FLUSH_SIZE`` queued outcomes in one statement; returns how many.

        On a database error they stay queued for the next flush and the error is raised.
        A batch that can never be written (bad data: not the database being away) is
        given up, logged (``flush_error``) and reported lost, so it cannot wedge the
        write-back: those runs' leases expire and the rescuer fails them.
        """
        failed = self._flush_failures()
        with self._lock:
            done, self._queue = self._queue[:FLUSH_SIZE], self._queue[FLUSH_SIZE:]
        if not done:
            return failed
        now = self.clock.now()
        rows = [(c.run.id, c.run.scheduled_for, str(o.status), now, o.metrics, o.error_message) for c, o in done]
        try:
            with reading(self.pool) as conn, conn.transaction():
                ours = runs_repo.finish_runs(conn, self.worker_id, rows)
                counters.add(conn, self._counts(done, ours, now))
        except psycopg.DataError:  # never writable: give up, do not retry forever
            ours = set()
            log.exception("flush_error", extra={"worker_id": self.worker_id, "runs": [c.run.id for c, _ in done]})
        except psycopg.Error:
            with self._lock:
                self._queue[:0] = done
            raise
        except Exception:  # (the same, found before the database saw it)
            ours = set()
            log.exception("flush_error", extra={"worker_id": self.worker_id, "runs": [c.run.id for c, _ in done]})
        written = [(claimed, outcome, Completion(claimed.run.id in ours)) for claimed, outcome in done]
        for item in written:
            self._report(*item, notify=self.on_flushed is None)
        if self.on_flushed is not None:
            self.on_flushed(written)
        return failed + len(done)

    def _flush_failures(self) -> int:
        """Write the queued failures one by one, each with its retry; on a database error the rest
        stay queued and the error is raised."""
        with self._lock:
            failures, self._failures = self._failures, []
        for i, (claimed, outcome) in enumerate(failures):
            try:
                with self.pool.connection() as conn:
                    done = complete(conn, claimed, self.worker_id, outcome, self.clock.now(), self.rng)
            except psycopg.DataError:  # never writable: the lease expires and the rescuer fails it
                log.exception("run_finish_failed", extra=self._ids(claimed))
                done = Completion(False)
            except psycopg.Error:
                with self._lock:
                    self._failures[:0] = failures[i:]
                raise
            self._report(claimed, outcome, done)
        return len(failures)

    def flush_until(self, stop: threading.Event) -> None:
        """Flush outcomes as they come until ``stop`` is set (a thread's target; see ``wake``)."""
        backoff = 0.5
        while not stop.is_set():
            with self._lock:
                if not self._queue and not self._failures:
                    self._ready.wait(timeout=0.5)
                    continue
            try:
                self.flush()
                backoff = 0.5
            except (psycopg.Error, *TRANSIENT_ERRORS) as exc:
                log.warning("flush_failed", extra={"worker_id": self.worker_id, "error": str(exc).strip(),
                                                   "retry_in": backoff})  # fmt: skip
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def wake(self) -> None:
        """Let ``flush_until`` look at its stop event now."""
        with self._lock:
            self._ready.notify_all()

    @staticmethod
    def _counts(done: list[tuple[ClaimedRun, RunOutcome]], ours: set[int], now: dt.datetime) -> Counts:
        """The counters of a batch's outcomes (none of them a failure: those are written at once)."""
        counts = Counts()
        for claimed, outcome in done:
            run = claimed.run
            if run.id not in ours:
                counts.add(counters.RUNS_LOST, job_type=str(run.job_type))
                continue
            seconds = (now - run.started_at).total_seconds() if run.started_at else None
            count_outcome(counts, str(run.job_type), str(outcome.status), seconds, outcome.metrics)
        return counts

    def _ids(self, claimed: ClaimedRun) -> dict[str, Any]:
        run = claimed.run
        return {"run_id": run.id, "job_id": str(run.scheduled_job_id), "worker_id": self.worker_id, **self.log_extra}

    def _report(self, claimed: ClaimedRun, outcome: RunOutcome, done: Completion, notify: bool = True) -> None:
        status = str(outcome.status)
        if not done.written:
            log.warning("run_lost", extra={**self._ids(claimed), "status": status})
        elif outcome.status is RunStatus.FAILED:
            event = "run_retried" if done.retry_run_id else "run_failed"
            log.warning(event, extra={**self._ids(claimed), "error": outcome.error_message,
                                      "retry_run_id": done.retry_run_id,
                                      "failure_code": outcome.failure_code})  # fmt: skip
        elif log.isEnabledFor(logging.INFO):
            log.info(f"run_{status}", extra={**self._ids(claimed), "error": outcome.error_message})
        if notify and self.on_written is not None:
            self.on_written(claimed, outcome, done)
