"""The worker's claim is fair across customers (issue 17 item 5)."""

import datetime as dt
import random
import threading

import pytest

from cronkeeper.clock import FixedClock
from cronkeeper.db import connect
from cronkeeper.handlers import Registry
from cronkeeper.repo.runs import claim_runs
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job, make_run

S = dt.timedelta(seconds=1)


def _flood(conn, job, t0, n):
    """``n`` due manual runs of ``job``, the oldest first (all due before ``t0``)."""
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after)
        SELECT %(job)s, %(customer)s, %(brand)s, %(type)s, 'manual', 'pending',
               %(t0)s - interval '1 hour' + g * interval '1 ms', %(t0)s - interval '1 hour' + g * interval '1 ms'
        FROM generate_series(1, %(n)s) g
        """,
        {"job": job.id, "customer": job.customer_id, "brand": job.brand_id, "type": str(job.job_type),
         "t0": t0, "n": n},
    )  # fmt: skip


def test_one_run_of_b_is_in_the_next_batch_behind_ten_thousand_of_a(conn, t0):
    a, b = make_job(conn, job_type="scoring"), make_job(conn, job_type="scoring")
    _flood(conn, a, t0, 10_000)
    late = make_run(conn, b, now=t0)  # the newest due run of all
    conn.execute("ANALYZE job_runs")
    batch = claim_runs(conn, "w1", t0 + S, 8, 30)
    assert len(batch) == 8
    assert late.id in {c.run.id for c in batch}
    # round-robin order: B's run is handed to an executor among the first, not after A's
    assert [c.run.customer_id for c in batch][:2].count(b.customer_id) == 1


def test_a_customer_takes_at_most_its_share_while_others_wait(conn, t0):
    jobs = [make_job(conn, job_type="scoring") for _ in range(3)]
    for job in jobs:
        _flood(conn, job, t0, 50)
    batch = claim_runs(conn, "w1", t0, 9, 30)
    per_customer = {}
    for c in batch:
        per_customer[c.run.customer_id] = per_customer.get(c.run.customer_id, 0) + 1
    assert sorted(per_customer.values()) == [3, 3, 3]
    # within a customer, due order is kept
    first = [c.run.run_after for c in batch if c.run.customer_id == jobs[0].customer_id]
    assert first == sorted(first)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_customer_with_fewer_runs_in_flight_goes_first_when_slots_are_scarce(conn, t0):
    a, b = make_job(conn, job_type="scoring"), make_job(conn, job_type="scoring")
    _flood(conn, a, t0, 100)
    make_run(conn, b, now=t0)
    make_run(conn, b, now=t0 + S)
    # a single free slot, claimed again and again: A holds one run, so B's turn comes next
    taken = [claim_runs(conn, "w1", t0 + 2 * S, 1, 30)[0].run.customer_id for _ in range(4)]
    assert taken.count(b.customer_id) == 2
    assert taken[0] != taken[1]


def test_one_customer_alone_takes_the_whole_batch_in_due_order(conn, t0):
    job = make_job(conn, job_type="scoring")
    _flood(conn, job, t0, 40)
    batch = claim_runs(conn, "w1", t0, 25, 30)
    assert len(batch) == 25
    assert [c.run.run_after for c in batch] == sorted(c.run.run_after for c in batch)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_concurrent_fair_claims_take_each_run_exactly_once(dsn, conn, t0):
    jobs = [make_job(conn, make_brand(conn), job_type="scoring") for _ in range(4)]
    for job in jobs:
        _flood(conn, job, t0, 300)
    seen: list[int] = []
    lock = threading.Lock()

    def claimer(name):
        with connect(dsn, autocommit=True) as c:
            while True:
                got = claim_runs(c, name, t0, 7, 30)
                with lock:
                    seen.extend(x.run.id for x in got)
                if not got:
                    return

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == len(set(seen)) == 1200


def test_run_once_starts_b_in_the_first_batch(dsn, conn, t0):
    """Through the worker: a free slot's first claim holds B's run although A has 10,000 due."""
    started: list = []
    registry = Registry()
    registry.register("scoring", lambda ctx: started.append(ctx.run.customer_id) or {})
    a, b = make_job(conn, job_type="scoring"), make_job(conn, job_type="scoring")
    _flood(conn, a, t0, 10_000)
    make_run(conn, b, now=t0)
    conn.execute("ANALYZE job_runs")
    w = Worker(dsn, Settings(database_url=None, data_dir="."), registry=registry, clock=FixedClock(t0 + S),
               concurrency=2, rng=random.Random(1))  # fmt: skip
    try:
        first = w.claim(2)
    finally:
        w.close()
    assert b.customer_id in {c.run.customer_id for c in first}
