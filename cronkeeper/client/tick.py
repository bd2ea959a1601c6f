"""One scheduler tick on demand: ``POST /api/admin/scheduler/run`` (the API reaches the
scheduler's step only through here, as it reaches the inline runner through ``inline``).

``tick_now`` runs ``services.scheduler.tick.tick`` once, exactly as a scheduler
process would (the same settings, the same row locks, so it is safe beside
running schedulers), and reports its counts and the runs it made. The runs are
read back by primary key above the newest id seen before the tick, so the list
costs only the newest rows; a scheduler ticking at the same moment may add its
own runs to that list, never to the counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from psycopg_pool import ConnectionPool

from cronkeeper.repo import runs as runs_repo
from cronkeeper.services.scheduler.tick import tick
from cronkeeper.settings import Settings

LIST_LIMIT = 500


@dataclass(frozen=True)
class TickReport:
    """A manual tick's counts (``services.scheduler.tick.TickResult``) and the runs it made."""

    at: dt.datetime
    jobs: int
    runs_created: int
    runs_skipped: int
    replaced: int
    duplicates: int
    errors: tuple[str, ...]
    runs: tuple[dict[str, Any], ...]  # id, scheduled_job_id, scheduled_for, run_after, status, skip_reason
    runs_truncated: bool  # more than ``LIST_LIMIT`` runs were made; ``runs`` lists the first


def tick_now(pool: ConnectionPool, now: dt.datetime, settings: Settings, *, limit: int = LIST_LIMIT) -> TickReport:
    """Materialise every job due at ``now`` (one tick, batch after batch); returns what it made."""
    with pool.connection() as conn:
        after = runs_repo.last_run_id(conn)
        conn.commit()  # the tick's batches are transactions of their own, not savepoints of this read
        result = tick(
            conn, now,
            batch_size=settings.scheduler_batch_size,
            grace_seconds=settings.misfire_grace_seconds,
            max_catchup=settings.max_catchup_runs,
        )  # fmt: skip
        made = runs_repo.scheduled_after(conn, after, limit + 1)
    return TickReport(
        at=now, jobs=result.jobs, runs_created=result.runs_created, runs_skipped=result.runs_skipped,
        replaced=result.replaced, duplicates=result.duplicates, errors=result.errors,
        runs=tuple(made[:limit]), runs_truncated=len(made) > limit,
    )  # fmt: skip
