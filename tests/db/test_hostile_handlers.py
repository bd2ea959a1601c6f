"""Handlers that misbehave fail their own run only; the worker goes on (or recycles itself, on purpose).

Each hostile behaviour of issue 22: metrics that are not JSON, NaN/Infinity,
BaseException (SystemExit, KeyboardInterrupt), a sync handler that ignores its
timeout, a worker past its run or memory ceiling.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from decimal import Decimal

import pytest

from cronkeeper.clock import FixedClock
from cronkeeper.db import connect, make_pool
from cronkeeper.handlers import HandlerResult, Registry
from cronkeeper.models import RunStatus
from cronkeeper.repo import runs as runs_repo
from cronkeeper.services.worker.completer import Completer
from cronkeeper.services.worker.executor import RunOutcome, json_safe, safe_metrics
from cronkeeper.services.worker.guard import RECYCLE_EXIT_CODE, Guard
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_job, make_run, runs_of
from tests.support.stack import serve_worker as serve


def settings(**kw) -> Settings:
    kw.setdefault("worker_poll_seconds", 0.2)
    return Settings(database_url=None, data_dir=".", **kw)


class Boom(BaseException):
    """Not an Exception: what `except Exception` lets through."""


RELEASE = threading.Event()  # lets the handler that ignores its timeout return at the end of its test


def hostile(ctx):
    what = ctx.job_metadata["do"]
    if what == "ok":
        return {"fine": True}
    if what == "not_json":
        return {"tags": {"b", "a"}, "at": dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC), "price": Decimal("1.50"),
                "obj": object, 3: ("x", b"y")}  # fmt: skip
    if what == "nan":
        return {"score": float("nan"), "nested": {"hi": float("inf")}, "ok": 1}
    if what == "nan_progress":
        ctx.progress(score=float("-inf"))
        return {"never": True}
    if what == "result_not_json":
        return HandlerResult(RunStatus.PARTIAL, {"seen": {1, 2}}, "half done")
    if what == "system_exit":
        raise SystemExit(3)
    if what == "keyboard_interrupt":
        raise KeyboardInterrupt
    if what == "base_exception":
        raise Boom("not an Exception")
    if what == "hang":
        RELEASE.wait(30)  # ignores its 1 s timeout and never checks ctx.checkpoint()
        return {"late": True}
    raise AssertionError(what)


@pytest.fixture
def registry():
    reg = Registry()
    reg.register("data_collection", hostile)
    return reg


def wait_until(what, check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def finished(conn, ids):
    rows = conn.execute("SELECT * FROM job_runs WHERE id = ANY(%s) ORDER BY id", (ids,)).fetchall()
    return rows if all(r["status"] not in ("pending", "processing") for r in rows) else None


def test_each_hostile_outcome_fails_only_its_run_and_the_worker_keeps_working(dsn, conn, registry):
    kinds = ["ok", "not_json", "nan", "nan_progress", "result_not_json", "system_exit", "keyboard_interrupt",
             "base_exception", "system_exit", "base_exception", "keyboard_interrupt", "system_exit", "ok"]  # fmt: skip
    jobs = {k: make_job(conn, max_retries=0, metadata={"do": k}) for k in set(kinds)}
    runs = [(make_run(conn, jobs[k]).id, k) for k in kinds]
    worker = Worker(dsn, settings(), registry=registry, concurrency=2)
    stop, t = serve(worker)
    try:
        rows = {r["id"]: r for r in wait_until("every run finished", lambda: finished(conn, [i for i, _ in runs]))}
        # the worker still works: with 2 executors and 9 BaseExceptions, any lost thread would leave these pending
        more = [make_run(conn, jobs["ok"]).id for _ in range(4)]
        later = wait_until("the runs after", lambda: finished(conn, more))
    finally:
        stop.set()
        t.join(30)
        worker.close()
    assert [r["status"] for r in later] == ["completed"] * 4
    assert worker.exit_code == 0 and worker.guard.reason is None
    by_kind = {}
    for run_id, kind in runs:
        by_kind.setdefault(kind, []).append(rows[run_id])
    ok = by_kind["ok"][0]
    assert (ok["status"], ok["metrics"]["fine"]) == ("completed", True)
    odd = by_kind["not_json"][0]
    assert odd["status"] == "completed"
    assert odd["metrics"]["tags"] == ["a", "b"] and odd["metrics"]["at"] == "2027-01-04T09:00:00+00:00"
    assert odd["metrics"]["price"] == "1.50" and odd["metrics"]["3"] == ["x", "b'y'"]
    assert odd["metrics"]["obj"] == "<class 'object'>"
    nan = by_kind["nan"][0]
    assert nan["status"] == "failed"
    assert "NaN or Infinity" in nan["error_message"] and "score" in nan["error_message"]
    assert "nested.hi" in nan["error_message"] and nan["metrics"]["ok"] == 1 and nan["metrics"]["score"] is None
    assert by_kind["nan_progress"][0]["status"] == "failed"
    assert "ValueError" in by_kind["nan_progress"][0]["error_message"]
    partial = by_kind["result_not_json"][0]
    assert (partial["status"], partial["metrics"]["seen"], partial["error_message"]) == ("partial", [1, 2], "half done")
    for r in by_kind["system_exit"]:
        assert (r["status"], r["error_message"]) == ("failed", "SystemExit: 3")
    for r in by_kind["keyboard_interrupt"]:
        assert (r["status"], r["error_message"]) == ("failed", "KeyboardInterrupt")
    for r in by_kind["base_exception"]:
        assert (r["status"], r["error_message"]) == ("failed", "Boom: not an Exception")


@pytest.mark.slow  # a few seconds: the full suite only
def test_a_handler_that_ignores_its_timeout_is_abandoned_and_the_worker_recycles(dsn, conn, registry, caplog):
    RELEASE.clear()
    hang = make_job(conn, max_retries=3, timeout_seconds=1, metadata={"do": "hang"})
    fine = make_job(conn, max_retries=0, metadata={"do": "ok"})
    stuck = make_run(conn, hang)
    worker = Worker(dsn, settings(lease_seconds=3, handler_grace_seconds=0.5), registry=registry, concurrency=2)
    caplog.set_level(logging.INFO, logger="cronkeeper.worker")
    stop, t = serve(worker)
    started = time.monotonic()
    try:
        ok_run = make_run(conn, fine)
        [row] = wait_until("the hung run failed", lambda: finished(conn, [stuck.id]))
        failed_after = time.monotonic() - started
        t.join(15)  # it stops by itself, to be restarted
        assert not t.is_alive()
    finally:
        stop.set()
        RELEASE.set()
        t.join(10)
        worker.close()
    assert row["status"] == "failed"
    assert row["error_message"] == "timed out after 1 s, handler did not stop"
    assert row["lease_expires_at"] is None and row["worker_id"] == worker.worker_id
    assert failed_after < 1 + 0.5 + 1 + 3  # timeout + grace + one heartbeat (1 s) + slack
    assert runs_of(conn, fine.id)[0]["status"] == "completed" and runs_of(conn, fine.id)[0]["id"] == ok_run.id
    # its retry is a new attempt, left pending for the next worker; the hung one was not put back
    attempts = runs_of(conn, hang.id)
    assert [(r["attempt"], r["status"]) for r in attempts] == [(1, "failed"), (2, "pending")]
    assert worker.exit_code == RECYCLE_EXIT_CODE and "did not stop" in worker.guard.reason
    events = [r.getMessage() for r in caplog.records]
    assert "handler_abandoned" in events and "worker_recycling" in events
    assert "run_released" not in events
    wait_until("the abandoned handler's return", lambda: "abandoned_handler_returned" in
               [r.getMessage() for r in caplog.records], timeout=5)  # fmt: skip
    # what it returned late was dropped, not written
    assert conn.execute("SELECT metrics FROM job_runs WHERE id = %s", (stuck.id,)).fetchone()["metrics"].get(
        "late") is None


def test_the_worker_recycles_after_max_runs(dsn, conn, registry):
    job = make_job(conn, max_retries=0, metadata={"do": "ok"})
    ids = [make_run(conn, job).id for _ in range(3)]
    worker = Worker(dsn, settings(worker_max_runs=3), registry=registry, concurrency=1)
    stop, t = serve(worker)
    try:
        t.join(20)
        assert not t.is_alive()
    finally:
        stop.set()
        t.join(10)
        worker.close()
    assert [r["status"] for r in finished(conn, ids)] == ["completed"] * 3
    assert worker.exit_code == RECYCLE_EXIT_CODE and "CRONKEEPER_WORKER_MAX_RUNS=3" in worker.guard.reason


def test_memory_ceiling_asks_for_a_recycle():
    guard = Guard(settings(worker_max_rss_mb=100), memory=lambda: 50.0)
    guard.check_memory()
    assert guard.reason is None and not guard.recycle.is_set()
    guard._memory = lambda: 150.0
    guard.check_memory()
    assert guard.recycle.is_set() and "150 MiB over CRONKEEPER_WORKER_MAX_RSS_MB=100" in guard.reason
    assert Guard(settings()).max_rss_mb == 0  # off by default


def test_json_safe_turns_what_json_cannot_hold_into_strings():
    loop: dict = {}
    loop["self"] = loop
    clean, error = safe_metrics({"a": {1, 2}, "loop": loop, "ok": [1.5, None, True]})
    assert error is None and clean["a"] == [1, 2] and clean["ok"] == [1.5, None, True]
    assert isinstance(json_safe(loop), dict)  # a cycle ends as a string, it never recurses forever
    assert safe_metrics({"x": [float("nan")]})[1].endswith("(at x[0])")
    assert safe_metrics(42) == ({"result": 42}, None)


def test_the_heartbeat_never_waits_for_a_run_being_written_back(dsn, conn):
    """Renewing leases skips rows locked by the write-back (or anyone): no deadlock, no wait."""
    job = make_job(conn)
    now = conn.execute("SELECT now() AS now").fetchone()["now"]
    lease = now + dt.timedelta(seconds=60)
    a, b = (make_run(conn, job, status="processing", worker_id="w1", started_at=now, lease_expires_at=lease,
                     scheduled_for=now + dt.timedelta(seconds=i)) for i in range(2))  # fmt: skip
    with connect(dsn) as other:
        other.execute("SELECT id FROM job_runs WHERE id = %s FOR UPDATE", (a.id,))  # a write-back in flight
        started = time.monotonic()
        flags = runs_repo.renew_leases(conn, "w1", [a.id, b.id], now, 120)
        took = time.monotonic() - started
        other.rollback()
    assert took < 1.0 and set(flags) == {b.id}
    assert runs_repo.renew_leases(conn, "w1", [a.id, b.id], now, 120) == {a.id: False, b.id: False}


@pytest.mark.parametrize("metrics", [{"score": float("nan")}, {"tags": {"a"}}], ids=["nan", "set"])
def test_a_batch_that_can_never_be_written_is_given_up_not_retried_forever(dsn, conn, metrics):
    """Behind the executor's sanitising: an unwritable outcome that reaches the write-back anyway."""
    job = make_job(conn, max_retries=0)
    now = conn.execute("SELECT now() AS now").fetchone()["now"]
    make_run(conn, job, now=now)
    [claimed] = runs_repo.claim_runs(conn, "w1", now, 1, 60)
    written = []
    pool = make_pool(dsn, max_size=2)
    completer = Completer(pool, "w1", FixedClock(now), batch=True, on_written=lambda c, o, d: written.append(d))
    try:
        completer.submit(claimed, RunOutcome(RunStatus.COMPLETED, metrics))
        assert completer.flush() == 1  # no error raised: nothing to retry
    finally:
        pool.close()
    assert completer.pending() == 0 and [d.written for d in written] == [False]
    assert runs_of(conn, job.id)[0]["status"] == "processing"  # its lease expires; the rescuer fails it
