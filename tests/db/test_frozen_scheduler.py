"""A scheduler frozen mid-tick (its jobs locked, nothing forwarded) delays another's slots by seconds.

Issue 22: with no bound, the frozen tick held its jobs' rows for as long as the
freeze lasted and the healthy scheduler skipped them (``SKIP LOCKED``): 0 runs
for 50 of 50 jobs in 60 s. The idle-in-transaction timeout ends the frozen
transaction; the other scheduler then makes every slot.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from cronkeeper.services.scheduler.loop import SchedulerLoop
from cronkeeper.settings import DbTimeouts, Settings
from tests.support.factories import make_brand, make_job
from tests.support.freeze_proxy import FreezeProxy

IDLE_TIMEOUT = 5.0
JOBS = 20


def settings() -> Settings:
    return Settings(database_url=None, data_dir=".", scheduler_poll_seconds=0.5,
                    db_timeouts=DbTimeouts(idle_in_transaction=IDLE_TIMEOUT))  # fmt: skip


@pytest.mark.slow
def test_a_scheduler_frozen_mid_tick_delays_another_schedulers_slots_by_at_most_10_s(dsn, conn):
    due = conn.execute("SELECT clock_timestamp() AS now").fetchone()["now"] + dt.timedelta(seconds=1)
    brand = make_brand(conn)
    jobs = [make_job(conn, brand, interval_seconds=3600, next_run_at=due) for _ in range(JOBS)]
    proxy = FreezeProxy(*FreezeProxy.upstream_of(dsn), freeze_on=b"INSERT INTO job_runs")
    frozen = SchedulerLoop(proxy.dsn(dsn), settings(), process_id="frozen")
    healthy = SchedulerLoop(dsn, settings(), process_id="healthy")
    stop = threading.Event()
    threads = [threading.Thread(target=frozen.serve, args=(stop,), daemon=True)]
    try:
        threads[0].start()
        deadline = time.monotonic() + 20
        while not proxy.frozen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proxy.frozen, "the frozen scheduler never ticked"
        threads.append(threading.Thread(target=healthy.serve, args=(stop,), daemon=True))
        threads[1].start()
        count = "SELECT count(*) AS n FROM job_runs WHERE trigger = 'schedule'"
        while conn.execute(count).fetchone()["n"] < JOBS and time.monotonic() < proxy.frozen_at + 20:
            time.sleep(0.1)
    finally:
        proxy.freeze_on = None
        proxy.thaw()
        stop.set()
        for t in threads:
            t.join(15)
        proxy.close()
    runs = conn.execute(
        "SELECT scheduled_job_id, scheduled_for, created_at FROM job_runs WHERE trigger = 'schedule'"
    ).fetchall()
    assert sorted(r["scheduled_job_id"] for r in runs) == sorted(j.id for j in jobs)  # every slot, once
    assert all(r["scheduled_for"] == due for r in runs)
    late = max((r["created_at"] - due).total_seconds() for r in runs)
    assert IDLE_TIMEOUT - 1 < late <= 10, f"slots made {late:.1f} s late"  # held by the freeze, then freed
