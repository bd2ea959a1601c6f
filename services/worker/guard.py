"""What keeps a worker from being wedged: abandoned handlers and recycling.

A Python thread cannot be killed, so a sync handler that ignores its timeout
(and its cancel) would hold its executor and have its lease renewed forever.
The heartbeat asks the ``Guard`` for handlers past their timeout plus
``handler_grace_seconds`` (``overdue``); the worker then **abandons** each:
the run stops being renewed and is failed "timed out after N s, handler did
not stop", a new executor thread takes the old one's place, and whatever the
handler returns later is dropped.

Abandoned threads stay in the process, so the worker then **recycles** itself:
it stops claiming, lets the runs in hand finish (``shutdown_grace_seconds``)
and exits with ``RECYCLE_EXIT_CODE`` (75, ``EX_TEMPFAIL``) for its process
manager (systemd ``Restart=``, Kubernetes, supervisord) to start a fresh one.
It recycles for the same reason when its resident memory passes
``CRONKEEPER_WORKER_MAX_RSS_MB`` (a leaking handler) or after
``CRONKEEPER_WORKER_MAX_RUNS`` runs (0 turns either off).
"""

from __future__ import annotations

import logging
import os
import resource
import threading
import time
from collections.abc import Callable, Iterable

import psycopg

from cronkeeper.models import RunStatus
from cronkeeper.services.worker.completer import Completer
from cronkeeper.services.worker.executor import Context, RunOutcome
from cronkeeper.settings import Settings

log = logging.getLogger("cronkeeper.worker")

RECYCLE_EXIT_CODE = 75  # EX_TEMPFAIL: "try again", the worker asks to be restarted


def rss_mb() -> float:
    """This process's resident memory now (``/proc``), else its peak (``getrusage``), in MiB."""
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Guard:
    """Finds handlers to abandon and says when the worker should recycle itself (``reason``)."""

    def __init__(self, settings: Settings, *, memory: Callable[[], float] = rss_mb) -> None:
        self.grace = settings.handler_grace_seconds
        self.max_rss_mb = settings.worker_max_rss_mb
        self.max_runs = settings.worker_max_runs
        self._memory = memory
        self._lock = threading.Lock()
        self.runs = 0
        self.abandoned = 0
        self.reason: str | None = None  # set once: why this worker should exit and be restarted
        self.recycle = threading.Event()  # set with reason

    def overdue(self, contexts: Iterable[Context], now: float | None = None) -> list[Context]:
        """Handlers running past their timeout plus the grace, not abandoned yet (a handler in a child
        process, ``isolation.py``, is killed instead: never abandoned)."""
        now = time.monotonic() if now is None else now
        return [c for c in contexts
                if not c.abandoned and not getattr(c, "isolated", False) and now > c.deadline + self.grace]  # fmt: skip

    def abandoned_one(self) -> None:
        """One more handler abandoned (its context marked ``abandoned`` by the worker)."""
        with self._lock:
            self.abandoned += 1
        self._ask(f"{self.abandoned} handler(s) did not stop after their timeout and hold their threads")

    def fail_abandoned(self, ctx: Context, completer: Completer, forget: Callable[[list[int]], None]) -> None:
        """Count ``ctx`` (marked abandoned, out of the worker's hands) and fail its run at once."""
        self.abandoned_one()
        timeout = ctx.claimed.timeout_seconds
        log.error("handler_abandoned", extra={**ctx.ids(), "timeout_seconds": timeout, "grace_seconds": self.grace})
        error = f"timed out after {timeout} s, handler did not stop"
        try:
            completer.submit(ctx.claimed, RunOutcome(RunStatus.FAILED, ctx.metrics, error))
        except psycopg.Error:  # its lease expires and the rescuer fails it
            forget([ctx.run.id])

    def ran(self) -> None:
        """One more run executed."""
        with self._lock:
            self.runs += 1
            runs = self.runs
        if self.max_runs and runs >= self.max_runs:
            self._ask(f"ran {runs} runs (CRONKEEPER_WORKER_MAX_RUNS={self.max_runs})")

    def check_memory(self) -> None:
        if self.max_rss_mb:
            used = self._memory()
            if used > self.max_rss_mb:
                self._ask(f"resident memory {used:.0f} MiB over CRONKEEPER_WORKER_MAX_RSS_MB={self.max_rss_mb:g}")

    def _ask(self, reason: str) -> None:
        with self._lock:
            if self.reason is not None:
                return
            self.reason = reason
        log.warning("worker_recycling", extra={"reason": reason, "exit_code": RECYCLE_EXIT_CODE})
        self.recycle.set()
