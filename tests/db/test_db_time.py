"""Scheduling, claims, leases and rescue run on the database's time, whatever a process's clock says.

A process clock is made wrong by injection (``SkewedClock`` under the
``DatabaseClock`` a service uses by default): a worker 90 s fast, a scheduler
30 s fast (issue 22: they failed another worker's live runs and skipped 76 %
of a job's slots).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest

from cronkeeper.clock import DatabaseClock, FixedClock, SkewedClock, SystemClock, sync_clock, utcnow
from cronkeeper.handlers import Registry
from cronkeeper.services.scheduler.loop import SchedulerLoop
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_job, make_run, runs_of

S = dt.timedelta(seconds=1)


def settings(**kw) -> Settings:
    return Settings(database_url=None, data_dir=".", **kw)


def db_now(conn) -> dt.datetime:
    return conn.execute("SELECT clock_timestamp() AS now").fetchone()["now"]


@pytest.fixture
def registry():
    reg = Registry()
    reg.register("data_collection", lambda ctx: {"ran": True})
    return reg


def test_database_clock_is_the_servers_time_advanced_by_the_monotonic_clock(conn, caplog):
    ticks = [1000.0]
    clock = DatabaseClock(SkewedClock(SystemClock(), 90), max_skew_seconds=2, monotonic=lambda: ticks[0],
                          log_extra={"worker_id": "w-test"})  # fmt: skip
    assert abs((clock.now() - utcnow()).total_seconds() - 90) < 1  # before a sync: the local clock
    caplog.set_level(logging.WARNING, logger="cronkeeper.clock")
    skew = clock.sync(conn)
    assert 89 < skew < 91 and clock.skew == skew
    anchored = clock.now()
    assert abs((anchored - db_now(conn)).total_seconds()) < 0.5
    ticks[0] += 5  # only the monotonic clock moves it: a stepped wall clock changes nothing
    assert clock.now() - anchored == 5 * S
    clock.sync(conn)  # a second sync within the minute: no second warning
    ticks[0] += 61
    clock.sync(conn)
    warnings = [r for r in caplog.records if r.getMessage() == "clock_skew"]
    assert len(warnings) == 2 and warnings[0].worker_id == "w-test" and 89 < warnings[0].skew_seconds < 91
    assert sync_clock(FixedClock(utcnow()), conn) is None  # tests' clocks are left alone


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_worker_90s_fast_fails_no_live_run_of_another_worker(dsn, conn, registry, caplog):
    job = make_job(conn, max_retries=0)
    live = make_run(conn, job)
    start = db_now(conn)
    later = make_run(conn, job, scheduled_for=start + 60 * S, run_after=start + 60 * S)
    honest = Worker(dsn, settings(lease_seconds=60), registry=registry, worker_id="honest")
    fast_clock = DatabaseClock(SkewedClock(SystemClock(), 90), max_skew_seconds=2)
    fast = Worker(dsn, settings(lease_seconds=60), registry=registry, clock=fast_clock, worker_id="fast")
    caplog.set_level(logging.WARNING, logger="cronkeeper.clock")
    try:
        honest.heartbeat()  # syncs its clock
        [claimed] = honest.claim(2)  # the live run, held by a handler that takes its time
        assert claimed.run.id == live.id
        result = fast.run_once()  # syncs, rescues expired leases, claims what is due
        fast.heartbeat()
    finally:
        honest.close()
        fast.close()
    assert (result.rescued, result.claimed) == (0, 0)
    rows = {r["id"]: r for r in runs_of(conn, job.id)}
    assert (rows[live.id]["status"], rows[live.id]["worker_id"]) == ("processing", "honest")
    assert rows[later.id]["status"] == "pending"
    # on its own clock both would have been taken: the lease looks expired, the later run due
    assert rows[live.id]["lease_expires_at"] < fast_clock.local.now()
    assert rows[later.id]["run_after"] < fast_clock.local.now()
    beat = conn.execute("SELECT clock_skew_seconds, info FROM processes WHERE id = 'fast'").fetchone()
    assert 89 < beat["clock_skew_seconds"] < 91 and 89 < beat["info"]["clock_skew_seconds"] < 91
    honest_beat = conn.execute("SELECT clock_skew_seconds FROM processes WHERE id = 'honest'").fetchone()
    assert abs(honest_beat["clock_skew_seconds"]) < 2
    assert [r.getMessage() for r in caplog.records].count("clock_skew") == 1  # once a minute at most


@pytest.mark.slow  # a few seconds: the full suite only
def test_a_scheduler_30s_fast_skips_no_slot(dsn, conn, registry):
    start = db_now(conn)
    job = make_job(conn, interval_seconds=2, next_run_at=start + S, max_retries=0)  # overlap forbid
    scheduler = SchedulerLoop(
        dsn, settings(scheduler_poll_seconds=0.2), clock=DatabaseClock(SkewedClock(SystemClock(), 30))
    )
    worker = Worker(dsn, settings(worker_poll_seconds=0.2), registry=registry)
    stop = threading.Event()
    threads = [threading.Thread(target=loop.serve, args=(stop,), daemon=True) for loop in (scheduler, worker)]
    for t in threads:
        t.start()
    time.sleep(7.5)
    stop.set()
    for t in threads:
        t.join(30)
    worker.close()
    end = db_now(conn)
    runs = runs_of(conn, job.id)
    assert [r["skip_reason"] for r in runs if r["status"] == "skipped"] == []
    assert all(r["scheduled_for"] <= r["created_at"] + 0.1 * S for r in runs)  # no slot made ahead of time
    assert sum(r["status"] == "completed" for r in runs) >= 3
    slots = [r["scheduled_for"] for r in runs]
    assert slots == [start + S + 2 * i * S for i in range(len(slots))]  # every slot, in order
    assert slots[-1] > end - 4 * S
    skew = conn.execute("SELECT clock_skew_seconds FROM processes WHERE kind = 'scheduler'").fetchone()
    assert 29 < skew["clock_skew_seconds"] < 31
