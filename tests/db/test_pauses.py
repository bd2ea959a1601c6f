"""Pause with a reason, auto-resume, skip the next runs (cronkeeper/pausing.py,
services/scheduler/pauses.py and skips.py), on a real database with a fixed clock."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from cronkeeper import audit, customers, jobs, pausing
from cronkeeper.clock import FixedClock
from cronkeeper.db import connect
from cronkeeper.errors import NotFound, ValidationError
from cronkeeper.services.scheduler import pauses
from cronkeeper.services.scheduler.loop import SchedulerLoop
from cronkeeper.services.scheduler.tick import tick
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job, runs_of

MIN = dt.timedelta(minutes=1)
ALICE = audit.Actor("alice")


def events(conn, job, action=None):
    q = "SELECT * FROM audit_events WHERE job_id = %s AND (%s::text IS NULL OR action = %s) ORDER BY id"
    return conn.execute(q, (job.id, action, action)).fetchall()


def together(dsn, work, n=3):
    """Run ``work(conn)`` on ``n`` connections at once; their results."""
    barrier, results, errors = threading.Barrier(n), [], []

    def one():
        try:
            with connect(dsn, autocommit=True) as c:
                barrier.wait()
                results.append(work(c))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


def test_pause_records_who_why_and_until(conn, t0):
    job = make_job(conn, next_run_at=t0 + MIN)
    with audit.acting_as(ALICE):
        paused = pausing.pause_job(conn, job.id, t0, reason="  migrating the collector  ", until=t0 + 60 * MIN)
    assert (paused.is_active, paused.paused_reason, paused.paused_by) == (False, "migrating the collector", "alice")
    assert (paused.paused_at, paused.paused_until, paused.paused_automatically) == (t0, t0 + 60 * MIN, False)
    [event] = events(conn, job, "pause")
    assert event["token_name"] == "alice"
    assert event["changes"]["paused_reason"] == [None, "migrating the collector"]
    # pausing again replaces the reason, keeps when it was first paused
    again = pausing.pause_job(conn, job.id, t0 + MIN, reason="still migrating")
    assert (again.paused_reason, again.paused_until, again.paused_at) == ("still migrating", None, t0)


def test_bad_input_names_the_field_and_writes_nothing(conn, t0):
    job = make_job(conn, next_run_at=t0 + MIN)
    cases = [
        ({"reason": "x" * 501}, "reason"), ({"until": t0}, "until"), ({"until": "2020-01-01T00:00:00Z"}, "until"),
        ({"until": "2030-01-01T00:00:00"}, "until"), ({"until": "tomorrow"}, "until"),
    ]  # fmt: skip
    for given, field in cases:
        with pytest.raises(ValidationError) as err:
            pausing.pause_job(conn, job.id, t0, **given)
        assert err.value.field == field
    for count in (0, 1001, "3", None, True):
        with pytest.raises(ValidationError) as err:
            pausing.skip_runs(conn, job.id, count)
        assert err.value.field == "count"
    for values, field in (({"auto_pause_after_failures": 1}, "auto_pause_after_failures"),
                          ({"auto_pause_trial_after_seconds": 0}, "auto_pause_trial_after_seconds")):  # fmt: skip
        with pytest.raises(ValidationError) as err:
            jobs.update_job(conn, job.id, values, t0)
        assert err.value.field == field
    stored = jobs.get_job(conn, job.id)
    assert (stored.is_active, stored.paused_reason, stored.skip_next_runs, stored.auto_pause_after_failures) == (
        True, None, 0, None)  # fmt: skip
    assert events(conn, job) == []


def test_another_customers_job_is_not_found(conn, t0):
    job, other = make_job(conn), make_job(conn)
    for call in (lambda: pausing.pause_job(conn, job.id, t0, customer_id=other.customer_id),
                 lambda: pausing.resume_job(conn, job.id, t0, customer_id=other.customer_id),
                 lambda: pausing.skip_runs(conn, job.id, 2, customer_id=other.customer_id)):  # fmt: skip
        with pytest.raises(NotFound):
            call()
    assert jobs.get_job(conn, job.id).is_active


def test_set_active_records_paused_by_and_resumed_by(conn, t0):
    job = make_job(conn, next_run_at=t0 + MIN)
    with audit.acting_as(ALICE):
        paused = jobs.set_active(conn, job.id, False, t0)
    assert (paused.paused_by, paused.paused_at, paused.paused_reason) == ("alice", t0, None)
    resumed = jobs.set_active(conn, job.id, True, t0 + 5 * MIN)  # the system actor
    assert (resumed.resumed_by, resumed.resumed_at, resumed.paused_by, resumed.paused_at) == (
        "system", t0 + 5 * MIN, None, None)  # fmt: skip
    assert [e["action"] for e in events(conn, job)] == ["pause", "resume"]


def test_auto_resume_at_its_time_and_not_before(conn, t0):
    job = make_job(conn, next_run_at=t0)  # every minute
    until = t0 + 10 * MIN
    pausing.pause_job(conn, job.id, t0 - MIN, reason="maintenance", until=until)
    assert pauses.resume_due(conn, until - dt.timedelta(seconds=1)) == 0
    assert not jobs.get_job(conn, job.id).is_active
    assert pauses.resume_due(conn, until) == 1
    back = jobs.get_job(conn, job.id)
    assert (back.is_active, back.resumed_by, back.resumed_at, back.paused_reason, back.paused_until) == (
        True, "auto-resume", until, None, None)  # fmt: skip
    skipped = [r for r in runs_of(conn, job.id) if r["status"] == "skipped"]
    assert [r["scheduled_for"] for r in skipped] == [t0 + i * MIN for i in range(10)]
    assert {r["skip_reason"] for r in skipped} == {"job paused"}
    tick(conn, until)  # the slot at paused_until runs
    assert [r["status"] for r in runs_of(conn, job.id) if r["scheduled_for"] == until] == ["pending"]
    assert pauses.resume_due(conn, until + MIN) == 0


def test_one_auto_resume_under_three_schedulers(dsn, conn, t0):
    made = [make_job(conn, next_run_at=t0 + MIN) for _ in range(4)]
    for job in made:
        pausing.pause_job(conn, job.id, t0, until=t0 + 2 * MIN)
    results = together(dsn, lambda c: pauses.resume_due(c, t0 + 3 * MIN))
    assert sum(results) == 4
    for job in made:
        assert len(events(conn, job, "resume")) == 1
        assert [r["skip_reason"] for r in runs_of(conn, job.id)] == ["job paused"]


def test_skip_n_records_n_skipped_slots_then_runs_again(conn, t0):
    job = make_job(conn, next_run_at=t0, overlap_policy="allow")
    with audit.acting_as(audit.Actor("ops token")):
        asked = pausing.skip_runs(conn, job.id, 2)
    assert asked.skip_next_runs == 2
    assert events(conn, job, "skip")[0]["changes"] == {"skip_next_runs": [0, 2]}
    for i in range(4):
        tick(conn, t0 + i * MIN)
    rows = runs_of(conn, job.id)
    assert [(r["status"], r["skip_reason"]) for r in rows] == [
        ("skipped", "skipped on request by ops token"), ("skipped", "skipped on request by ops token"),
        ("pending", None), ("pending", None),
    ]  # fmt: skip
    left = jobs.get_job(conn, job.id)
    assert (left.skip_next_runs, left.skip_requested_by) == (0, None)


def test_a_skip_is_used_by_a_slot_that_would_run_only(conn, t0):
    # run_once misfire: nine missed slots coalesce into one catch-up run; the skip takes that run
    job = make_job(conn, next_run_at=t0 - 9 * MIN)
    pausing.skip_runs(conn, job.id, 1)
    tick(conn, t0)
    rows = runs_of(conn, job.id)
    assert len(rows) == 10 and all(r["status"] == "skipped" for r in rows)
    assert rows[-1]["skip_reason"].startswith("skipped on request by")
    assert all(r["skip_reason"].startswith("misfire") for r in rows[:-1])
    assert jobs.get_job(conn, job.id).skip_next_runs == 0


def test_one_skip_per_slot_under_three_schedulers(dsn, conn, t0):
    made = [make_job(conn, next_run_at=t0, overlap_policy="allow") for _ in range(5)]
    for job in made:
        pausing.skip_runs(conn, job.id, 1)
    together(dsn, lambda c: tick(c, t0))
    together(dsn, lambda c: tick(c, t0 + MIN))
    for job in made:
        rows = runs_of(conn, job.id)
        assert [r["status"] for r in rows] == ["skipped", "pending"]
        assert jobs.get_job(conn, job.id).skip_next_runs == 0


def test_the_scheduler_loop_resumes_before_its_tick(dsn, conn, t0):
    job = make_job(conn, next_run_at=t0)
    pausing.pause_job(conn, job.id, t0 - MIN, until=t0 + 5 * MIN)
    clock = FixedClock(t0 + 4 * MIN + dt.timedelta(seconds=45))
    scheduler = SchedulerLoop(dsn, Settings(database_url=dsn, data_dir="."), clock=clock)
    try:
        assert scheduler.seconds_until_next() == 15  # it wakes at the pause's end, not a poll later
        clock.set(t0 + 5 * MIN)
        scheduler.run_once()
    finally:
        scheduler.close()
    rows = runs_of(conn, job.id)
    assert [r["status"] for r in rows] == ["skipped"] * 5 + ["pending"]
    assert jobs.get_job(conn, job.id).is_active


def test_a_resume_the_quota_refuses_stays_paused_without_spinning(dsn, conn, t0, caplog):
    brand = make_brand(conn)
    make_job(conn, brand, next_run_at=t0 + 30 * MIN)  # the one active job the quota allows
    job = make_job(conn, brand, next_run_at=t0)
    pausing.pause_job(conn, job.id, t0 - MIN, until=t0 + MIN)
    customers.set_quotas(conn, brand.customer_id, {"max_active_jobs": 1})
    assert pauses.resume_due(conn, t0 + MIN) == 0
    assert "auto_resume_failed" in caplog.text
    kept = jobs.get_job(conn, job.id)
    assert (kept.is_active, kept.paused_until) == (False, t0 + MIN)  # tried again at each pass
    scheduler = SchedulerLoop(dsn, Settings(database_url=dsn, data_dir="."), clock=FixedClock(t0 + 2 * MIN))
    try:
        assert scheduler.seconds_until_next() == 60  # the poll, not a busy loop on the past end
    finally:
        scheduler.close()
