"""A worker frozen inside its finishing transaction (no RST: the proxy just stops forwarding).

Issue 22: its run stayed ``processing`` for as long as the freeze lasted, row
locked by the open transaction, so no rescuer could take it (``SKIP LOCKED``).
With ``idle_in_transaction_session_timeout`` on every connection the server ends
that transaction, and another worker rescues the run once its lease expires.
"""

from __future__ import annotations

import threading
import time

import pytest

from cronkeeper.handlers import Registry
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import DbTimeouts, Settings
from tests.support.factories import make_job, make_run
from tests.support.freeze_proxy import FreezeProxy
from tests.support.stack import serve_worker as serve

LEASE = 4.0


def settings(**kw) -> Settings:
    return Settings(database_url=None, data_dir=".", lease_seconds=LEASE, worker_poll_seconds=0.5,
                    shutdown_grace_seconds=1, db_timeouts=DbTimeouts(idle_in_transaction=3), **kw)  # fmt: skip


@pytest.mark.slow
def test_a_worker_frozen_in_its_finishing_transaction_has_its_run_rescued(dsn, conn):
    registry = Registry()
    registry.register("data_collection", lambda ctx: {"done": True})
    job = make_job(conn, max_retries=0)
    run = make_run(conn, job)
    # the batched write-back's statement: forwarded, then nothing more either way
    proxy = FreezeProxy(*FreezeProxy.upstream_of(dsn), freeze_on=b"ck_finish_runs")
    frozen = Worker(proxy.dsn(dsn), settings(), registry=registry, worker_id="frozen")
    rescuer = None
    stops: list[tuple[threading.Event, threading.Thread]] = []
    try:
        stops.append(serve(frozen))
        deadline = time.monotonic() + 20
        while not proxy.frozen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proxy.frozen, "the worker never wrote its outcome back"
        row = conn.execute("SELECT status, worker_id FROM job_runs WHERE id = %s", (run.id,)).fetchone()
        assert row == {"status": "processing", "worker_id": "frozen"}  # its transaction is open, not committed
        rescuer = Worker(dsn, settings(), registry=registry, worker_id="rescuer")
        stops.append(serve(rescuer))
        while time.monotonic() < proxy.frozen_at + LEASE + 15:
            row = conn.execute("SELECT * FROM job_runs WHERE id = %s", (run.id,)).fetchone()
            if row["status"] != "processing":
                break
            time.sleep(0.1)
        took = time.monotonic() - proxy.frozen_at
    finally:
        proxy.freeze_on = None  # (its retried write-back would freeze it again)
        proxy.thaw()  # the frozen worker hears that the server ended its transaction, and goes on
        for stop, _ in stops:
            stop.set()
        for _, t in stops:
            t.join(15)
        frozen.close()
        if rescuer is not None:
            rescuer.close()
        proxy.close()
    assert row["status"] == "failed", row
    assert "worker frozen stopped heartbeating" in row["error_message"]
    assert took <= LEASE + 10, f"rescued {took:.1f} s after the freeze"
