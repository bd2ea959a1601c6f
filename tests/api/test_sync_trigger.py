"""``POST .../trigger?mode=sync``: a small job run in the request, recorded like a worker's run."""

from __future__ import annotations

import threading
import time

import pytest

from cronkeeper import job_types
from cronkeeper.db import make_pool
from cronkeeper.errors import Conflict
from cronkeeper.handlers import HandlerResult, Registry
from cronkeeper.models import RunStatus
from cronkeeper.repo import brand_queries
from cronkeeper.services.worker import inline
from tests.support.api import count
from tests.support.factories import make_brand, make_job

JOBS = "/api/admin/scheduled-jobs"
RUNS = "/api/admin/job-runs"


@pytest.fixture
def registry(monkeypatch):
    """The process-wide registry, swapped for one holding only this test's handlers."""
    reg = Registry()
    monkeypatch.setattr(job_types, "registry", reg)
    return reg


def job_with_queries(conn, active: int, inactive: int = 0, **kw):
    brand = make_brand(conn)
    for i in range(active + inactive):
        brand_queries.insert_query(conn, brand.id, f"query {i}", is_active=i < active)
    return make_job(conn, brand, **kw)


def sync(api, job_id, **params):
    return api.post(f"{JOBS}/{job_id}/trigger", params={"mode": "sync", **params})


def wait_final(conn, run_id: int, seconds: float = 10.0) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        row = conn.execute("SELECT * FROM job_runs WHERE id = %s", (run_id,)).fetchone()
        if RunStatus(row["status"]).is_final or time.monotonic() > deadline:
            return row
        time.sleep(0.05)


def test_sync_run_returns_the_finished_run_as_get_run_shows_it(api, conn, registry):
    registry.register("data_collection", lambda ctx: {"queries_executed": 2})
    job = job_with_queries(conn, active=2)
    r = sync(api, job.id)
    assert r.status_code == 200, r.text
    run = r.json()
    assert run == api.get(f"{RUNS}/{run['id']}").json()  # same schema, already recorded
    assert (run["status"], run["trigger"], run["attempt"]) == ("completed", "manual", 1)
    assert run["worker_id"].startswith("sync-") and run["lease_expires_at"] is None
    assert run["started_at"] and run["finished_at"] and run["duration_seconds"] is not None
    assert run["metrics"]["queries_executed"] == 2 and "duration_ms" in run["metrics"]
    assert count(conn, "job_runs") == 1


def test_default_and_explicit_async_mode_only_queue_the_run(api, conn, registry):
    registry.register("data_collection", lambda ctx: pytest.fail("async mode must not execute"))
    job = job_with_queries(conn, active=1)
    for params in ({}, {"mode": "async"}):
        r = api.post(f"{JOBS}/{job.id}/trigger", params=params)
        assert r.status_code == 202 and r.json()["status"] == "pending", r.text


def test_a_failed_sync_run_is_200_with_its_error_and_not_retried(api, conn, registry):
    def boom(ctx):
        raise RuntimeError("collector exploded")

    registry.register("data_collection", boom)
    job = job_with_queries(conn, active=1, max_retries=3)
    r = sync(api, job.id)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["error_message"]) == ("failed", "RuntimeError: collector exploded")
    assert count(conn, "job_runs") == 1  # no retry row: the caller saw the failure


def test_too_many_queries_is_400_naming_mode_and_creates_no_run(api, conn, registry):
    registry.register("data_collection", lambda ctx: None)
    big = job_with_queries(conn, active=inline.MAX_QUERIES + 1)
    r = sync(api, big.id)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["field"] == "mode" and "mode=async" in body["message"]
    assert f"at most {inline.MAX_QUERIES}" in body["message"] and "has 6 active" in body["message"]
    assert count(conn, "job_runs") == 0
    # inactive queries do not count; a scoring job needs none
    assert sync(api, job_with_queries(conn, active=5, inactive=4).id).status_code == 200
    registry.register("scoring", lambda ctx: None)
    scoring = make_job(conn, make_brand(conn), job_type="scoring")
    assert sync(api, scoring.id).json()["status"] == "completed"


