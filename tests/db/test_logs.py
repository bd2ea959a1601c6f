"""Every process logs one JSON line per event, with the ids of what it concerns."""

import datetime as dt
import json
import logging
import random
import time

import pytest

from cronkeeper.clock import FixedClock
from cronkeeper.handlers import Registry
from cronkeeper.logs import JsonFormatter
from cronkeeper.services.scheduler import tick
from cronkeeper.services.scheduler.loop import SchedulerLoop
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_job, make_run

S = dt.timedelta(seconds=1)


def events(caplog, kind: str) -> list[dict]:
    formatter = JsonFormatter(kind)
    return [json.loads(formatter.format(r)) for r in caplog.records]


def test_run_lifecycle_events_carry_job_run_and_worker_ids(dsn, conn, t0, caplog):
    caplog.set_level(logging.INFO)
    settings = Settings(database_url=None, data_dir=".", lease_seconds=10)
    ok = make_job(conn, cron_expression="*/5 * * * *", next_run_at=t0)
    bad = make_job(conn, cron_expression="*/5 * * * *", next_run_at=t0, job_type="scoring", max_retries=1)
    scheduler = SchedulerLoop(dsn, settings, clock=FixedClock(t0 + S))
    scheduler.run_once()
    scheduler.close()

    registry = Registry()
    registry.register("data_collection", lambda ctx: ctx.progress(done=1) or {"n": 1})
    registry.register("scoring", lambda ctx: 1 / 0)
    worker = Worker(dsn, settings, registry=registry, clock=FixedClock(t0 + S), rng=random.Random(1))
    worker.run_once()
    worker.close()

    got = events(caplog, "worker")
    for e in got:
        assert e["ts"].endswith("+00:00") and e["level"] in ("info", "warning") and e["process"] == "worker"
    by_event = {}
    for e in got:
        by_event.setdefault(e["event"], []).append(e)
    assert {e["job_id"] for e in by_event["run_scheduled"]} == {str(ok.id), str(bad.id)}
    tick = by_event["tick_done"][0]
    assert (tick["jobs"], tick["runs_created"], tick["runs_skipped"]) == (2, 2, 0)
    for name in ("run_claimed", "run_started"):
        assert {e["job_id"] for e in by_event[name]} == {str(ok.id), str(bad.id)}
        assert all(e["worker_id"] == worker.worker_id and isinstance(e["run_id"], int) for e in by_event[name])
    [progress] = by_event["run_progress"]
    assert progress["job_id"] == str(ok.id) and progress["metrics"] == {"done": 1}
    [done] = by_event["run_completed"]
    assert done["job_id"] == str(ok.id) and done["worker_id"] == worker.worker_id
    [retried] = by_event["run_retried"]
    assert retried["job_id"] == str(bad.id) and "ZeroDivisionError" in retried["error"]
    assert isinstance(retried["retry_run_id"], int)


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_a_mass_tick_logs_one_line_per_batch_not_one_per_run(conn, t0, caplog, monkeypatch, level):
    monkeypatch.setattr(tick, "RUN_EVENTS_PER_BATCH", 3)
    for _ in range(5):
        make_job(conn, cron_expression="*/5 * * * *", next_run_at=t0)
    caplog.set_level(level, logger="cronkeeper.scheduler")
    result = tick.tick_batch(conn, t0 + S, batch_size=10)
    assert result.runs_created == 5
    by_event: dict[str, list] = {}
    for e in events(caplog, "scheduler"):
        by_event.setdefault(e["event"], []).append(e)
    assert "run_scheduled" not in by_event  # 5 runs > 3: one summary, at any level
    [summary] = by_event["runs_scheduled"]
    assert (summary["jobs"], summary["runs_created"], summary["runs_skipped"]) == (5, 5, 0)
    assert conn.execute("SELECT count(*) AS n FROM job_runs").fetchone()["n"] == 5
    monkeypatch.setattr(tick, "RUN_EVENTS_PER_BATCH", 100)  # a batch of a few runs: each run's event,
    monkeypatch.setattr(tick, "COPY_MIN_ROWS", 0)  # written by arrays even where COPY would be (COPY gives no ids)
    caplog.clear()
    late = [make_job(conn, cron_expression="*/5 * * * *", next_run_at=t0) for _ in range(2)]
    assert tick.tick_batch(conn, t0 + S, batch_size=10).runs_created == 2
    assert {e["job_id"] for e in events(caplog, "scheduler") if e["event"] == "run_scheduled"} == {
        str(j.id) for j in late}


def test_lease_expiry_is_logged_with_the_dead_workers_id(dsn, conn, t0, caplog):
    caplog.set_level(logging.INFO)
    job = make_job(conn)
    run = make_run(conn, job, now=t0, status="processing", worker_id="worker-gone-1-abc",
                   started_at=t0, lease_expires_at=t0 + S)  # fmt: skip
    worker = Worker(dsn, Settings(database_url=None, data_dir="."), registry=Registry(), clock=FixedClock(t0 + 5 * S))
    assert worker.rescue() == 1
    worker.close()
    [e] = [e for e in events(caplog, "worker") if e["event"] == "lease_expired"]
    assert (e["run_id"], e["job_id"], e["worker_id"]) == (run.id, str(job.id), "worker-gone-1-abc")


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_run_once_returns_after_every_outcome_is_counted_and_logged(dsn, conn, t0, caplog):
    """A failed run is written back by its executor thread; run_once must not return
    between that write-back and the run's count and log line."""
    caplog.set_level(logging.INFO)
    settings = Settings(database_url=None, data_dir=".", lease_seconds=10)
    registry = Registry()
    registry.register("scoring", lambda ctx: 1 / 0)
    jobs = [make_job(conn, job_type="scoring", max_retries=1) for _ in range(4)]

    class Slow(logging.Handler):  # widens the window between write-back and log line
        def emit(self, record):
            if record.getMessage() == "run_retried":
                time.sleep(0.05)

    slow = Slow()
    logging.getLogger("cronkeeper.worker").addHandler(slow)
    try:
        _drain_failing_rounds(conn, dsn, settings, registry, jobs, t0, caplog)
    finally:
        logging.getLogger("cronkeeper.worker").removeHandler(slow)


def _drain_failing_rounds(conn, dsn, settings, registry, jobs, t0, caplog):
    for round_ in range(3):
        caplog.clear()
        for job in jobs:
            make_run(conn, job, now=t0)
        worker = Worker(dsn, settings, registry=registry, clock=FixedClock(t0 + S), rng=random.Random(round_), concurrency=4)
        result = worker.run_once()
        worker.close()
        retried = [e for e in events(caplog, "worker") if e["event"] == "run_retried"]
        assert (result.failed, len(retried)) == (4, 4), round_
        conn.execute("DELETE FROM job_runs")


def test_text_logs_cannot_be_forged_with_line_breaks_or_escapes():
    import logging as _logging

    from cronkeeper.logs import TextFormatter

    record = _logging.LogRecord("cronkeeper.api", _logging.WARNING, __file__, 1, "auth_failed", (), None)
    record.path = "/api/x\n2026-12-06 00:00:00 INFO    cronkeeper.api: token_ok name=admin\x1b[2J"
    line = TextFormatter().format(record)
    assert "\n" not in line and "\x1b" not in line
    assert "\\n2026-12-06" in line and "\\x1b[2J" in line
