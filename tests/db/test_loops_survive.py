"""An unexpected error in a pass of the scheduler's or a worker's loop is logged and backed off from, never an exit.

What a pooler misconfigured can answer (``DuplicatePreparedStatement``,
``ProtocolViolation``), or a bug, in the middle of a tick or a claim: the loop
logs ``reconnecting`` (a database error) or ``loop_error`` (anything else),
waits, and goes on to do its work.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

import psycopg
import pytest

from cronkeeper import jobs
from cronkeeper.repo import brand_queries
from cronkeeper.services.scheduler import loop as scheduler_loop
from cronkeeper.services.worker import loop as worker_loop
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job
from tests.support.stack import wait_for

pytestmark = pytest.mark.timeout(60)


def failing_first(real, *errors: Exception):
    pending = list(errors)

    def call(*args, **kwargs):
        if pending:
            raise pending.pop(0)
        return real(*args, **kwargs)

    return call


def events(caplog, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger]


@pytest.mark.slow  # a few seconds: the full suite only
def test_the_scheduler_survives_database_errors_and_bugs_in_a_tick(dsn, conn, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="cronkeeper.scheduler")
    monkeypatch.setattr(scheduler_loop, "tick", failing_first(
        scheduler_loop.tick,
        psycopg.errors.DuplicatePreparedStatement('prepared statement "_pg3_0" already exists'),
        RuntimeError("a bug"),
    ))  # fmt: skip
    brand = make_brand(conn)
    due = dt.datetime.now(dt.UTC).replace(microsecond=0)
    job = make_job(conn, brand, interval_seconds=3600, next_run_at=due)
    scheduler = scheduler_loop.SchedulerLoop(dsn, Settings(database_url=dsn, data_dir=".", scheduler_poll_seconds=0.2))
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for("the job's run", lambda: conn.execute(
            "SELECT 1 FROM job_runs WHERE scheduled_job_id = %s", (job.id,)).fetchone(), timeout=20)  # fmt: skip
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(10)
    seen = events(caplog, "cronkeeper.scheduler")
    assert seen.count("reconnecting") == 1 and seen.count("loop_error") == 1, seen
    assert seen[-1] == "scheduler_stopped"


@pytest.mark.slow  # a few seconds: the full suite only
def test_a_worker_survives_database_errors_and_bugs_in_a_claim(dsn, conn, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="cronkeeper.worker")
    monkeypatch.setattr(worker_loop.runs_repo, "claim_runs", failing_first(
        worker_loop.runs_repo.claim_runs,
        psycopg.errors.ProtocolViolation("bind message supplies 2 parameters, but prepared statement requires 4"),
        KeyError("a bug"),
    ))  # fmt: skip
    monkeypatch.setenv("CRONKEEPER_SAMPLE_DELAY_MS", "0")
    brand = make_brand(conn)
    brand_queries.insert_query(conn, brand.id, "is it good")
    job = make_job(conn, brand, is_active=False, metadata={"collectors": ["sample"]})
    run = jobs.trigger_job(conn, job.id, dt.datetime.now(dt.UTC))
    worker = worker_loop.Worker(dsn, Settings(database_url=dsn, data_dir=".", worker_poll_seconds=0.2), concurrency=1)
    stop = threading.Event()
    thread = threading.Thread(target=worker.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for("the run completed", lambda: conn.execute(
            "SELECT 1 FROM job_runs WHERE id = %s AND status = 'completed'", (run.id,)).fetchone(), timeout=20)  # fmt: skip
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(15)
        worker.close()
    seen = events(caplog, "cronkeeper.worker")
    assert seen.count("reconnecting") == 1 and seen.count("loop_error") == 1, seen
    assert "worker_stopped" in seen


def test_a_connection_error_is_a_warning_and_anything_else_an_error_with_its_traceback(caplog):
    log = logging.getLogger("cronkeeper.test")
    caplog.set_level(logging.INFO, logger="cronkeeper.test")
    scheduler_loop.db.log_loop_error(log, psycopg.OperationalError("server closed the connection"), retry_in=0.5)
    try:
        raise ValueError("a bug")
    except ValueError as exc:
        scheduler_loop.db.log_loop_error(log, exc, retry_in=1.0)
    first, second = caplog.records
    assert (first.levelname, first.getMessage(), bool(first.exc_info)) == ("WARNING", "reconnecting", False)
    assert (second.levelname, second.getMessage()) == ("ERROR", "loop_error") and second.exc_info
    assert second.error == "ValueError: a bug" and second.retry_in == 1.0
