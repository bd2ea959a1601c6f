"""A worker's graceful stop (``Worker.serve`` ends with it: on a signal, or to be recycled).

Claiming has ended. Runs claimed but not started go back to the queue at once;
runs in hand get ``shutdown_grace_seconds`` to finish and be written back;
those still running then are released (``pending`` again, for another
worker). A handler abandoned by the guard (``guard.py``) is not in hand any
more: its run was failed, it is not released to run again. Emits
``worker_stopping``, ``run_released`` (each), ``release_failed``, ``worker_stopped``.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from cronkeeper.repo import processes
from cronkeeper.repo import runs as runs_repo

log = logging.getLogger("cronkeeper.worker")


def shutdown(worker: Any) -> None:
    """Stop ``worker`` (a ``services.worker.loop.Worker``) gracefully."""
    worker.shutdown.set()
    grace = worker.settings.shutdown_grace_seconds
    log.info("worker_stopping", extra={"worker_id": worker.worker_id, "in_hand": len(worker.in_hand()), "grace": grace})
    waiting = [claimed.run.id for claimed in worker.dispatcher.take_waiting()]
    if waiting:  # runs claimed but not started yet go back at once
        release(worker, waiting)
    finished = False
    try:
        finished = worker._wait_idle(timeout=grace)
    except psycopg.Error:
        pass
    if not finished:
        left = worker.in_hand()
        release(worker, left)
        worker.dispatcher.cancel(left)  # async runs: their tasks end; blocking ones cannot be stopped
    try:
        with worker.pool.connection() as conn:
            processes.mark_stopped(conn, worker.worker_id, worker.clock.now())
    except psycopg.Error:
        pass
    log.info("worker_stopped", extra={"worker_id": worker.worker_id, "exit_code": worker.exit_code})


def release(worker: Any, ids: list[int]) -> None:
    """Put runs in hand back to ``pending`` (best effort: else their leases expire)."""
    try:
        with worker.pool.connection() as conn:
            for run_id in ids:
                if runs_repo.release_run(conn, run_id, worker.worker_id, worker.clock.now()):
                    log.warning("run_released", extra={"run_id": run_id, "worker_id": worker.worker_id})
    except psycopg.Error:
        log.warning("release_failed", extra={"worker_id": worker.worker_id, "runs": ids})
    worker._forget(ids)
