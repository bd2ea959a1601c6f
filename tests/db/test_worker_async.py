"""Async handlers run as tasks on the process's loop: no thread per run in flight (services/worker/dispatch.py)."""

import asyncio
import datetime as dt
import random
import threading
import time

import pytest

from cronkeeper.clock import FixedClock
from cronkeeper.handlers import Registry
from cronkeeper.runs import cancel_run
from cronkeeper.services.worker.guard import RECYCLE_EXIT_CODE
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_job, make_run, runs_of
from tests.support.stack import serve_worker

S = dt.timedelta(seconds=1)


def make_worker(dsn, registry, clock, **kw):
    settings = Settings(database_url=None, data_dir=".", lease_seconds=30,
                        shutdown_grace_seconds=kw.pop("grace", 30))  # fmt: skip
    return Worker(dsn, settings, registry=registry, clock=clock, rng=random.Random(7), **kw)


class InFlight:
    """Counts an async handler's runs in flight and the most at once."""

    def __init__(self) -> None:
        self.now = self.most = self.started = 0

    async def enter_until(self, n: int, seconds: float = 10.0) -> None:
        """Enter, then wait (on the loop) until ``n`` runs have started or ``seconds`` pass."""
        self.now += 1
        self.started += 1
        self.most = max(self.most, self.now)
        deadline = time.monotonic() + seconds
        try:
            while self.started < n and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
        finally:
            self.now -= 1


@pytest.mark.slow  # over 0.5 s: 40 runs waiting for each other
def test_async_runs_are_in_flight_together_without_a_thread_each(dsn, conn, registry, t0):
    flight = InFlight()

    async def wait_for_all(ctx):
        await flight.enter_until(40)
        return {"seen": flight.started}

    registry.register("data_collection", wait_for_all)
    job = make_job(conn, overlap_policy="allow")
    for i in range(40):
        make_run(conn, job, now=t0 - i * S)
    w = make_worker(dsn, registry, FixedClock(t0), concurrency=40)
    result = w.run_once()
    w.close()
    assert (result.claimed, result.completed) == (40, 40)
    assert flight.most == 40  # every run in flight at once
    assert w.dispatcher.threads() == 0  # and not one executor thread made
    assert {r["status"] for r in runs_of(conn, job.id)} == {"completed"}


def test_concurrency_bounds_async_runs_in_flight_and_blocking_ones_use_threads(dsn, conn, registry, t0):
    flight = InFlight()

    async def briefly(ctx):
        await flight.enter_until(10**9, seconds=0.02)

    blocking_threads = set()
    registry.register("data_collection", briefly)
    registry.register("scoring", lambda ctx: blocking_threads.add(threading.current_thread().name))
    job = make_job(conn, overlap_policy="allow")
    blocking = make_job(conn, job_type="scoring", overlap_policy="allow")
    for i in range(20):
        make_run(conn, job, now=t0 - i * S)
    make_run(conn, blocking, now=t0)
    w = make_worker(dsn, registry, FixedClock(t0), concurrency=5, prefetch=10)
    result = w.run_once()
    w.close()
    assert (result.claimed, result.completed) == (21, 21)
    assert flight.most == 5  # prefetched runs wait for a slot
    assert len(blocking_threads) == 1 and w.dispatcher.threads() == 1
    assert next(iter(blocking_threads)).startswith("executor-")
    w.dispatcher._threads[0].join(5)  # close() let it end
    assert not w.dispatcher._threads[0].is_alive()


def test_a_failed_async_run_is_written_with_its_retry(dsn, conn, registry, t0):
    async def fail(ctx):
        raise RuntimeError("provider down")

    registry.register("data_collection", fail)
    job = make_job(conn, max_retries=1, retry_delay=60)
    run = make_run(conn, job, now=t0)
    w = make_worker(dsn, registry, FixedClock(t0))
    result = w.run_once()
    w.close()
    assert result.failed == 1
    rows = {r["id"]: r for r in runs_of(conn, job.id)}
    assert rows[run.id]["status"] == "failed" and rows[run.id]["error_message"] == "RuntimeError: provider down"
    (retry,) = [r for i, r in rows.items() if i != run.id]
    assert (retry["status"], retry["attempt"], retry["retry_of"]) == ("pending", 2, run.id)


@pytest.mark.slow  # over 0.5 s: waits for the heartbeat to see the cancellation
def test_a_cancelled_async_run_stops_at_its_checkpoint(dsn, conn, registry, t0):
    started, steps = threading.Event(), []

    async def slow(ctx):
        started.set()
        for i in range(400):
            steps.append(i)
            await asyncio.to_thread(ctx.checkpoint)
            await asyncio.sleep(0.02)

    registry.register("data_collection", slow)
    job = make_job(conn, max_retries=3)
    run = make_run(conn, job, now=t0)
    w = make_worker(dsn, registry, FixedClock(t0))
    t = threading.Thread(target=w.run_once)
    t.start()
    assert started.wait(10)
    cancel_run(conn, run.id, t0)
    t.join(10)
    w.close()
    (row,) = runs_of(conn, job.id)  # a cancelled run is not retried
    assert row["status"] == "cancelled"
    assert len(steps) < 400


@pytest.mark.slow  # over 0.5 s: a graceful stop waits its grace
def test_a_graceful_stop_releases_an_async_run_still_running_and_cancels_its_task(dsn, conn, registry):
    started, cancelled = threading.Event(), threading.Event()

    async def hang(ctx):
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    registry.register("data_collection", hang)
    job = make_job(conn)
    run = make_run(conn, job, now=dt.datetime.now(dt.UTC) - S)
    w = make_worker(dsn, registry, None, grace=0.3)
    stop = threading.Event()
    t = threading.Thread(target=w.serve, args=(stop,))
    t.start()
    assert started.wait(10)
    stop.set()
    t.join(10)
    assert not t.is_alive()
    assert cancelled.wait(5)
    w.close()
    (row,) = runs_of(conn, job.id)
    assert row["id"] == run.id and row["status"] == "pending" and row["worker_id"] is None  # back in the queue


@pytest.mark.slow  # a few seconds: waits out a timeout, the grace and a heartbeat
def test_an_async_handler_that_swallows_its_cancellation_is_abandoned(dsn, conn, registry):
    cancels = []

    async def stubborn(ctx):
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:  # the timeout's cancel, swallowed
            cancels.append(time.monotonic())
        await asyncio.sleep(30)  # the next cancel ends it

    registry.register("data_collection", stubborn)
    hang = make_job(conn, max_retries=0, timeout_seconds=1)
    stuck = make_run(conn, hang, now=dt.datetime.now(dt.UTC) - S)
    settings = Settings(database_url=None, data_dir=".", lease_seconds=3, handler_grace_seconds=0.5)
    w = Worker(dsn, settings, registry=registry, concurrency=1)
    stop, t = serve_worker(w)
    try:
        t.join(20)  # it stops by itself, to be restarted
        assert not t.is_alive()
    finally:
        stop.set()
        t.join(15)
        w.close()
    (row,) = runs_of(conn, hang.id)
    assert row["id"] == stuck.id and row["error_message"] == "timed out after 1 s, handler did not stop"
    assert cancels and w.exit_code == RECYCLE_EXIT_CODE and "did not stop" in w.guard.reason
    assert w.dispatcher.running() == 0  # its slot was given back


@pytest.fixture
def registry():
    return Registry()
