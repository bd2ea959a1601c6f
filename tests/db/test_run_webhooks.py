"""A run's webhook goes out beside the run, not in its worker slot (cronkeeper.run_webhooks):
a receiver that never answers neither holds the slot nor fails the run, a sync run included."""

from __future__ import annotations

import socket
import time

import pytest

from cronkeeper import brands, run_webhooks
from cronkeeper.clock import FixedClock
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_customer, make_job, make_run


def sample_job(conn, hook_url: str):
    """A collection job on the offline sample collector: it completes in a moment."""
    brand = make_brand(conn, make_customer(conn), competitors=["Rival"])
    brands.add_query(conn, brand.id, "best running shoes")
    meta = {"collectors": ["sample"], "on_success": {"url": hook_url}, "on_failure": {"url": hook_url}}
    return make_job(conn, brand, job_type="data_collection", metadata=meta)


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setenv("CRONKEEPER_SAMPLE_DELAY_MS", "0")
    monkeypatch.setenv("CRONKEEPER_OUTBOUND_ALLOW", "127.0.0.1/32")
    monkeypatch.setenv("CRONKEEPER_WEBHOOK_DEADLINE_SECONDS", "1")
    monkeypatch.setenv("CRONKEEPER_MIN_INTERVAL_SECONDS", "1")


@pytest.fixture
def black_hole():
    """A port that accepts connections and never answers (the kernel's backlog does the accepting)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    sock.close()


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_silent_receiver_holds_no_slot_and_is_recorded_after_its_deadline(dsn, conn, t0, monkeypatch, black_hole):
    job = sample_job(conn, black_hole)
    run = make_run(conn, job, now=t0)
    worker = Worker(dsn, Settings(database_url=None, data_dir="."), clock=FixedClock(t0))
    started = time.monotonic()
    worker.run_once()
    took = time.monotonic() - started
    row = conn.execute("SELECT status, metrics FROM job_runs WHERE id = %s", (run.id,)).fetchone()
    assert row["status"] == "completed"
    assert took < 1.0, f"the run waited for its webhook: {took:.2f} s"
    assert "webhook" not in row["metrics"] and run_webhooks.sender().pending() == 1
    worker.close()  # waits for the webhook, up to the shutdown grace
    assert run_webhooks.sender().pending() == 0
    metrics = conn.execute("SELECT metrics FROM job_runs WHERE id = %s", (run.id,)).fetchone()["metrics"]
    assert metrics["webhook_error"] == "webhook: no answer within 1 s"
    assert metrics["answers_collected"] == 1  # the run's own metrics are kept beside it


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_sync_run_finishes_although_its_webhook_never_answers(api, conn, monkeypatch, black_hole):
    job = sample_job(conn, black_hole)
    started = time.monotonic()
    r = api.post(f"/api/admin/scheduled-jobs/{job.id}/trigger?mode=sync")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed" and time.monotonic() - started < 5
    assert run_webhooks.drain(5) == 0
    metrics = conn.execute("SELECT metrics FROM job_runs WHERE id = %s", (r.json()["id"],)).fetchone()["metrics"]
    assert metrics["webhook_error"] == "webhook: no answer within 1 s"
