"""Schedulers and workers side by side on one database: every slot once, no forbidden overlap."""

import collections
import datetime as dt
import random
import re
import threading
import time

import pytest

from cronkeeper.clock import FixedClock
from cronkeeper.db import connect
from cronkeeper.handlers import Registry
from cronkeeper.repo.queries import load
from cronkeeper.repo.runs import claim_runs
from cronkeeper.services.scheduler.tick import tick
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job, make_run, runs_of
from tests.support.plans import function_plans, plan_text

M = dt.timedelta(minutes=1)


@pytest.mark.slow  # a few seconds: the full suite only
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


def _slot_runs(conn, job, t0, n, **kw):
    return [make_run(conn, job, now=t0 + i * M, trigger="schedule", **kw) for i in range(n)]


def test_claim_holds_back_later_runs_of_a_forbid_job_until_the_earlier_one_finishes(conn, t0):
    brand = make_brand(conn)
    forbid = make_job(conn, brand, overlap_policy="forbid")
    allow = make_job(conn, brand, overlap_policy="allow")
    slots = _slot_runs(conn, forbid, t0, 3)
    # jitter may put a later slot's run_after first: slot order still wins
    conn.execute("UPDATE job_runs SET run_after = %s WHERE id = %s", (t0 - M, slots[2].id))
    manual = make_run(conn, forbid, now=t0 + 5 * M)  # manual runs are not held back
    parallel = _slot_runs(conn, allow, t0, 3)
    now = t0 + 10 * M
    first = {c.run.id for c in claim_runs(conn, "w1", now, 10, 30)}
    assert first == {slots[0].id, manual.id} | {r.id for r in parallel}
    assert claim_runs(conn, "w2", now, 10, 30) == []  # slot 0 is still processing
    conn.execute("UPDATE job_runs SET status = 'completed', finished_at = %s WHERE id = %s", (now, slots[0].id))
    assert [c.run.id for c in claim_runs(conn, "w2", now, 10, 30)] == [slots[1].id]


def test_run_all_forbid_catch_up_runs_one_after_another_in_slot_order(dsn, conn, t0):
    """Five missed slots, a worker with four executors: the five runs never overlap."""
    job = make_job(conn, cron_expression="* * * * *", next_run_at=t0, misfire_policy="run_all")
    clock = FixedClock(t0 + 4 * M + dt.timedelta(seconds=5))
    assert tick(conn, clock.now(), rng=random.Random(1)).runs_created == 5
    running, most, order = [0], [0], []
    lock = threading.Lock()

    def handler(ctx):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            order.append(ctx.run.scheduled_for)
        time.sleep(0.05)  # long enough for a second executor to start, were it allowed
        clock.advance(1)
        with lock:
            running[0] -= 1

    registry = Registry()
    registry.register("data_collection", handler)
    w = Worker(dsn, Settings(database_url=None, data_dir="."), registry=registry, clock=clock, concurrency=4)
    try:
        assert w.run_once().completed == 5  # one drain runs the whole chain
    finally:
        w.close()
    assert most == [1]
    assert order == [t0 + i * M for i in range(5)]
    # (the database's times cannot show it: a claim takes its time before it reads, and the
    # handler moves this test's clock on by a second, so a claim that began as the previous run
    # was written back stamps its started_at a second before that run's finished_at)
    assert {r["status"] for r in runs_of(conn, job.id)} == {"completed"}


def test_a_drain_claims_again_when_a_run_is_written_back_while_its_claim_reads(dsn, conn, t0):
    """A claim whose snapshot predates the write-back of the run in hand finds nothing (forbid holds
    the next run back) and returns after that run is gone: the drain must not stop there."""
    job = make_job(conn, cron_expression="* * * * *", next_run_at=t0, misfire_policy="run_all")
    clock = FixedClock(t0 + M + dt.timedelta(seconds=5))
    assert tick(conn, clock.now(), rng=random.Random(1)).runs_created == 2
    registry = Registry()
    registry.register("data_collection", lambda ctx: {})
    w = Worker(dsn, Settings(database_url=None, data_dir="."), registry=registry, clock=clock, concurrency=4)
    claim, stale = w.claim, []

    def claim_with_an_old_snapshot(limit):
        if w.in_hand() and not stale:  # read "before" the write-back commits, return after it did
            deadline = time.monotonic() + 10
            while w.in_hand() and time.monotonic() < deadline:
                time.sleep(0.01)
            stale.append(True)
            return []
        return claim(limit)

    w.claim = claim_with_an_old_snapshot
    try:
        assert w.run_once().completed == 2
    finally:
        w.close()
    assert stale == [True]
    assert [r["status"] for r in runs_of(conn, job.id)] == ["completed", "completed"]


