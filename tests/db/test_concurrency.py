"""Three schedulers and four workers on one database, for many ticks."""

import collections
import datetime as dt
import random
import threading

from cronkeeper.clock import FixedClock
from cronkeeper.db import connect
from cronkeeper.handlers import Registry
from cronkeeper.services.scheduler.tick import tick
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job


def test_every_slot_once_every_run_processed_once(dsn, t0):
    setup = connect(dsn, autocommit=True)
    brand = make_brand(setup)
    for i in range(20):
        make_job(setup, brand, cron_expression="* * * * *", next_run_at=t0, overlap_policy="allow", name=f"c{i}")
    for i in range(20):
        make_job(setup, brand, interval_seconds=20, next_run_at=t0, overlap_policy="allow", name=f"i{i}")
    processed = collections.Counter()
    lock = threading.Lock()

    def handler(ctx):
        with lock:
            processed[ctx.run.id] += 1
        return {"ok": True}

    registry = Registry()
    registry.register("data_collection", handler)
    clock = FixedClock(t0)
    settings = Settings(database_url=None, data_dir=".")
    workers = [Worker(dsn, settings, registry=registry, clock=clock, concurrency=3, rng=random.Random(i))
               for i in range(4)]  # fmt: skip
    ticks = 30
    step = threading.Barrier(7, action=lambda: clock.advance(20))

    def scheduler(seed):
        c = connect(dsn, autocommit=True)
        for _ in range(ticks):
            tick(c, clock.now(), batch_size=5, rng=random.Random(seed))
            step.wait()
        c.close()

    def worker(w):
        for _ in range(ticks):
            w.run_once()
            step.wait()

    threads = [threading.Thread(target=scheduler, args=(i,)) for i in range(3)]
    threads += [threading.Thread(target=worker, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for w in workers:
        w.run_once()  # drain what the last tick made
        w.close()

    end = t0 + dt.timedelta(seconds=20 * (ticks - 1))
    slots = setup.execute(
        "SELECT scheduled_job_id, scheduled_for, count(*) AS n FROM job_runs"
        " WHERE trigger = 'schedule' GROUP BY 1, 2"
    ).fetchall()
    assert all(s["n"] == 1 for s in slots)
    per_job = collections.Counter(s["scheduled_job_id"] for s in slots)
    minute_slots = (end - t0) // dt.timedelta(minutes=1) + 1
    interval_slots = ticks
    counts = sorted(per_job.values())
    assert counts == [minute_slots] * 20 + [interval_slots] * 20
    statuses = collections.Counter(r["status"] for r in setup.execute("SELECT status FROM job_runs"))
    assert statuses == {"completed": len(slots)}
    assert len(processed) == len(slots)
    assert set(processed.values()) == {1}
    setup.close()