def test_bad_mode_is_400_naming_mode(api, conn, registry):
    job = job_with_queries(conn, active=1)
    r = api.post(f"{JOBS}/{job.id}/trigger", params={"mode": "now"})
    assert r.status_code == 400 and r.json()["field"] == "mode", r.text
    assert count(conn, "job_runs") == 0


def test_unknown_or_other_customers_job_is_404(api, conn, registry):
    job = job_with_queries(conn, active=1)
    bound = api.token("admin", customer_id=make_brand(conn).customer_id)
    assert api.post(f"{JOBS}/{job.id}/trigger", params={"mode": "sync"}, headers=bound).status_code == 404
    assert count(conn, "job_runs") == 0


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_run_past_the_timeout_is_409_and_is_recorded_failed_not_left_claimed(api, conn, registry, monkeypatch):
    monkeypatch.setattr(inline, "TIMEOUT_SECONDS", 0.5)
    release = threading.Event()
    registry.register("data_collection", lambda ctx: release.wait(1.5))  # ignores checkpoints
    job = job_with_queries(conn, active=1, max_retries=3)
    started = time.monotonic()
    r = sync(api, job.id)
    elapsed = time.monotonic() - started
    assert r.status_code == 409, r.text
    assert "mode=async" in r.json()["message"] and "0.5 s" in r.json()["message"]
    assert elapsed < 0.5 + inline.FINISH_GRACE_SECONDS + 1.0  # did not wait for the handler
    run_id = conn.execute("SELECT id FROM job_runs").fetchone()["id"]
    release.set()
    row = wait_final(conn, run_id)
    assert row["status"] == "failed" and row["error_message"] == "timed out after 0.5 s"
    assert row["lease_expires_at"] is None
    assert count(conn, "job_runs") == 1  # not retried


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_handler_that_checkpoints_is_stopped_at_the_timeout(api, conn, registry, monkeypatch):
    monkeypatch.setattr(inline, "TIMEOUT_SECONDS", 0.4)

    def slow(ctx):
        while True:
            ctx.checkpoint()
            time.sleep(0.02)

    registry.register("data_collection", slow)
    job = job_with_queries(conn, active=1)
    r = sync(api, job.id)
    assert r.status_code == 409 and "recorded as failed" in r.json()["message"], r.text
    row = conn.execute("SELECT * FROM job_runs").fetchone()
    assert (row["status"], row["error_message"]) == ("failed", "timed out after 0.4 s")


def test_a_run_someone_else_claimed_is_waited_for(dsn, conn, registry, monkeypatch):
    """If the run is not ours to claim (a worker got it), its outcome is awaited instead."""
    monkeypatch.setattr(inline.runs_repo, "claim_run", lambda *a, **k: None)
    job = job_with_queries(conn, active=1)

    def worker_finishes_it():
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            done = conn.execute(
                "UPDATE job_runs SET status = 'completed', started_at = now(), finished_at = now() "
                "WHERE scheduled_job_id = %s RETURNING id", (job.id,),
            ).fetchone()  # fmt: skip
            if done:
                return
            time.sleep(0.05)

    with make_pool(dsn, max_size=2) as pool:
        helper = threading.Thread(target=worker_finishes_it)
        helper.start()
        run = inline.run_now(pool, job.id, timeout=5)
        helper.join()
        assert run.status is RunStatus.COMPLETED and run.worker_id is None
        with pytest.raises(Conflict, match="still pending"):
            inline.run_now(pool, job.id, timeout=0.2)


def test_too_many_sync_runs_at_once_is_409(api, conn, registry, monkeypatch):
    monkeypatch.setattr(inline, "_slots", threading.BoundedSemaphore(1))
    inline._slots.acquire()
    job = job_with_queries(conn, active=1)
    r = sync(api, job.id)
    assert r.status_code == 409 and "in progress" in r.json()["message"], r.text
    assert count(conn, "job_runs") == 0


def test_run_now_uses_the_handler_result_status(dsn, conn, registry):
    registry.register("data_collection", lambda ctx: HandlerResult(RunStatus.PARTIAL, {"answers": 1}, "1 of 2 failed"))
    job = job_with_queries(conn, active=1)
    with make_pool(dsn, max_size=2) as pool:
        run = inline.run_now(pool, job.id)
    assert (run.status, run.error_message, run.metrics["answers"]) == (RunStatus.PARTIAL, "1 of 2 failed", 1)
