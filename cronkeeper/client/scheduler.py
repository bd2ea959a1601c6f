"""``Scheduler``: the scheduler and a worker, each in a daemon thread of this process."""

from __future__ import annotations

import atexit
import dataclasses
import datetime as dt
import logging
import threading
from typing import Any

import psycopg

from cronkeeper.client.convert import iso
from cronkeeper.client.manager import JobManager
from cronkeeper.clock import Clock
from cronkeeper.errors import CronkeeperError
from cronkeeper.handlers import Registry
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.services.scheduler.loop import SchedulerLoop
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings

log = logging.getLogger("cronkeeper.python_api")


class Scheduler:
    """The scheduler and a worker, each in a daemon thread of this process.

    Both are the services' own loops (``SchedulerLoop``, ``Worker``) on the manager's
    database; ``settings`` (poll intervals, lease, grace), ``clock``, ``registry``
    and ``concurrency`` default to the manager's and may be injected. The
    threads end with the process: call ``stop()`` (also registered with
    ``atexit``) to let runs in hand finish, and keep the process alive (``join()``)
    for jobs to keep running.
    """

    def __init__(
        self,
        job_manager: JobManager,
        *,
        settings: Settings | None = None,
        clock: Clock | None = None,
        registry: Registry | None = None,
        concurrency: int | None = None,
    ) -> None:
        self.job_manager = job_manager
        self.settings = settings or job_manager.settings
        self.clock = clock or job_manager.clock
        self.registry = registry or job_manager.registry
        self.concurrency = concurrency
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None
        self._threads: list[threading.Thread] = []
        self._scheduler: SchedulerLoop | None = None
        self._worker: Worker | None = None
        self._errors: dict[str, str] = {}
        self._started_at: dt.datetime | None = None

    def start(self) -> None:
        """Start both loops; does nothing when they run already."""
        with self._lock:
            if self._running():
                return
            dsn, stop = self.job_manager.dsn, threading.Event()
            self._scheduler = SchedulerLoop(dsn, self.settings, self.clock)
            self._worker = Worker(dsn, self.settings, registry=self.registry, clock=self.clock,
                                  concurrency=self.concurrency)  # fmt: skip
            self._stop, self._errors, self._started_at = stop, {}, self.clock.now()
            self._threads = [
                threading.Thread(target=self._serve, args=(name, loop, stop), name=f"cronkeeper-{name}", daemon=True)
                for name, loop in (("scheduler", self._scheduler), ("worker", self._worker))
            ]
            for t in self._threads:
                t.start()
            atexit.register(self.stop)
        log.info("python_scheduler_started", extra={"worker_id": self._worker.worker_id})

    def _serve(self, name: str, loop: Any, stop: threading.Event) -> None:
        try:
            loop.serve(stop)
        except Exception as exc:  # recorded for get_status; the other loop goes on
            log.exception("python_scheduler_loop_failed", extra={"loop": name})
            self._errors[name] = f"{type(exc).__name__}: {exc}"

    def stop(self, timeout: float | None = None) -> None:
        """Stop both loops: claiming ends, runs in hand get the shutdown grace to finish."""
        with self._lock:
            if self._stop is None:
                return
            self._stop.set()
            for t in self._threads:
                t.join(timeout)
            if not any(t.is_alive() for t in self._threads):
                self._worker.close()
            self._stop = None
            atexit.unregister(self.stop)
        log.info("python_scheduler_stopped", extra={"worker_id": self._worker.worker_id})

    def join(self, timeout: float | None = None) -> bool:
        """Block until stopped (or ``timeout`` passes); True when no longer running."""
        for t in list(self._threads):
            t.join(timeout)
        return not self.is_running()

    def _running(self) -> bool:
        return self._stop is not None and not self._stop.is_set() and all(t.is_alive() for t in self._threads)

    def is_running(self) -> bool:
        return self._running()

    def get_status(self) -> dict[str, Any]:
        """Whether it runs, the worker's counts since start, loop errors, and the database's
        view: runs pending and processing, jobs due now, the next slot of any active job."""
        status: dict[str, Any] = {
            "running": self._running(),
            "started_at": iso(self._started_at),
            "scheduler_id": self._scheduler.process_id if self._scheduler else None,
            "worker_id": self._worker.worker_id if self._worker else None,
            "worker": dataclasses.asdict(self._worker.counts()) if self._worker else None,
            "errors": dict(self._errors),
        }
        try:
            with self.job_manager.connection() as conn:
                queue = runs_repo.queue_depth(conn)
                due = jobs_repo.count_due(conn, self.clock.now())
                earliest = jobs_repo.earliest_next_run(conn)
        except (psycopg.Error, CronkeeperError) as exc:
            return {**status, "database_error": str(exc).strip()}
        return {
            **status,
            "runs_pending": queue.get("pending", 0),
            "runs_processing": queue.get("processing", 0),
            "jobs_due": due["due"],
            "next_run_at": iso(earliest),
        }
