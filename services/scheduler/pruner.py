"""Retention: prune old finished runs (their answers and scores cascade) in small batches.

Two rules, each off when its setting is 0:

- age: runs that finished more than ``retention_days`` ago;
- count: per job, finished runs beyond its newest ``retention_runs_per_job`` runs.

Pending and processing runs are never pruned. Every batch is its own short
transaction of at most ``retention_batch_size`` runs taken with ``SKIP
LOCKED``, so pollers never wait on it and several schedulers may prune at once.
A pass stops after a time budget; the count rule walks the jobs in slices and
carries its cursor to the next pass, so no pass scans every job.
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


@dataclass
class Pruner:
    """Keeps the count rule's cursor between passes."""

    settings: Settings
    budget_seconds: float = 2.0
    _after: UUID | None = field(default=None, repr=False)

    def prune(self, conn: psycopg.Connection, now: dt.datetime) -> dict[str, int]:
        """One pass on an autocommit connection; returns runs deleted by each rule."""
        s = self.settings
        deadline = time.monotonic() + self.budget_seconds
        by_age = by_count = 0
        if s.retention_days > 0:
            cutoff = now - dt.timedelta(days=s.retention_days)
            while time.monotonic() < deadline:
                n = runs_repo.prune_by_age(conn, cutoff, s.retention_batch_size)
                by_age += n
                if n < s.retention_batch_size:
                    break
        if s.retention_runs_per_job > 0:
            start = self._after
            while time.monotonic() < deadline:
                n, last, jobs = runs_repo.prune_by_count(
                    conn, s.retention_runs_per_job, self._after, JOBS_PER_SLICE, s.retention_batch_size
                )
                by_count += n
                if n >= s.retention_batch_size:
                    continue  # this slice has more; same cursor
                self._after = last if jobs == JOBS_PER_SLICE else None
                if self._after is None or self._after == start:
                    break  # walked round to where this pass began
        if by_age or by_count:
            log.info("runs_pruned", extra={"by_age": by_age, "by_count": by_count})
        return {"by_age": by_age, "by_count": by_count}
