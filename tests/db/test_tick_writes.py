"""How the tick writes (services/scheduler/tick.py, issue 23): binary COPY through staging tables
or binary arrays, one plan per shared schedule, and each slot kept once by the slot key."""

import dataclasses
import datetime as dt
import logging
import random
import threading

import pytest

from cronkeeper.db import connect
from cronkeeper.models import DueJob
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.services.scheduler import tick as tick_module
from cronkeeper.services.scheduler.tick import tick
from tests.support.factories import make_brand, make_job, runs_of

M = dt.timedelta(minutes=1)


def test_the_due_job_query_returns_the_fields_of_due_job_in_order(conn, t0):
    job = make_job(conn, next_run_at=t0, metadata={"k": 1}, max_runs=5, cron_expression="H * * * *")
    with conn.cursor() as cur:
        cur.execute(jobs_repo.Q["lock_due_jobs"], {"now": t0, "limit": 10})
        assert [c.name for c in cur.description] == [f.name for f in dataclasses.fields(DueJob)]
    [locked] = jobs_repo.lock_due_jobs(conn, t0, 10)
    full = jobs_repo.get_job(conn, job.id)
    assert all(getattr(locked, f.name) == getattr(full, f.name) for f in dataclasses.fields(DueJob))
    assert locked.schedule is full.schedule  # the same Schedule, its H resolved by the job's id


@pytest.mark.parametrize("copy_min_rows", [0, 10_000], ids=["copy", "arrays"])
def test_both_writes_insert_skips_and_leave_an_existing_slot_alone(conn, t0, monkeypatch, copy_min_rows):
    monkeypatch.setattr(tick_module, "COPY_MIN_ROWS", copy_min_rows)
    brand = make_brand(conn)
    late = make_job(conn, brand, cron_expression="* * * * *", next_run_at=t0 - 3 * M)  # run_once: 3 skipped
    taken = make_job(conn, brand, cron_expression="* * * * *", next_run_at=t0, overlap_policy="allow")
    with conn.transaction():  # the staging table lives as long as the transaction
        runs_repo.write_scheduled_runs(
            conn, [(taken.id, taken.customer_id, taken.brand_id, "data_collection", "pending", None, t0, t0, None, "schedule")],
        )  # the slot exists already (another scheduler, a replan)
    result = tick(conn, t0 + dt.timedelta(seconds=1), rng=random.Random(1))
    assert (result.jobs, result.runs_created, result.runs_skipped, result.duplicates) == (2, 1, 3, 1)
    statuses = [(r["status"], r["scheduled_for"], r["finished_at"] is not None) for r in runs_of(conn, late.id)]
    assert statuses == [("skipped", t0 - 3 * M, True), ("skipped", t0 - 2 * M, True),
                        ("skipped", t0 - M, True), ("pending", t0, False)]  # fmt: skip
    assert len(runs_of(conn, taken.id)) == 1
    nexts = conn.execute("SELECT next_run_at, last_run_at, scheduled_run_count FROM scheduled_jobs ORDER BY name")
    assert all(r["next_run_at"] == t0 + M and r["last_run_at"] in (t0, None) for r in nexts)



def test_a_slot_inserted_by_two_writers_at_once_is_kept_once(dsn, t0):
    """Not the job locks: the slot key itself. The second insert waits on the first and inserts nothing."""
    a, b = connect(dsn, autocommit=True), connect(dsn, autocommit=True)
    job = make_job(a, next_run_at=t0)
    row = (job.id, job.customer_id, job.brand_id, "data_collection", "pending", None, t0, t0, None, "schedule")
    got = {}
    with a.transaction():
        assert runs_repo.write_scheduled_runs(a, [row]) == (1, 1)

        def second():
            with b.transaction():
                got["b"] = runs_repo.write_scheduled_runs(b, [row])

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.3)
        assert thread.is_alive()  # waiting on the uncommitted slot
    thread.join(10)
    assert got["b"] == (0, 0)
    assert len(runs_of(a, job.id)) == 1
    a.close()
    b.close()


def test_jobs_that_share_a_schedule_share_one_plan_per_batch(conn, t0, monkeypatch):
    brand = make_brand(conn)
    for i in range(30):
        make_job(conn, brand, cron_expression="*/5 * * * *", next_run_at=t0, overlap_policy="allow", name=f"s{i}")
    for i in range(4):  # jitter draws per job: planned one by one
        make_job(conn, brand, interval_seconds=60, jitter_seconds=10, next_run_at=t0, overlap_policy="allow",
                 name=f"j{i}")  # fmt: skip
    calls = []
    real = tick_module.plan_job
    monkeypatch.setattr(tick_module, "plan_job", lambda job, *a, **kw: calls.append(job.id) or real(job, *a, **kw))
    with conn.transaction():  # inside a caller's transaction: the staging tables are reused, emptied
        result = tick(conn, t0 + dt.timedelta(seconds=1), batch_size=20, rng=random.Random(1))
    assert (result.jobs, result.runs_created, result.batches) == (34, 34, 2)
    assert len(calls) == 2 + 4  # one shared plan per batch, one per jittered job
    afters = conn.execute("SELECT run_after FROM job_runs JOIN scheduled_jobs j ON j.id = scheduled_job_id"
                          " WHERE j.jitter_seconds > 0").fetchall()  # fmt: skip
    assert len({r["run_after"] for r in afters}) == 4  # each its own jitter


