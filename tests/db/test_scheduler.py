"""The scheduler's tick, with an injected clock and backdated rows."""

import datetime as dt
import random
import threading

import pytest

from cronkeeper import jobs
from cronkeeper.db import connect
from cronkeeper.schedule import MAX_ENUMERATED_SLOTS
from cronkeeper.services.scheduler.tick import tick
from tests.support.factories import make_brand, make_job, make_run, runs_of

M = dt.timedelta(minutes=1)


def _tick(conn, now, **kw):
    return tick(conn, now, rng=random.Random(1), **kw)


def test_due_job_gets_one_run_and_next_slot(conn, t0):
    job = make_job(conn, cron_expression="*/5 * * * *", next_run_at=t0)
    result = _tick(conn, t0 + dt.timedelta(seconds=1))
    assert (result.jobs, result.runs_created, result.runs_skipped) == (1, 1, 0)
    [run] = runs_of(conn, job.id)
    assert (run["status"], run["trigger"], run["scheduled_for"]) == ("pending", "schedule", t0)
    row = conn.execute("SELECT next_run_at, last_run_at FROM scheduled_jobs WHERE id=%s", (job.id,)).fetchone()
    assert row == {"next_run_at": t0 + 5 * M, "last_run_at": t0}
    assert _tick(conn, t0 + 2 * M).jobs == 0  # nothing due until the next slot


def test_not_due_and_inactive_jobs_are_left_alone(conn, t0):
    make_job(conn, next_run_at=t0 + M)
    make_job(conn, next_run_at=t0 - M, is_active=False)
    assert _tick(conn, t0).jobs == 0
    assert conn.execute("SELECT count(*) AS n FROM job_runs").fetchone()["n"] == 0


def test_misfire_run_once_coalesces_and_records_skips(conn, t0):
    job = make_job(conn, cron_expression="* * * * *", next_run_at=t0, misfire_policy="run_once")
    _tick(conn, t0 + 10 * M + dt.timedelta(seconds=5))
    runs = runs_of(conn, job.id)
    assert len(runs) == 11
    assert [r["status"] for r in runs] == ["skipped"] * 10 + ["pending"]
    assert runs[-1]["scheduled_for"] == t0 + 10 * M
    assert all(r["skip_reason"].startswith("misfire: coalesced") for r in runs[:-1])
    nxt = conn.execute("SELECT next_run_at FROM scheduled_jobs WHERE id=%s", (job.id,)).fetchone()
    assert nxt["next_run_at"] == t0 + 11 * M


def test_misfire_skip_runs_only_slots_within_grace(conn, t0):
    job = make_job(conn, cron_expression="* * * * *", next_run_at=t0, misfire_policy="skip",
                   overlap_policy="allow")  # fmt: skip
    _tick(conn, t0 + 10 * M, grace_seconds=90)
    runs = runs_of(conn, job.id)
    pending = [r["scheduled_for"] for r in runs if r["status"] == "pending"]
    assert pending == [t0 + 9 * M, t0 + 10 * M]
    assert all("missed by" in r["skip_reason"] for r in runs if r["status"] == "skipped")
    assert len(runs) == 11


def test_misfire_run_all_is_bounded(conn, t0):
    job = make_job(conn, cron_expression="* * * * *", next_run_at=t0, misfire_policy="run_all",
                   overlap_policy="allow")  # fmt: skip
    _tick(conn, t0 + 9 * M, max_catchup=4)
    runs = runs_of(conn, job.id)
    assert [r["status"] for r in runs] == ["skipped"] * 6 + ["pending"] * 4
    assert "run_all limit" in runs[0]["skip_reason"]


def test_misfire_run_all_with_overlap_forbid_queues_every_missed_slot(conn, t0):
    """run_all + forbid: each missed slot gets a pending run (the claim then runs them one at a time)."""
    job = make_job(conn, cron_expression="* * * * *", next_run_at=t0, misfire_policy="run_all",
                   overlap_policy="forbid")  # fmt: skip
    result = _tick(conn, t0 + 4 * M + dt.timedelta(seconds=5))
    assert (result.runs_created, result.runs_skipped) == (5, 0)
    runs = runs_of(conn, job.id)
    assert [(r["status"], r["scheduled_for"]) for r in runs] == [("pending", t0 + i * M) for i in range(5)]
    # a slot due while those are still queued is an overlap: skipped, not queued behind them
    _tick(conn, t0 + 5 * M)
    [late] = [r for r in runs_of(conn, job.id) if r["scheduled_for"] == t0 + 5 * M]
    assert late["status"] == "skipped" and late["skip_reason"].startswith("overlap")


def test_overlap_forbid_keeps_the_first_of_slots_due_together_under_other_misfire_policies(conn, t0):
    job = make_job(conn, cron_expression="* * * * *", next_run_at=t0, misfire_policy="skip")
    _tick(conn, t0 + 1 * M, grace_seconds=90)
    runs = runs_of(conn, job.id)
    assert [r["status"] for r in runs] == ["pending", "skipped"]
    assert "created in the same tick" in runs[1]["skip_reason"]


def test_overlap_forbid_skips_while_a_run_is_active(conn, t0):
    job = make_job(conn, cron_expression="* * * * *", next_run_at=t0)
    make_run(conn, job, status="pending", now=t0 - M)
    _tick(conn, t0)
    [slot] = [r for r in runs_of(conn, job.id) if r["trigger"] == "schedule"]
    assert slot["status"] == "skipped"
    assert slot["skip_reason"].startswith("overlap")


def test_overlap_allow_runs_alongside(conn, t0):
    job = make_job(conn, cron_expression="* * * * *", next_run_at=t0, overlap_policy="allow")
    make_run(conn, job, status="pending", now=t0 - M)
    assert _tick(conn, t0).runs_created == 1


