"""The rescuer: runs whose lease expired (their worker died or hung) are failed and retried.

A worker renews the leases of the runs it holds; one that stops doing so
loses them once ``lease_expires_at`` passes. ``rescue_expired`` fails such
runs with a message naming the silent worker and enqueues their retry as the
completer does for any failure. Every worker rescues now and then
(``interval``), so no process is special; ``FOR UPDATE SKIP LOCKED`` keeps
two rescuers off the same rows. Each taken-back run is counted for ``/metrics``
in the same transaction (a lease expiry, a finished run by status, its retry).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

import psycopg

from cronkeeper.repo import counters
from cronkeeper.repo import runs as runs_repo
from cronkeeper.services.worker.completer import enqueue_retry

log = logging.getLogger("cronkeeper.worker")

BATCH = 100  # expired runs taken back per transaction at most
MAX_INTERVAL_SECONDS = 10.0


@dataclass(frozen=True)
class RescueResult:
    failed: int = 0
    retried: int = 0


def interval(lease_seconds: float) -> float:
    """Seconds between two rescues: often enough that a lost run waits at most half a lease more."""
    return min(lease_seconds / 2, MAX_INTERVAL_SECONDS)


def rescue_expired(
    conn: psycopg.Connection, now: dt.datetime, *, limit: int = BATCH, rng: random.Random | None = None
) -> RescueResult:
    """Take back runs whose lease expired: fail them, retry if allowed; one transaction."""
    rng = rng or random.Random()
    failed = retried = 0
    counts = counters.Counts()
    with conn.transaction():
        for row in runs_repo.lock_expired_runs(conn, now, limit):
            message = (
                f"lease expired at {row['lease_expires_at'].isoformat(timespec='seconds')}: "
                f"worker {row['worker_id']} stopped heartbeating"
            )
            run = runs_repo.fail_expired(conn, row["id"], now, message)
            if run is None:
                continue
            failed += 1
            log.warning(
                "lease_expired",
                extra={"run_id": run.id, "job_id": str(run.scheduled_job_id), "worker_id": row["worker_id"]},
            )
            job_type = str(run.job_type)
            counts.add(counters.LEASE_EXPIRIES, job_type=job_type)
            counts.run_finished(str(run.status), job_type, None)  # no duration: the worker's is unknown
            if enqueue_retry(conn, run, row["max_retries"], row["retry_delay"], now, rng):
                retried += 1
                counts.add(counters.RUNS_RETRIED, job_type=job_type)
        counters.add(conn, counts)
    return RescueResult(failed, retried)
