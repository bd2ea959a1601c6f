"""The worker loop: claim pending runs, execute them, keep their leases alive.

Runs are claimed in batches with ``FOR UPDATE SKIP LOCKED`` every poll
interval and at once when ``NOTIFY cronkeeper_runs`` says a run is new. At
most ``concurrency`` runs are in flight: the ``Dispatcher`` (``dispatch.py``)
runs an async handler as a task on the process's event loop (no thread
waits for it) and a blocking one on an executor thread; outcomes go to a
batching ``Completer`` (``completer.py``), which a write-back thread flushes
while this loop claims.
Now and then the loop rescues runs whose lease expired (``rescuer.py``). A
heartbeat thread renews the leases of runs in hand and notices cancellations. On stop, claiming ends, runs in hand
get ``shutdown_grace_seconds`` to finish, and those still running are released
back to the queue.

Between claims the loop sleeps until the poll interval ends or the earliest
future ``run_after`` of a pending run comes (a jittered or retried run),
whichever is sooner (``wait_seconds``), with runs in hand or not; only a
worker with no slot free waits for one to be.

Time is the database's (``DatabaseClock``, synced at each heartbeat); connections have the worker's bounded
waits (``cronkeeper.dblimits``). The heartbeat also abandons handlers that ignore their timeout, and the worker
then recycles itself (``guard.py``: ``serve`` stops, ``exit_code`` 75).

Behind a pooler LISTEN uses ``CRONKEEPER_LISTEN_URL``, else the worker polls every ``FALLBACK_POLL_SECONDS``
(``notifications_off``, once); an error in a pass is logged and backed off from, never the end of the loop.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from dataclasses import dataclass

import psycopg

from cronkeeper import db, run_webhooks
from cronkeeper.clock import Clock, DatabaseClock, sync_clock
from cronkeeper.db import make_pool, reading
from cronkeeper.handlers import Registry
from cronkeeper.job_types import registry as default_registry
from cronkeeper.repo import processes
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import ClaimedRun
from cronkeeper.services.worker import rescuer, stopping
from cronkeeper.services.worker.completer import Completer, Completion
from cronkeeper.services.worker.dispatch import Dispatcher
from cronkeeper.services.worker.executor import Context, RunOutcome
from cronkeeper.services.worker.guard import RECYCLE_EXIT_CODE, Guard
from cronkeeper.services.worker.listen import listen
from cronkeeper.settings import Settings

log = logging.getLogger("cronkeeper.worker")

MIN_WAIT_SECONDS = 0.05  # the shortest sleep between claims: never a busy loop


def wait_seconds(
    now: dt.datetime, next_due: dt.datetime | None, poll_seconds: float, floor: float = MIN_WAIT_SECONDS
) -> float:
    """How long to sleep before claiming again: the poll interval, or until ``next_due`` if sooner."""
    if next_due is None:
        return poll_seconds
    return min(poll_seconds, max(floor, (next_due - now).total_seconds()))


@dataclass(frozen=True)
class DrainResult:
    claimed: int = 0
    completed: int = 0
    partial: int = 0
    failed: int = 0
    cancelled: int = 0
    lost: int = 0
    rescued: int = 0

    def __sub__(self, other: DrainResult) -> DrainResult:
        names = DrainResult.__dataclass_fields__
        return DrainResult(**{k: getattr(self, k) - getattr(other, k) for k in names})


class Worker:
    """One worker process's loop: ``run_once`` drains what is due and returns its counts,
    ``serve`` works until stopped. ``registry`` defaults to the built-in job types
    (``cronkeeper.job_types.registry``); ``clock`` and ``rng`` may be injected."""

    def __init__(
        self,
        dsn: str,
        settings: Settings,
        *,
        registry: Registry | None = None,
        clock: Clock | None = None,
        concurrency: int | None = None,
        prefetch: int = 0,
        worker_id: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.dsn = dsn
        self.settings = settings
        self.registry = registry or default_registry
        self.worker_id = worker_id or processes.new_process_id("worker")
        self.clock = clock or DatabaseClock(max_skew_seconds=settings.max_clock_skew_seconds,
                                            log_extra={"worker_id": self.worker_id})  # fmt: skip
        self.concurrency = concurrency or settings.worker_concurrency
        self.prefetch = prefetch  # runs claimed beyond free slots (throughput tuning)
        self.rng = rng or random.Random()
        self.pool = make_pool(dsn, max_size=self.concurrency + 4, reconnect_timeout=3600, pooler=settings.pooled,
                              kind="worker", timeouts=settings.db_timeouts)  # fmt: skip
        self.guard = Guard(settings)  # abandons handlers that ignore their timeout; asks for recycling
        self.exit_code = 0  # RECYCLE_EXIT_CODE once serve() stopped to be restarted (guard.py)
        self.listen_dsn = db.listen_dsn(dsn, settings)
        self.shutdown = threading.Event()
        self.wake = threading.Event()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._outstanding: dict[int, ClaimedRun] = {}  # claimed, not yet written back
        self._contexts: dict[int, Context] = {}  # executing now
        self.completer = Completer(self.pool, self.worker_id, self.clock, rng=self.rng, batch=True,
                                   on_written=self._written, on_flushed=self._flushed)  # fmt: skip
        self.dispatcher = Dispatcher(self, self.concurrency)
        self._counts = dict.fromkeys(DrainResult.__dataclass_fields__, 0)
        self._next_due: dt.datetime | None = None  # the earliest future run_after, as last asked

    # -- steps -----------------------------------------------------------
    def claim(self, limit: int) -> list[ClaimedRun]:
        if limit <= 0:
            return []
        with reading(self.pool) as conn:
            claimed = runs_repo.claim_runs(conn, self.worker_id, self.clock.now(), limit, self.settings.lease_seconds)
        with self._lock:
            for c in claimed:
                self._outstanding[c.run.id] = c
            self._counts["claimed"] += len(claimed)
        if log.isEnabledFor(logging.INFO):
            for c in claimed:
                log.info("run_claimed", extra=self._ids(c))
        return claimed

    def rescue(self) -> int:
        with self.pool.connection() as conn:
            result = rescuer.rescue_expired(conn, self.clock.now(), rng=self.rng)
        self._bump("rescued", result.failed)
        return result.failed

    def _ids(self, c: ClaimedRun) -> dict:
        return {"run_id": c.run.id, "job_id": str(c.run.scheduled_job_id), "worker_id": self.worker_id}

    def _begin(self, claimed: ClaimedRun) -> Context:
        """A claimed run's context, in hand from now (the dispatcher starts its handler)."""
        ctx = Context(claimed, self.pool, self.worker_id, self.clock, self.shutdown, self.dsn)
        with self._lock:
            self._contexts[claimed.run.id] = ctx
        return ctx

    def _finish(self, ctx: Context, outcome: RunOutcome, *, wait: bool = True) -> bool:
        """Hand a handler's outcome over (``wait=False`` on the event loop: queued, never written
        here); False when its handler was abandoned meanwhile."""
        claimed = ctx.claimed
        self.guard.ran()
        with self._lock:
            self._contexts.pop(claimed.run.id, None)
            abandoned = ctx.abandoned
            released = claimed.run.id not in self._outstanding  # given back at a stop: not ours to write
        if abandoned:  # failed already; its slot was given back then
            log.warning("abandoned_handler_returned", extra={**self._ids(claimed), "status": str(outcome.status)})
            return False
        if released:
            return True
        try:
            self.completer.submit(claimed, outcome, wait=wait)  # a blocking run's failure at once, with its retry
        except psycopg.Error:
            self._forget([claimed.run.id])  # the lease will expire and the run be rescued
        return True

    def _written(self, claimed: ClaimedRun, outcome: RunOutcome, done: Completion) -> None:
        """The completer wrote (or lost) a run: count it, then let waiters see it gone."""
        self._bump(str(outcome.status) if done.written else "lost")
        # Forgotten last, so that whoever waits for the run to be written back
        # (run_once, a graceful stop) also sees its count and its log line.
        self._forget([claimed.run.id])

    def _flushed(self, written: list[tuple[ClaimedRun, RunOutcome, Completion]]) -> None:
        """``_written`` for a flushed batch: counted, then forgotten, under one lock."""
        with self._lock:
            for _, outcome, done in written:
                key = str(outcome.status) if done.written else "lost"
                self._counts[key] = self._counts.get(key, 0) + 1
            for claimed, _, _ in written:
                self._outstanding.pop(claimed.run.id, None)
            self._idle.notify_all()
        self.wake.set()  # room to claim more

    def _forget(self, ids: list[int]) -> None:
        with self._lock:
            for i in ids:
                self._outstanding.pop(i, None)
            self._idle.notify_all()
        self.wake.set()  # room to claim more

    def _write_back_thread(self, stop: threading.Event) -> threading.Thread:
        t = threading.Thread(target=self.completer.flush_until, args=(stop,), name="write-back", daemon=True)
        t.start()
        return t

    def heartbeat(self) -> None:
        """Abandon handlers past timeout + grace; sync the clock to the database; renew the leases of
        the other runs in hand; flag the ones cancelled meanwhile."""
        self._abandon_overdue()
        with self._lock:
            ids = list(self._outstanding)
        with self.pool.connection() as conn:
            skew = sync_clock(self.clock, conn)
            flags = runs_repo.renew_leases(conn, self.worker_id, ids, self.clock.now(), self.settings.lease_seconds)
            processes.heartbeat(
                conn, self.worker_id, "worker", self.clock.now(),
                {"in_hand": len(ids), "concurrency": self.concurrency,
                 "poll_seconds": self.settings.worker_poll_seconds, "abandoned_handlers": self.guard.abandoned},
                skew=skew,
            )  # fmt: skip
        with self._lock:
            for run_id, cancel in flags.items():
                if cancel and run_id in self._contexts:
                    self._contexts[run_id].cancel_seen.set()
        self.guard.check_memory()
        if self.guard.recycle.is_set():
            self.wake.set()

    def _abandon_overdue(self) -> None:
        """Give up on handlers that ignored their timeout (guard.py): no more lease, the run failed,
        its slot given to the next run."""
        with self._lock:
            overdue = self.guard.overdue(self._contexts.values())
            for ctx in overdue:
                ctx.abandoned = True
                self._contexts.pop(ctx.run.id, None)
                self._outstanding.pop(ctx.run.id, None)  # its lease is renewed no more
        for ctx in overdue:
            self.guard.fail_abandoned(ctx, self.completer, self._forget)
            self.dispatcher.abandoned(ctx)  # its slot to the next run

    def _bump(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + n

    def counts(self) -> DrainResult:
        with self._lock:
            return DrainResult(**{k: self._counts.get(k, 0) for k in DrainResult.__dataclass_fields__})

    def in_hand(self) -> list[int]:
        with self._lock:
            return list(self._outstanding)

    def _dispatch(self, batch: list[ClaimedRun]) -> None:
        self.dispatcher.submit(batch)

    def _free(self) -> int:
        with self._lock:
            return self.concurrency + self.prefetch - len(self._outstanding)

    def _claim_limit(self, free: int) -> int:
        """At most half of ``concurrency + prefetch`` (at least ``concurrency``): two batches in hand, one
        written back while the next is claimed (a whole window was written back while the claim waited)."""
        return min(free, max(self.concurrency, (self.concurrency + self.prefetch) // 2))

    def _wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every claimed run is executed and written back."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.completer.flush()
            with self._lock:
                if not self._outstanding:
                    return True
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(timeout=0.01 if left is None else min(left, 0.01))

    # -- drivers ---------------------------------------------------------
    def run_once(self) -> DrainResult:
        """Drain: rescue expired leases, then claim and run until nothing is due; then return.

        While runs are in hand, an empty claim is tried again as each is written
        back: finishing one may release the next run of its job (overlap
        ``forbid``), or a retry due at once.

        Pipelined like ``serve``: outcomes are written back on their own thread
        while this one claims the next batch as soon as half of
        ``concurrency + prefetch`` is free or a slot is idle; a claim takes at most half of
        that (``_claim_limit``): one batch is written back while the next is claimed.
        """
        before = self.counts()
        with self.pool.connection() as conn:
            sync_clock(self.clock, conn)
        self.rescue()
        stop = threading.Event()
        writer = self._write_back_thread(stop)
        low = max(1, (self.concurrency + self.prefetch) // 2)
        try:
            while True:
                self.wake.clear()
                free = self._free()
                if free < low and free <= self.prefetch:  # (free > prefetch: a slot is idle, claim now)
                    self.wake.wait(0.05)  # set when outcomes are written back (_forget)
                    continue
                holding = bool(self.in_hand())  # before the claim reads: see below
                batch = self.claim(self._claim_limit(free))
                if batch:
                    self._dispatch(batch)
                elif self.in_hand():  # a run in hand may hold back the next run of its job (overlap forbid)
                    self.wake.wait(1.0)  # set when a run is written back
                elif not holding:
                    break
                # else a run was written back while the claim read: its snapshot may predate that
                # commit and miss the run it releases (forbid), so claim once more before stopping
            self._wait_idle()
        finally:
            stop.set()
            self.completer.wake()
            writer.join()
        return self.counts() - before

    def _beat(self, stop: threading.Event) -> None:
        interval = min(self.settings.lease_seconds / 3, 5.0)
        while not stop.wait(interval):
            try:
                self.heartbeat()
            except Exception as exc:  # the next beat tries again; never lose the thread
                log.warning("heartbeat_failed", extra={"worker_id": self.worker_id, "error": db.describe(exc)})

    def _sleep_seconds(self) -> float:
        """Ask for the earliest future run_after and sleep until it (or the poll interval)."""
        now = self.clock.now()
        with self.pool.connection() as conn:
            self._next_due = runs_repo.next_run_after(conn, now)
        return wait_seconds(now, self._next_due, self.settings.worker_poll_seconds)

    def _delayed_run_due(self) -> bool:
        """True once the earliest run_after last asked for has come."""
        return self._next_due is not None and self.clock.now() >= self._next_due

    def serve(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; then shut down gracefully."""
        helpers_stop = threading.Event()
        threading.Thread(target=listen, args=(self.listen_dsn, self.wake, helpers_stop, self.settings.db_timeouts),
                         daemon=True).start()  # fmt: skip
        threading.Thread(target=self._beat, args=(helpers_stop,), daemon=True).start()
        self._write_back_thread(helpers_stop)
        threading.Thread(target=lambda: (stop.wait(), self.wake.set()), daemon=True).start()
        log.info("worker_started", extra={"worker_id": self.worker_id, "concurrency": self.concurrency})
        if self.listen_dsn is None:
            db.log_poll_fallback(log, worker_id=self.worker_id)
        last_rescue, backoff = 0.0, 0.5
        try:
            self.heartbeat()
        except Exception:  # the heartbeat thread tries again
            pass
        while not stop.is_set():
            if self.guard.recycle.is_set():  # guard.py: stop, to be restarted
                self.exit_code = RECYCLE_EXIT_CODE
                break
            try:
                self.wake.clear()
                if time.monotonic() - last_rescue > rescuer.interval(self.settings.lease_seconds):
                    self.rescue()
                    last_rescue = time.monotonic()
                free = self._free()
                # batch claims while every slot has a run; an idle one (free > prefetch) claims at once
                low = free <= self.prefetch and free < max(1, (self.concurrency + self.prefetch) // 4)
                if self.in_hand() and (free <= 0 or low and not self._delayed_run_due()):
                    # claim in batches, not run by run, unless a delayed run has come due
                    poll = self.settings.worker_poll_seconds
                    self.wake.wait(poll if free <= 0 else wait_seconds(self.clock.now(), self._next_due, poll))
                    continue
                limit = self._claim_limit(free)
                batch = self.claim(limit)
                self._dispatch(batch)
                backoff = 0.5
                if batch and len(batch) == limit:
                    continue  # more may be waiting
                self.wake.wait(self._sleep_seconds())
            except Exception as exc:  # a database error (or a bug) in one pass never ends the loop
                db.log_loop_error(log, exc, worker_id=self.worker_id, retry_in=backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self._shutdown()
        helpers_stop.set()

    def _shutdown(self) -> None:
        stopping.shutdown(self)

    def _release(self, ids: list[int]) -> None:
        stopping.release(self, ids)

    def close(self) -> None:
        self.dispatcher.close()
        run_webhooks.drain(self.settings.shutdown_grace_seconds)  # runs' webhooks still on their way
        self.pool.close()