def test_overlap_replace_cancels_the_old_run(conn, t0):
    job = make_job(conn, cron_expression="* * * * *", next_run_at=t0, overlap_policy="replace")
    old_pending = make_run(conn, job, status="pending", now=t0 - M)
    old_running = make_run(conn, job, status="processing", worker_id="w", started_at=t0 - M,
                           lease_expires_at=t0 + M, now=t0 - 2 * M)  # fmt: skip
    result = _tick(conn, t0)
    assert (result.runs_created, result.replaced) == (1, 2)
    by_id = {r["id"]: r for r in runs_of(conn, job.id)}
    assert by_id[old_pending.id]["status"] == "cancelled"
    assert by_id[old_running.id]["status"] == "processing"
    assert by_id[old_running.id]["cancel_requested"] is True


def test_once_job_runs_once_then_has_no_next(conn, t0):
    job = make_job(conn, run_at=t0, next_run_at=t0)
    assert _tick(conn, t0 + M).runs_created == 1
    row = conn.execute("SELECT next_run_at FROM scheduled_jobs WHERE id=%s", (job.id,)).fetchone()
    assert row["next_run_at"] is None
    assert _tick(conn, t0 + 100 * M).jobs == 0


def test_interval_with_jitter_keeps_slots_and_delays_run_after(conn, t0):
    job = make_job(conn, interval_seconds=30, jitter_seconds=10, next_run_at=t0)
    _tick(conn, t0)
    [run] = runs_of(conn, job.id)
    assert run["scheduled_for"] == t0
    assert t0 <= run["run_after"] <= t0 + dt.timedelta(seconds=10)
    row = conn.execute("SELECT next_run_at FROM scheduled_jobs WHERE id=%s", (job.id,)).fetchone()
    assert row["next_run_at"] == t0 + dt.timedelta(seconds=30)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_long_downtime_is_accounted_for_without_listing_every_slot(conn, t0):
    job = make_job(conn, interval_seconds=1, next_run_at=t0)
    _tick(conn, t0 + dt.timedelta(hours=2))
    runs = runs_of(conn, job.id)
    assert len(runs) == 1000
    assert [r["status"] for r in runs].count("pending") == 1
    assert "further slots" in runs[-2]["skip_reason"]
    row = conn.execute("SELECT next_run_at FROM scheduled_jobs WHERE id=%s", (job.id,)).fetchone()
    assert row["next_run_at"] > t0 + dt.timedelta(hours=2)


def test_batches_cover_every_due_job(conn, t0):
    brand = make_brand(conn)
    jobs = [make_job(conn, brand, next_run_at=t0 - dt.timedelta(seconds=i)) for i in range(25)]
    result = _tick(conn, t0, batch_size=10)
    assert (result.jobs, result.runs_created, result.batches) == (25, 25, 3)
    assert len({r["scheduled_job_id"] for r in conn.execute("SELECT scheduled_job_id FROM job_runs")}) == len(jobs)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_concurrent_schedulers_create_each_slot_once(dsn, t0):
    setup = connect(dsn, autocommit=True)
    brand = make_brand(setup)
    for i in range(60):
        make_job(setup, brand, cron_expression="* * * * *", next_run_at=t0, overlap_policy="allow",
                 misfire_policy="run_all", name=f"j{i}")  # fmt: skip
    barrier = threading.Barrier(3)

    def scheduler():
        c = connect(dsn, autocommit=True)
        for minute in range(6):
            barrier.wait()
            tick(c, t0 + minute * M, batch_size=7)
        c.close()

    threads = [threading.Thread(target=scheduler) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = setup.execute(
        "SELECT scheduled_job_id, scheduled_for, count(*) AS n FROM job_runs GROUP BY 1, 2"
    ).fetchall()
    assert len(rows) == 60 * 6
    assert all(r["n"] == 1 for r in rows)
    setup.close()


def test_resume_records_paused_slots_as_skipped(conn, t0):
    brand = make_brand(conn)
    job = jobs.create_job(
        conn,
        {"customer_id": brand.customer_id, "brand_id": brand.id, "job_type": "scoring",
         "cron_expression": "*/10 * * * *"},
        t0,
    )  # fmt: skip
    jobs.set_active(conn, job.id, False, t0 + M)
    resumed = jobs.set_active(conn, job.id, True, t0 + 35 * M)
    runs = runs_of(conn, job.id)
    assert [r["scheduled_for"] for r in runs] == [t0 + 10 * M, t0 + 20 * M, t0 + 30 * M]
    assert {r["skip_reason"] for r in runs} == {"job paused"}
    assert resumed.next_run_at == t0 + 40 * M


def test_resume_after_a_long_pause_lists_at_most_the_cap_and_keeps_the_interval_phase(conn, t0):
    brand = make_brand(conn)
    job = jobs.create_job(
        conn,
        {"customer_id": brand.customer_id, "brand_id": brand.id, "job_type": "scoring",
         "interval_seconds": 60},
        t0 - 7 * dt.timedelta(seconds=1),
    )  # fmt: skip  # first slot at t0 + 53 s: the phase is 53 s past the minute
    jobs.set_active(conn, job.id, False, t0)
    resumed = jobs.set_active(conn, job.id, True, t0 + 2000 * M)
    runs = runs_of(conn, job.id)
    assert len(runs) == MAX_ENUMERATED_SLOTS
    assert runs[0]["scheduled_for"] == t0 + dt.timedelta(seconds=53)
    assert {r["skip_reason"] for r in runs} == {"job paused"}
    assert resumed.next_run_at == t0 + 2000 * M + dt.timedelta(seconds=53)
    assert _tick(conn, t0 + 2000 * M).jobs == 0  # nothing due: the tick agrees on the next slot
