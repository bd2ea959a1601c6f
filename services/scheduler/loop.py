"""The scheduler loop: the driver around ``tick`` that waits, wakes and reports.

``SchedulerLoop.serve(stop)`` first re-plans the stored cron slots if the
time-zone data changed since the last scheduler ran (``start_up``, with
``services.scheduler.replan``; a failure there is logged and retried at the
next start, never fatal), then runs the pause step (``services.scheduler.pauses``:
auto-resume, trial runs, auto-pause), ticks (``services.scheduler.tick``), records a
heartbeat in ``processes``, then sleeps until the next poll or the earliest
``next_run_at`` (or ``paused_until``), whichever is sooner, and wakes at once when a job is created
or changed (``LISTEN cronkeeper_jobs``), so a run is created within a second of
its time. Behind a transaction pooler LISTEN goes to ``CRONKEEPER_LISTEN_URL``
(a direct connection); without one the loop looks every
``FALLBACK_POLL_SECONDS`` instead, and says so once at start
(``notifications_off``). A thread of its own runs the pruner
(``services.scheduler.pruner``). The database going away, or any other error
in a pass, is survived: the loop logs it, reconnects with a backoff from 0.5 s
doubling up to 10 s, and goes on. ``stop`` ends it after the current tick.

Time is the database's (``DatabaseClock``, synced at every tick), so a
process clock that is wrong decides nothing; one more than
``max_clock_skew_seconds`` off is logged (``clock_skew``) and put in the
heartbeat row. Connections have the scheduler's bounded waits
(``cronkeeper.dblimits``; behind a pooler the tick sets them with ``SET LOCAL``).

Options (from ``Settings``): ``scheduler_poll_seconds`` (60), the longest
sleep; ``scheduler_batch_size`` (1000), ``misfire_grace_seconds`` (120) and
``max_catchup_runs`` (100), passed to the tick; ``retention_*``, the pruner's.
A tick of more than one batch runs its batches on two connections at once
(``tick``'s ``helper``: the second is opened at the first such tick and kept).

Emits: ``run_once()`` returns the tick's ``TickResult``; log events
``scheduler_started``, ``tz_data_replanned`` (from the re-plan),
``tz_data_replan_failed``, ``tick_done`` (when jobs were due, with counts),
``notifications_off``, ``reconnecting`` (a database error), ``loop_error``
(anything else), ``prune_failed``, ``scheduler_stopped``, each with the
``process_id``; the heartbeat row (kind ``scheduler``, last tick, poll
seconds), marked stopped on ``close``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field

import psycopg

from cronkeeper import db
from cronkeeper.clock import Clock, DatabaseClock, sync_clock
from cronkeeper.db import connect
from cronkeeper.dblimits import server_settings
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import pauses as pauses_repo
from cronkeeper.repo import processes
from cronkeeper.schedule.zones import TZDATA_VERSION
from cronkeeper.services.scheduler import partitions, pruner, replan
from cronkeeper.services.scheduler.alerts import alert_step
from cronkeeper.services.scheduler.pauses import pause_step
from cronkeeper.services.scheduler.pruner import Pruner, PruneResult
from cronkeeper.services.scheduler.tick import TickResult, tick
from cronkeeper.settings import Settings

log = logging.getLogger("cronkeeper.scheduler")

MIN_WAIT_SECONDS = 0.05  # the shortest sleep between ticks


@dataclass
class SchedulerLoop:
    """One scheduler process's loop (the Python API's ``cronkeeper.client.Scheduler`` hosts one in a thread)."""

    dsn: str
    settings: Settings
    clock: Clock | None = None  # None: the database's (DatabaseClock)
    process_id: str = ""
    rng: random.Random | None = None
    _local_limits: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.process_id = self.process_id or processes.new_process_id("scheduler")
        if self.clock is None:
            self.clock = DatabaseClock(
                max_skew_seconds=self.settings.max_clock_skew_seconds, log_extra={"process_id": self.process_id}
            )
        if self.settings.pooled:  # nothing per session behind a pooler: the tick sets its bounds itself
            self._local_limits = server_settings(self.settings.db_timeouts, "scheduler")
        self.rng = self.rng or random.Random()
        self._conn: psycopg.Connection | None = None
        self._listener: psycopg.Connection | None = None  # where LISTEN runs, if anywhere
        self._helper: psycopg.Connection | None = None  # a big tick's second connection (tick's helper)
        self.listen_dsn = db.listen_dsn(self.dsn, self.settings)
        self.pruner = Pruner(self.settings)

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = connect(
                self.dsn, autocommit=True, pooler=self.settings.pooled, kind="scheduler",
                timeouts=self.settings.db_timeouts,
            )  # fmt: skip
            if self.listen_dsn == self.dsn:  # a direct connection: LISTEN on it
                self._conn.execute("LISTEN cronkeeper_jobs")
                self._listener = self._conn
        return self._conn

    def _helper_connection(self) -> psycopg.Connection:
        """The second connection of a tick of more than one batch, opened at the first such tick."""
        if self._helper is None or self._helper.closed:
            self._helper = connect(
                self.dsn, autocommit=True, pooler=self.settings.pooled, kind="scheduler",
                timeouts=self.settings.db_timeouts,
            )  # fmt: skip
        return self._helper

    def _listening(self) -> psycopg.Connection | None:
        """The connection that receives job changes; None when polling (behind a pooler without a listen URL)."""
        if self.listen_dsn is None:
            return None
        if self.listen_dsn == self.dsn:
            self._connection()
        elif self._listener is None or self._listener.closed:
            self._listener = connect(
                self.listen_dsn, autocommit=True, pooler=False, timeouts=self.settings.db_timeouts
            )
            self._listener.execute("LISTEN cronkeeper_jobs")
        return self._listener

    def _disconnect(self) -> None:
        for conn in (self._conn, self._listener, self._helper):
            if conn is not None and not conn.closed:
                conn.close()

    def close(self) -> None:
        """Mark this process stopped (best effort) and close the connections."""
        if self._conn is not None and not self._conn.closed:
            try:
                processes.mark_stopped(self._conn, self.process_id, self.clock.now())
            except psycopg.Error:
                pass
        self._disconnect()

    def start_up(self, version: str = TZDATA_VERSION) -> replan.ReplanResult | None:
        """Before the first tick: re-plan stored cron slots made with other zone data.

        Returns the re-plan's counts, or ``None`` when it failed: the failure is
        logged and the next start tries again; the scheduler runs on meanwhile.
        """
        try:
            sync_clock(self.clock, self._connection())
            self._keep_partitions_ahead()
            return replan.run_once(self._connection(), self.clock.now(), version)
        except Exception as exc:  # whatever went wrong, ticking must not wait for it
            log.error(
                "tz_data_replan_failed",
                extra={"process_id": self.process_id, "error": f"{type(exc).__name__}: {exc}".strip()},
            )
            return None

    def _keep_partitions_ahead(self) -> None:
        """This month's and the next months' run partitions, before the first tick (then at each prune)."""
        with connect(
            self.dsn, autocommit=True, pooler=self.settings.pooled, kind="scheduler", timeouts=self.settings.db_timeouts
        ) as conn:
            pruner.lock_free(partitions.keep_ahead, conn, self.clock.now())

    def run_once(self) -> TickResult:
        """One tick at the clock's now (the database's, read first), plus a heartbeat."""
        conn = self._connection()
        skew = sync_clock(self.clock, conn)
        now = self.clock.now()
        pause_step(conn, now)  # auto-resume, trials, auto-pause (services/scheduler/pauses.py); never raises
        result = tick(
            conn,
            now,
            batch_size=self.settings.scheduler_batch_size,
            grace_seconds=self.settings.misfire_grace_seconds,
            max_catchup=self.settings.max_catchup_runs,
            rng=self.rng,
            local_settings=self._local_limits,
            helper=self._helper_connection,
        )
        processes.heartbeat(
            conn, self.process_id, "scheduler", self.clock.now(),
            {"last_tick": now.isoformat(), "poll_seconds": self.settings.scheduler_poll_seconds}, skew=skew,
        )  # fmt: skip
        alert_step(conn, now)  # alerts: evaluate and deliver (services/scheduler/alerts.py); never raises
        if result.jobs:
            log.info(
                "tick_done",
                extra={
                    "process_id": self.process_id, "jobs": result.jobs, "runs_created": result.runs_created,
                    "runs_skipped": result.runs_skipped, "runs_replaced": result.replaced,
                },
            )  # fmt: skip
        return result

    def seconds_until_next(self) -> float:
        """Seconds to sleep: until the earliest ``next_run_at``, at most the poll interval; at least
        ``MIN_WAIT_SECONDS`` (a job still due after a tick is locked by another scheduler: no busy loop)."""
        conn = self._connection()
        poll = self.settings.scheduler_poll_seconds
        # a job's next run, or a pause's end / a trial's time to come (pauses.py)
        times = (jobs_repo.earliest_next_run(conn), pauses_repo.earliest_pause_end(conn, self.clock.now()))
        earliest = min((t for t in times if t is not None), default=None)
        if earliest is None:
            return poll
        return max(MIN_WAIT_SECONDS, min(poll, (earliest - self.clock.now()).total_seconds()))

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """Sleep up to ``seconds``; wake early on a job change or on stop.

        Without LISTEN (a pooler, no listen URL) it sleeps at most
        ``FALLBACK_POLL_SECONDS``, so a changed job is seen within that.
        """
        conn = self._listening()
        if conn is None:
            stop.wait(min(seconds, db.FALLBACK_POLL_SECONDS))
            return
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            for _ in conn.notifies(timeout=min(left, 0.5), stop_after=1):
                return

    def prune(self) -> PruneResult:
        """One pruner pass at the clock's now, on a connection of its own."""
        with connect(
            self.dsn, autocommit=True, pooler=self.settings.pooled, kind="scheduler", timeouts=self.settings.db_timeouts
        ) as conn:
            return self.pruner.run_once(conn, self.clock.now())

    def _retain(self, stop: threading.Event) -> None:
        """Prune in the background every ``retention_interval_seconds``: ticks never wait for it."""
        while not stop.wait(self.settings.retention_interval_seconds):
            try:
                self.prune()
            except Exception as exc:  # the next pass tries again; never lose the thread
                log.warning("prune_failed", extra={"process_id": self.process_id, "error": db.describe(exc)})

    def serve(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set; survive the database going away."""
        backoff = 0.5
        log.info("scheduler_started", extra={"process_id": self.process_id})
        if self.listen_dsn is None:
            db.log_poll_fallback(log, process_id=self.process_id)
        threading.Thread(target=self._retain, args=(stop,), name="retention", daemon=True).start()
        self.start_up()
        while not stop.is_set():
            try:
                self.run_once()
                backoff = 0.5
                self.wait(self.seconds_until_next(), stop)
            except Exception as exc:  # a database error (or a bug) in one pass never ends the loop
                db.log_loop_error(log, exc, process_id=self.process_id, retry_in=backoff)
                self._disconnect()
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self.close()
        log.info("scheduler_stopped", extra={"process_id": self.process_id})