def test_concurrent_workers_never_run_two_runs_of_a_forbid_job_at_once(dsn, t0):
    setup = connect(dsn, autocommit=True)
    brand = make_brand(setup)
    jobs = [make_job(setup, brand, name=f"f{i}") for i in range(10)]
    for job in jobs:
        _slot_runs(setup, job, t0, 5)
    now = t0 + 10 * M
    order, doubled = collections.defaultdict(list), []
    barrier = threading.Barrier(4)

    def worker(n):
        c = connect(dsn, autocommit=True)
        barrier.wait()
        idle = 0
        while idle < 20:
            claimed = claim_runs(c, f"w{n}", now, 3, 30)
            idle = 0 if claimed else idle + 1
            doubled.extend(c.execute(
                "SELECT scheduled_job_id FROM job_runs WHERE status = 'processing'"
                " GROUP BY 1 HAVING count(*) > 1").fetchall())  # fmt: skip
            for x in claimed:
                order[x.run.scheduled_job_id].append(x.run.scheduled_for)
                c.execute("UPDATE job_runs SET status = 'completed', finished_at = %s WHERE id = %s",
                          (now, x.run.id))  # fmt: skip
            time.sleep(0.002 if not claimed else 0)
        c.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    setup.close()
    assert doubled == []
    assert dict(order) == {job.id: [t0 + i * M for i in range(5)] for job in jobs}


def test_claim_reads_due_runs_in_index_order_and_checks_overlap_by_index(conn, t0):
    """The forbid check must not turn the claim into a sort of every due run."""
    brand = make_brand(conn)
    conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, job_type, schedule_kind, cron_expression, next_run_at)
        SELECT %(customer)s, %(brand)s, 'scoring', 'cron', '* * * * *', %(t0)s FROM generate_series(1, 2000)
        """,
        {"customer": brand.customer_id, "brand": brand.id, "t0": t0},
    )
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after)
        SELECT j.id, j.customer_id, j.brand_id, 'scoring', 'schedule', 'pending', %(t0)s,
               %(t0)s + random() * interval '1 minute'
        FROM scheduled_jobs j
        """,
        {"t0": t0},
    )
    conn.execute("ANALYZE")
    params = {"now": t0 + 2 * M, "limit": 50, "worker_id": "w", "lease_until": t0 + 3 * M}
    plan = function_plans(conn, load("job_runs")["claim_runs"], params, analyze=True)  # ck_claim_runs (0032)
    assert "Index Scan using job_runs_customer_queue_idx" in plan
    assert "Index Scan using job_runs_active_idx on job_runs e" in plan
    assert "Bitmap Heap Scan on job_runs" not in plan
    scans = [line for line in plan.splitlines()  # the locked read, one scan per partition (migration 0025)
             if "Index Scan using job_runs_customer_queue_idx on job_runs job_runs " in line]
    # PostgreSQL 18 prints "rows=50.00", earlier versions "rows=50"
    read = [re.search(r"actual time=\S+ rows=(\d+)(\.0+)? loops=1", line) for line in scans]
    assert scans and all(read), scans
    assert sum(int(m.group(1)) for m in read) == 50, scans  # 2,000 due: the scans stopped at the limit
    rows = conn.execute(b"EXPLAIN " + load("job_runs")["next_run_after"], {"now": t0}).fetchall()
    assert "job_runs_pending_idx" in plan_text(rows)  # the worker's wake-up time
