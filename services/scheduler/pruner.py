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

History is partitioned by month (services/scheduler/partitions.py): each pass
first makes sure the months ahead exist, then the age rule drops whole months
whose runs all finished before its cutoff (a few catalog statements, however
many runs) before it deletes the rest row by row. The count rule stays row by
row: a job's newest runs may lie in any month.

The age rule also prunes what outlives its runs: the charts' rollups
(``run_stats_slots``, ``run_stats_days``, ``brand_score_days``) older than the
cutoff, and alerts resolved before it (open alerts stay). Schedule versions
and the audit trail are kept.

Emits: a ``PruneResult`` (runs deleted by each rule, months dropped, rollup and
alert rows deleted) and, when it deleted any, the log event ``runs_pruned``
with the counts.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from uuid import UUID

import psycopg

from cronkeeper.repo import alerts as alerts_repo
from cronkeeper.repo import brand_score_days as brand_days_repo
from cronkeeper.repo import run_stats as run_stats_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.services.scheduler import partitions
from cronkeeper.settings import Settings

log = logging.getLogger("cronkeeper.services.scheduler.pruner")

JOBS_PER_SLICE = 200
# what the age rule prunes besides runs: each deletes at most a batch of rows older than the cutoff
SIDE_TABLES = (run_stats_repo.prune_slots, run_stats_repo.prune_days, brand_days_repo.prune_days,
               alerts_repo.prune_resolved)  # fmt: skip


@dataclass(frozen=True)
class PruneResult:
    """Runs deleted by one pass, by rule, and the months the age rule dropped whole."""

    by_age: int = 0
    by_count: int = 0
    months_dropped: tuple[str, ...] = ()
    side_rows: int = 0  # rollup rows and resolved alerts older than the cutoff


@dataclass
class Pruner:
    """Keeps the count rule's cursor between passes."""

    settings: Settings
    budget_seconds: float = 2.0
    _after: UUID | None = field(default=None, repr=False)

    def run_once(self, conn: psycopg.Connection, now: dt.datetime) -> PruneResult:
        """One pass on an autocommit connection; returns the runs deleted by each rule."""
        deadline = time.monotonic() + self.budget_seconds
        lock_free(partitions.keep_ahead, conn, now)
        months: list[str] = []
        if self.settings.retention_days > 0:
            cutoff = now - dt.timedelta(days=self.settings.retention_days)
            months = lock_free(partitions.drop_expired, conn, cutoff) or []
        by_age = self._by_age(conn, now, deadline) if self.settings.retention_days > 0 else 0
        by_count = self._by_count(conn, deadline) if self.settings.retention_runs_per_job > 0 else 0
        side = self._side_tables(conn, now, deadline) if self.settings.retention_days > 0 else 0
        if by_age or by_count or months or side:
            log.info("runs_pruned", extra={"by_age": by_age, "by_count": by_count, "months_dropped": months,
                                           "side_rows": side})  # fmt: skip
        return PruneResult(by_age=by_age, by_count=by_count, months_dropped=tuple(months), side_rows=side)

    def _side_tables(self, conn: psycopg.Connection, now: dt.datetime, deadline: float) -> int:
        cutoff = now - dt.timedelta(days=self.settings.retention_days)
        batch, deleted = self.settings.retention_batch_size, 0
        for prune in SIDE_TABLES:
            while time.monotonic() < deadline:
                n = prune(conn, cutoff, batch)
                deleted += n
                if n < batch:
                    break
        return deleted

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


def lock_free(step, conn: psycopg.Connection, *args):
    """Run a partition step; a lock it could not get in time (busy tables) waits for the next pass."""
    try:
        return step(conn, *args)
    except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as exc:
        log.warning("run_partitions_busy", extra={"step": step.__name__, "error": str(exc).strip()})
        return None
