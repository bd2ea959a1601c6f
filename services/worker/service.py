"""The worker process: claim pending runs, execute them, keep their leases alive.

Runs are claimed with ``FOR UPDATE SKIP LOCKED`` every poll interval and at
once when ``NOTIFY cronkeeper_runs`` says a run is new. Each claimed run
executes in its own thread (at most ``concurrency`` at once); a heartbeat
thread renews the leases of runs in hand and notices cancellations. On stop,
claiming ends, runs in hand get ``shutdown_grace_seconds`` to finish, and
those still running are released back to the queue.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from dataclasses import dataclass

import psycopg

from cronkeeper.clock import Clock, SystemClock
from cronkeeper.db import connect, make_pool
from cronkeeper.execution import Context, execute, finish, rescue_expired
from cronkeeper.handlers import Registry
from cronkeeper.handlers import registry as default_registry
from cronkeeper.repo import processes
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import ClaimedRun
from cronkeeper.settings import Settings

log = logging.getLogger("cronkeeper.worker")


@dataclass(frozen=True)
class DrainResult:
    claimed: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    lost: int = 0
    rescued: int = 0


class Worker:
    def __init__(
        self,
        dsn: str,
        settings: Settings,
        *,
        registry: Registry | None = None,
        clock: Clock | None = None,
        concurrency: int | None = None,
        worker_id: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.dsn = dsn
        self.settings = settings
        self.registry = registry or default_registry
        self.clock = clock or SystemClock()
        self.concurrency = concurrency or settings.worker_concurrency
        self.worker_id = worker_id or processes.new_process_id("worker")
        self.rng = rng or random.Random()
        self.pool = make_pool(dsn, min_size=1, max_size=self.concurrency + 3, reconnect_timeout=3600)
        self.shutdown = threading.Event()
        self.wake = threading.Event()
        self._lock = threading.Lock()
        self._in_hand: dict[int, Context] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._counts = {"claimed": 0, "completed": 0, "failed": 0, "cancelled": 0, "lost": 0, "rescued": 0}

    # -- steps -----------------------------------------------------------
    def claim(self, limit: int) -> list[ClaimedRun]:
        if limit <= 0:
            return []
        with self.pool.connection() as conn:
            claimed = runs_repo.claim_runs(
                conn, self.worker_id, self.clock.now(), limit, self.settings.lease_seconds
            )
        for c in claimed:
            log.info(
                "run_claimed",
                extra={"run_id": c.run.id, "job_id": str(c.run.scheduled_job_id), "worker_id": self.worker_id},
            )
        return claimed

    def rescue(self) -> int:
        with self.pool.connection() as conn:
            result = rescue_expired(conn, self.clock.now(), rng=self.rng)
        self._bump("rescued", result.failed)
        return result.failed

    def process(self, claimed: ClaimedRun) -> None:
        """Execute one claimed run and record its outcome (in the calling thread)."""
        run = claimed.run
        ctx = Context(claimed, self.pool, self.worker_id, self.clock, self.shutdown, self.dsn)
        with self._lock:
            self._in_hand[run.id] = ctx
        ids = {"run_id": run.id, "job_id": str(run.scheduled_job_id), "worker_id": self.worker_id}
        try:
            log.info("run_started", extra={**ids, "attempt": run.attempt, "trigger": str(run.trigger)})
            outcome = execute(ctx, self.registry)
            with self.pool.connection() as conn:
                result = finish(conn, claimed, self.worker_id, outcome, self.clock.now(), self.rng)
            if result.run is None:
                self._bump("lost")
                log.warning("run_lost", extra={**ids, "status": str(outcome.status)})
                return
            self._bump(str(outcome.status) if str(outcome.status) in self._counts else "completed")
            level = logging.INFO if outcome.error_message is None else logging.WARNING
            log.log(
                level,
                f"run_{outcome.status}",
                extra={**ids, "error": outcome.error_message, "retry_run_id": result.retry_run_id},
            )
        except Exception:
            log.exception("run_finish_failed", extra=ids)
        finally:
            with self._lock:
                self._in_hand.pop(run.id, None)
                self._threads.pop(run.id, None)
            self.wake.set()

    def heartbeat(self) -> None:
        """Renew the leases of runs in hand; flag the ones cancelled meanwhile."""
        with self._lock:
            ids = list(self._in_hand)
        with self.pool.connection() as conn:
            flags = runs_repo.renew_leases(
                conn, self.worker_id, ids, self.clock.now(), self.settings.lease_seconds
            )
            processes.heartbeat(
                conn, self.worker_id, "worker", self.clock.now(),
                {"in_hand": len(ids), "concurrency": self.concurrency,
                 "poll_seconds": self.settings.worker_poll_seconds},
            )  # fmt: skip
        with self._lock:
            for run_id, cancel in flags.items():
                if cancel and run_id in self._in_hand:
                    self._in_hand[run_id].cancel_seen.set()

    def _bump(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + n

    def counts(self) -> DrainResult:
        with self._lock:
            return DrainResult(**{k: self._counts.get(k, 0) for k in DrainResult.__dataclass_fields__})

    def in_hand(self) -> list[int]:
        with self._lock:
            return list(self._in_hand)

    # -- drivers ---------------------------------------------------------
    def _start(self, claimed: ClaimedRun) -> None:
        self._bump("claimed")
        t = threading.Thread(target=self.process, args=(claimed,), name=f"run-{claimed.run.id}", daemon=True)
        with self._lock:
            self._threads[claimed.run.id] = t
        t.start()

    def run_once(self) -> DrainResult:
        """Drain: rescue expired leases, then claim and run until nothing is due; then return."""
        before = self.counts()
        self.rescue()
        while True:
            batch = self.claim(self.concurrency)
            if not batch:
                break
            for claimed in batch:
                self._start(claimed)
            self._join_all()
        after = self.counts()
        return DrainResult(*(a - b for a, b in zip(_tuple(after), _tuple(before), strict=True)))

    def _join_all(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                threads = list(self._threads.values())
            if not threads:
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            threads[0].join(timeout=left)

    def _listen(self, stop: threading.Event) -> None:
        conn = None
        while not stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = connect(self.dsn, autocommit=True)
                    conn.execute("LISTEN cronkeeper_runs")
                    self.wake.set()  # runs may have arrived while we were away
                for _ in conn.notifies(timeout=1.0, stop_after=1):
                    self.wake.set()
            except psycopg.Error:
                if conn is not None:
                    conn.close()
                conn = None
                stop.wait(1.0)
        if conn is not None:
            conn.close()

    def _beat(self, stop: threading.Event) -> None:
        interval = min(self.settings.lease_seconds / 3, 5.0)
        while not stop.wait(interval):
            try:
                self.heartbeat()
            except psycopg.Error as exc:
                log.warning("heartbeat_failed", extra={"worker_id": self.worker_id, "error": str(exc).strip()})

    def _sleep_seconds(self) -> float:
        poll = self.settings.worker_poll_seconds
        with self.pool.connection() as conn:
            earliest = runs_repo.earliest_pending(conn)
        if earliest is None:
            return poll
        return max(0.0, min(poll, (earliest - self.clock.now()).total_seconds()))

    def serve(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; then shut down gracefully."""
        helpers_stop = threading.Event()
        threading.Thread(target=self._listen, args=(helpers_stop,), daemon=True).start()
        threading.Thread(target=self._beat, args=(helpers_stop,), daemon=True).start()
        stop_watch = threading.Thread(target=lambda: (stop.wait(), self.wake.set()), daemon=True)
        stop_watch.start()
        log.info("worker_started", extra={"worker_id": self.worker_id, "concurrency": self.concurrency})
        last_rescue = 0.0
        backoff = 0.5
        try:
            self.heartbeat()
        except psycopg.Error:
            pass
        while not stop.is_set():
            try:
                if time.monotonic() - last_rescue > min(self.settings.lease_seconds / 2, 10):
                    self.rescue()
                    last_rescue = time.monotonic()
                free = self.concurrency - len(self.in_hand())
                batch = self.claim(free)
                for claimed in batch:
                    self._start(claimed)
                backoff = 0.5
                if batch and len(batch) == free:
                    self.wake.wait(self.settings.worker_poll_seconds)  # full: wait for a free slot
                elif not batch:
                    self.wake.wait(self._sleep_seconds())
                self.wake.clear()
            except psycopg.Error as exc:
                log.warning("reconnecting", extra={"worker_id": self.worker_id, "error": str(exc).strip(), "retry_in": backoff})
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self._shutdown()
        helpers_stop.set()

    def _shutdown(self) -> None:
        self.shutdown.set()
        grace = self.settings.shutdown_grace_seconds
        log.info("worker_stopping", extra={"worker_id": self.worker_id, "in_hand": len(self.in_hand()), "grace": grace})
        if not self._join_all(timeout=grace):
            with self.pool.connection() as conn:
                for run_id in self.in_hand():
                    if runs_repo.release_run(conn, run_id, self.worker_id, self.clock.now()):
                        log.warning("run_released", extra={"run_id": run_id, "worker_id": self.worker_id})
        try:
            with self.pool.connection() as conn:
                processes.mark_stopped(conn, self.worker_id, self.clock.now())
        except psycopg.Error:
            pass
        log.info("worker_stopped", extra={"worker_id": self.worker_id})

    def close(self) -> None:
        self.pool.close()


def _tuple(r: DrainResult) -> tuple[int, ...]:
    return (r.claimed, r.completed, r.failed, r.cancelled, r.lost, r.rescued)


def utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)
