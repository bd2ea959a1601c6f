"""The pruner: delete old finished runs (their answers and scores cascade) in small batches.

Two rules, each off when its setting is 0:

- age: runs that finished more than ``retention_days`` ago (default 90);
- count: per job, finished runs beyond its newest ``retention_runs_per_job``
  runs (default 1000).

Pending and processing runs are never pruned. Every batch is its own short
transaction of at most ``retention_batch_size`` runs (default 500) taken with
``SKIP LOCKED``, so pollers never wait on it and several schedulers may prune
at once. A pass stops after ``budget_seconds`` (default 2); the count rule
walks the jobs ``JOBS_PER_SLICE`` at a time and carries its cursor to the next
pass, so no pass scans every job. The scheduler loop runs a pass every
``retention_interval_seconds`` (default 300) in a thread of its own.

Emits: a ``PruneResult`` (runs deleted by each rule) and, when it deleted any,
the log event ``runs_pruned`` with both counts.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from uuid import UUID

import psycopg

from cronkeeper.repo import runs as runs_repo
from cronkeeper.settings import Settings

log = logging.getLogger("cronkeeper.services.scheduler.pruner")

JOBS_PER_SLICE = 200


@dataclass(frozen=True)
class PruneResult:
    """Runs deleted by one pass, by rule."""

    by_age: int = 0
    by_count: int = 0


@dataclass
class Pruner:
    """Keeps the count rule's cursor between passes."""

    settings: Settings
    budget_seconds: float = 2.0
    _after: UUID | None = field(default=None, repr=False)

    def run_once(self, conn: psycopg.Connection, now: dt.datetime) -> PruneResult:
        """One pass on an autocommit connection; returns the runs deleted by each rule."""
        deadline = time.monotonic() + self.budget_seconds
        by_age = self._by_age(conn, now, deadline) if self.settings.retention_days > 0 else 0
        by_count = self._by_count(conn, deadline) if self.settings.retention_runs_per_job > 0 else 0
        if by_age or by_count:
            log.info("runs_pruned", extra={"by_age": by_age, "by_count": by_count})
        return PruneResult(by_age=by_age, by_count=by_count)

    def _by_age(self, conn: psycopg.Connection, now: dt.datetime, deadline: float) -> int:
        s = self.settings
        cutoff = now - dt.timedelta(days=s.retention_days)
        deleted = 0
        while time.monotonic() < deadline:
            n = runs_repo.prune_by_age(conn, cutoff, s.retention_batch_size)
            deleted += n
            if n < s.retention_batch_size:
                break
        return deleted

    def _by_count(self, conn: psycopg.Connection, deadline: float) -> int:
        s = self.settings
        start, deleted = self._after, 0
        while time.monotonic() < deadline:
            n, last, jobs = runs_repo.prune_by_count(
                conn, s.retention_runs_per_job, self._after, JOBS_PER_SLICE, s.retention_batch_size
            )
            deleted += n
            if n >= s.retention_batch_size:
                continue  # this slice has more; same cursor
            self._after = last if jobs == JOBS_PER_SLICE else None
            if self._after is None or self._after == start:
                break  # walked round to where this pass began
        return deleted
