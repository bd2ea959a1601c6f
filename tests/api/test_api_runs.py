"""``/api/admin/job-runs`` through real HTTP, and a live worker starting a triggered run."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from cronkeeper.clock import SystemClock
from cronkeeper.handlers import Registry
from cronkeeper.repo import processes
from cronkeeper.services.worker.loop import Worker
from tests.support.api import api_client, ids_of_every_page, settings
from tests.support.factories import make_brand, make_job, make_run

RUNS = "/api/admin/job-runs"
NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


@pytest.fixture
def job(conn):
    return make_job(conn)


def finished(conn, job, status="failed", **kw):
    return make_run(conn, job, status=status, started_at=NOW - MIN, finished_at=NOW, **kw)


def test_list_is_newest_first_with_filters(api, conn, job):
    other = make_job(conn, make_brand(conn), job_type="scoring")
    a = make_run(conn, job)
    b = finished(conn, job)
    c = make_run(conn, other)
    ids = lambda **q: [r["id"] for r in api.get(RUNS, params=q).json()["data"]]  # noqa: E731
    assert ids() == [c.id, b.id, a.id]
    assert ids(customer_id=str(job.customer_id)) == [b.id, a.id]
    assert ids(brand_id=str(other.brand_id)) == [c.id]
    assert ids(status="failed") == [b.id]
    assert ids(job_type="scoring") == [c.id]
    assert api.get(RUNS).json()["data"][0]["brand_name"]
    for bad, field in [({"status": "sleeping"}, "status"), ({"cursor": "eyJ4Ijox"}, "cursor"),
                       ({"brand_id": "1"}, "brand_id"), ({"limit": "many"}, "limit")]:  # fmt: skip
        r = api.get(RUNS, params=bad)
        assert r.status_code == 400 and r.json()["field"] == field, (bad, r.text)


def test_pagination_neither_skips_nor_repeats_under_concurrent_inserts(api, conn, dsn, job):
    original = {make_run(conn, job).id for _ in range(20)}
    seen = ids_of_every_page(api, RUNS, 3, dsn, lambda c: make_run(c, job))
    assert len(seen) == len(set(seen)), "a run was repeated"
    assert original <= set(seen), "a run that existed before the first page was skipped"
    assert seen == sorted(seen, reverse=True)


def test_get_shows_metrics_and_error(api, conn, job):
    run = finished(conn, job, metrics={"queries": 12}, error_message="provider timed out")
    r = api.get(f"{RUNS}/{run.id}")
    assert r.status_code == 200
    body = r.json()
    assert body["metrics"] == {"queries": 12} and body["error_message"] == "provider timed out"
    assert body["duration_seconds"] == 60.0 and body["finished_at"] == "2027-01-04T09:00:00Z"
    assert api.get(f"{RUNS}/999999").status_code == 404
    r = api.get(f"{RUNS}/abc")
    assert r.status_code == 400 and r.json()["field"] == "run_id"
    assert api.get(f"{RUNS}/99999999999999999999999").status_code == 400


def test_cancel_pending_processing_and_finished(api, conn, job):
    pending = make_run(conn, job)
    r = api.post(f"{RUNS}/{pending.id}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    processing = make_run(conn, job, status="processing", worker_id="w", started_at=NOW,
                          lease_expires_at=NOW + MIN)  # fmt: skip
    r = api.post(f"{RUNS}/{processing.id}/cancel")
    assert r.status_code == 200
    assert r.json()["status"] == "processing" and r.json()["cancel_requested"] is True
    done = finished(conn, job, status="completed")
    r = api.post(f"{RUNS}/{done.id}/cancel")
    assert r.status_code == 409 and r.json()["error"] == "Conflict"
    assert api.post(f"{RUNS}/424242/cancel").status_code == 404


def test_retry_makes_a_new_attempt_of_a_failed_run_only(api, conn, job):
    failed = finished(conn, job)
    r = api.post(f"{RUNS}/{failed.id}/retry")
    assert r.status_code == 202, r.text
    retry = r.json()
    assert (retry["trigger"], retry["attempt"], retry["retry_of"]) == ("retry", 2, failed.id)
    assert retry["status"] == "pending" and retry["run_after"] == "2027-01-04T09:00:00Z"
    r = api.post(f"{RUNS}/{retry['id']}/retry")
    assert r.status_code == 409


def test_a_failure_code_is_in_the_run_and_the_list(api, conn, job):
    failed = finished(conn, job, failure_code="missing_api_key", error_message="chatgpt: OPENAI_API_KEY is not set")
    other = finished(conn, job)
    assert api.get(f"{RUNS}/{failed.id}").json()["failure_code"] == "missing_api_key"
    listed = {d["id"]: d["failure_code"] for d in api.get(RUNS).json()["data"]}
    assert listed == {failed.id: "missing_api_key", other.id: None}


def test_a_manual_retry_never_forks_a_chain_with_a_retry_in_progress(api, conn, job):
    failed = finished(conn, job)
    assert api.get(f"{RUNS}/{failed.id}").json()["retried_by"] is None
    pending = make_run(conn, job, trigger="retry", attempt=2, retry_of=failed.id, now=NOW + MIN)
    r = api.post(f"{RUNS}/{failed.id}/retry")
    assert r.status_code == 409, r.text
    body = r.json()
    assert (body["error"], body["retry_run_id"]) == ("Conflict", pending.id)
    assert f"run {pending.id}" in body["message"]
    assert api.get(f"{RUNS}/{failed.id}").json()["retried_by"] == pending.id
    listed = {d["id"]: d["retried_by"] for d in api.get(RUNS).json()["data"]}
    assert listed == {failed.id: pending.id, pending.id: None}
    # later in the chain: the automatic retry failed and its own retry is processing
    conn.execute("UPDATE job_runs SET status = 'failed', started_at = %s, finished_at = %s WHERE id = %s",
                 (NOW, NOW + MIN, pending.id))  # fmt: skip
    third = make_run(conn, job, trigger="retry", attempt=3, retry_of=pending.id, status="processing",
                     worker_id="w", started_at=NOW + MIN, lease_expires_at=NOW + 2 * MIN, now=NOW + MIN)  # fmt: skip
    for run_id in (failed.id, pending.id):
        r = api.post(f"{RUNS}/{run_id}/retry")
        assert (r.status_code, r.json().get("retry_run_id")) == (409, third.id), r.text
    assert len(api.get(RUNS).json()["data"]) == 3  # nothing forked
    # once every attempt of the chain is finished, a manual retry is allowed again
    conn.execute("UPDATE job_runs SET status = 'failed', finished_at = %s, lease_expires_at = NULL WHERE id = %s",
                 (NOW + 2 * MIN, third.id))  # fmt: skip
    r = api.post(f"{RUNS}/{failed.id}/retry")
    assert r.status_code == 202, r.text
    assert api.get(f"{RUNS}/{failed.id}").json()["retried_by"] == r.json()["id"]


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_live_worker_starts_a_triggered_run_well_under_a_second(dsn, conn):
    started: list[float] = []
    begun = threading.Event()
    registry = Registry()
    registry.register("data_collection", lambda ctx: started.append(time.monotonic()) or begun.set() or {})
    job = make_job(conn)
    # a 30 s poll: only the NOTIFY sent when the run is inserted can wake it in time
    worker = Worker(dsn, settings(worker_poll_seconds=30), registry=registry)
    stop = threading.Event()
    thread = threading.Thread(target=worker.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while "worker" not in processes.last_seen(conn) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # let it finish its first claim and go idle
        with api_client(dsn, clock=SystemClock()) as api:
            sent = time.monotonic()
            r = api.post(f"/api/admin/scheduled-jobs/{job.id}/trigger")
            assert r.status_code == 202
            assert begun.wait(5), "the worker never started the triggered run"
        latency = started[0] - sent
        assert latency < 1.0, f"took {latency:.3f} s from trigger to start"
    finally:
        stop.set()
        thread.join(15)
        worker.close()