def test_a_small_tick_creates_no_temporary_table(conn, t0):
    """The usual tick (a few runs) goes by arrays: no staging table made and dropped each time."""
    make_job(conn, make_brand(conn), cron_expression="* * * * *", next_run_at=t0)
    with conn.transaction():
        assert tick(conn, t0, rng=random.Random(1)).runs_created == 1
        staged = conn.execute("SELECT to_regclass('pg_temp.ck_tick_runs') AS t, to_regclass('pg_temp.ck_tick_advance') AS a")
        assert staged.fetchone() == {"t": None, "a": None}


def test_a_failed_copy_leaves_nothing_of_itself_before_the_staged_insert(conn, t0):
    """A slot already there fails the COPY: its savepoint goes, the others are inserted once through staging."""
    job = make_job(conn, next_run_at=t0)
    row = lambda i: (job.id, job.customer_id, job.brand_id, "data_collection", "pending", None, t0 + i * M,  # noqa: E731
                     t0 + i * M, None, "schedule")  # fmt: skip
    with conn.transaction():
        runs_repo.write_scheduled_runs(conn, [row(2)])
    with conn.transaction():
        assert runs_repo.write_scheduled_runs(conn, [row(i) for i in range(5)]) == (4, 4)
    assert [r["scheduled_for"] for r in runs_of(conn, job.id)] == [t0 + i * M for i in range(5)]


def _many_jobs(conn, t0, n):
    brand = make_brand(conn)
    return [make_job(conn, brand, cron_expression="* * * * *", next_run_at=t0, overlap_policy="allow", name=f"m{i}")
            for i in range(n)]  # fmt: skip


def test_a_tick_of_several_batches_runs_them_on_two_connections(dsn, t0):
    """``helper``: opened only once the first batch was full; every slot once, every job advanced."""
    a, b = connect(dsn, autocommit=True), connect(dsn, autocommit=True)
    jobs = _many_jobs(a, t0, 40)
    asked = []
    small = tick(a, t0 - M, batch_size=5, helper=lambda: asked.append(1) or b)  # nothing due yet
    assert (small.jobs, asked) == (0, [])
    seen = set()
    real = tick_module.tick_batch

    def batch(conn, *args, **kw):
        seen.add(conn.info.backend_pid)
        return real(conn, *args, **kw)

    tick_module.tick_batch = batch
    try:
        result = tick(a, t0 + dt.timedelta(seconds=1), batch_size=5, rng=random.Random(1),
                      helper=lambda: asked.append(1) or b)  # fmt: skip
    finally:
        tick_module.tick_batch = real
    assert (result.jobs, result.runs_created, result.duplicates) == (40, 40, 0)
    assert asked == [1] and seen == {a.info.backend_pid, b.info.backend_pid}
    counts = a.execute("SELECT count(*) AS n, count(DISTINCT scheduled_job_id) AS jobs FROM job_runs").fetchone()
    assert counts == {"n": 40, "jobs": 40}
    advanced = a.execute("SELECT count(*) AS n FROM scheduled_jobs WHERE next_run_at = %s", (t0 + M,)).fetchone()
    assert advanced["n"] == len(jobs)
    a.close()
    b.close()


def test_a_batch_that_fails_on_the_helper_connection_loses_and_doubles_nothing(dsn, t0, monkeypatch, caplog):
    """The helper's batch dies between its runs and its advances: both roll back; the next tick makes them."""
    caplog.set_level(logging.WARNING, logger="cronkeeper.scheduler")  # runs not logged one by one: the COPY path
    a, b, killer = (connect(dsn, autocommit=True) for _ in range(3))
    _many_jobs(a, t0, 40)
    real = jobs_repo.advance_jobs_copied
    failed = []

    def advance(conn, *args):
        if conn is b and not failed:
            # the runs of this batch are copied already; kill its connection before the advance
            killer.execute("SELECT pg_terminate_backend(%s)", (b.info.backend_pid,))
            failed.append(1)
        return real(conn, *args)

    monkeypatch.setattr(jobs_repo, "advance_jobs_copied", advance)
    monkeypatch.setattr(tick_module, "COPY_MIN_ROWS", 0)
    now = t0 + dt.timedelta(seconds=1)
    with pytest.raises(Exception):  # noqa: B017 - whichever error the dead connection raises
        tick(a, now, batch_size=5, rng=random.Random(1), helper=lambda: b)
    assert failed == [1]
    made = a.execute("SELECT count(*) AS n FROM job_runs").fetchone()["n"]
    due = a.execute("SELECT count(*) AS n FROM scheduled_jobs WHERE next_run_at <= %s", (now,)).fetchone()["n"]
    # each job advanced with its run, or still due without one (the first connection may have
    # taken the dead batch's jobs once their locks went)
    assert made + due == 40
    stray = a.execute("SELECT count(*) AS n FROM job_runs r JOIN scheduled_jobs j ON j.id = r.scheduled_job_id"
                      " WHERE j.next_run_at <= %s", (now,)).fetchone()  # fmt: skip
    assert stray["n"] == 0  # no run committed without its job's advance
    again = tick(a, now, batch_size=5, rng=random.Random(1))
    assert again.jobs == due and again.duplicates == 0
    per_job = a.execute("SELECT scheduled_job_id, count(*) AS n FROM job_runs GROUP BY 1").fetchall()
    assert len(per_job) == 40 and {r["n"] for r in per_job} == {1}
    a.close()
    killer.close()
