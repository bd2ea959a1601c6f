"""Stored cron slots re-planned when the time-zone data changes (services/scheduler/replan.py).

New zone data is simulated the other way round: a stored ``next_run_at`` that
the current data does not give (as if computed with an older release) and an
older release recorded in ``cronkeeper_meta``.
"""

import datetime as dt
import json
import logging
import threading

from cronkeeper.cli import main
from cronkeeper.clock import FixedClock
from cronkeeper.db import connect
from cronkeeper.repo import meta
from cronkeeper.schedule.zones import TZDATA_VERSION
from cronkeeper.services.scheduler import replan
from cronkeeper.services.scheduler.loop import SchedulerLoop
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job

H = dt.timedelta(hours=1)
OLD, NEW = "2000a", "2099z"
# t0 is Monday 2027-01-04 09:00Z; 09:00 in New York (EST, -5) is 14:00Z that day
NY_NINE = dt.datetime(2027, 1, 4, 14, 0, tzinfo=dt.UTC)


def ny_job(conn, next_run_at, **kw):
    return make_job(conn, cron_expression="0 9 * * *", timezone="America/New_York", next_run_at=next_run_at, **kw)


def next_of(conn, job):
    return conn.execute("SELECT next_run_at FROM scheduled_jobs WHERE id=%s", (job.id,)).fetchone()["next_run_at"]


def recorded(conn):
    return meta.get_value(conn, replan.VERSION_KEY)


def replanned_events(caplog):
    return [r for r in caplog.records if r.getMessage() == "tz_data_replanned"]


def test_stale_slot_moves_to_the_current_datas_slot(conn, t0, caplog):
    caplog.set_level(logging.INFO)
    meta.put_value(conn, replan.VERSION_KEY, OLD, t0)
    stale = ny_job(conn, NY_NINE + H)  # as if New York were at -6
    right = ny_job(conn, NY_NINE)
    result = replan.run_once(conn, t0, NEW)
    assert (result.old_version, result.new_version, result.moved, result.examined) == (OLD, NEW, 1, 2)
    assert result.recorded and not result.busy
    assert next_of(conn, stale) == NY_NINE
    assert next_of(conn, right) == NY_NINE
    assert recorded(conn) == NEW
    [event] = replanned_events(caplog)
    assert (event.old_version, event.new_version, event.jobs_moved) == (OLD, NEW, 1)


def test_slot_never_moves_before_now(conn, t0):
    meta.put_value(conn, replan.VERSION_KEY, OLD, t0)
    day = dt.timedelta(days=1)
    ten = NY_NINE + H  # 10:00 in New York on 2027-01-04
    job = make_job(conn, cron_expression="0 10 * * *", timezone="America/New_York", next_run_at=ten + day + H)
    conn.execute("UPDATE scheduled_jobs SET last_run_at = %s WHERE id = %s", (ten - day, job.id))
    # at 10:30 local the new data's 10:00 has passed unrun: the job goes to the next day's, not back
    now = ten + dt.timedelta(minutes=30)
    assert replan.run_once(conn, now, NEW).moved == 1
    assert next_of(conn, job) == ten + day


def test_running_again_changes_nothing(conn, t0, caplog):
    caplog.set_level(logging.INFO)
    meta.put_value(conn, replan.VERSION_KEY, OLD, t0)
    job = ny_job(conn, NY_NINE + H)
    assert replan.run_once(conn, t0, NEW).moved == 1
    conn.execute("UPDATE scheduled_jobs SET next_run_at = %s WHERE id = %s", (NY_NINE + 2 * H, job.id))
    again = replan.run_once(conn, t0 + H, NEW)
    assert (again.moved, again.batches, again.recorded) == (0, 0, False)
    assert next_of(conn, job) == NY_NINE + 2 * H  # the recorded release stops it from looking
    assert len(replanned_events(caplog)) == 1


def test_due_paused_and_other_kinds_are_untouched(conn, t0):
    meta.put_value(conn, replan.VERSION_KEY, OLD, t0)
    due = ny_job(conn, t0 - H)  # missed work: the tick runs it under its misfire policy
    paused = ny_job(conn, NY_NINE + H, is_active=False)
    every = make_job(conn, interval_seconds=600, next_run_at=t0 + 7 * dt.timedelta(minutes=1))
    once = make_job(conn, run_at=t0 + 5 * H, next_run_at=t0 + 5 * H)
    result = replan.run_once(conn, t0, NEW)
    assert (result.moved, result.examined, result.recorded) == (0, 0, True)
    stored = [next_of(conn, j) for j in (due, paused, every, once)]
    assert stored == [t0 - H, NY_NINE + H, t0 + 7 * dt.timedelta(minutes=1), t0 + 5 * H]


def test_first_start_records_the_release_and_replans(conn, t0, caplog):
    caplog.set_level(logging.INFO)
    assert recorded(conn) is None
    right = ny_job(conn, NY_NINE)
    stale = ny_job(conn, NY_NINE + H)
    result = replan.run_once(conn, t0, NEW)
    assert (result.old_version, result.moved, result.recorded) == (None, 1, True)
    assert (next_of(conn, right), next_of(conn, stale)) == (NY_NINE, NY_NINE)
    assert recorded(conn) == NEW
    [event] = replanned_events(caplog)
    assert (event.old_version, event.jobs_moved) == (None, 1)


def test_a_schedule_the_data_cannot_compute_is_left_for_the_tick(conn, t0):
    meta.put_value(conn, replan.VERSION_KEY, OLD, t0)
    gone = make_job(conn, cron_expression="0 9 * * *", timezone="Atlantis/Capital", next_run_at=t0 + H)
    stale = ny_job(conn, NY_NINE + H)
    result = replan.run_once(conn, t0, NEW)
    assert result.moved == 1 and len(result.errors) == 1 and str(gone.id) in result.errors[0]
    assert (next_of(conn, gone), next_of(conn, stale)) == (t0 + H, NY_NINE)


def test_batches_record_progress_and_a_later_start_finishes(conn, dsn, t0, caplog):
    caplog.set_level(logging.INFO)
    meta.put_value(conn, replan.VERSION_KEY, OLD, t0)
    brand = make_brand(conn)
    jobs = [ny_job(conn, NY_NINE + H, brand=brand) for _ in range(5)]
    first = replan.replan_batch(conn, t0, NEW, batch_size=2)  # then the process stops
    assert (first.moved, first.recorded) == (2, False)
    assert recorded(conn) == OLD and meta.get_value(conn, replan.PROGRESS_KEY) is not None
    with connect(dsn, autocommit=True) as other:
        rest = replan.run_once(other, t0, NEW, batch_size=2)
    assert (rest.moved, rest.batches, rest.recorded) == (3, 2, True)
    assert [next_of(conn, j) for j in jobs] == [NY_NINE] * 5
    assert recorded(conn) == NEW and meta.get_value(conn, replan.PROGRESS_KEY) is None
    [event] = replanned_events(caplog)
    assert event.jobs_moved == 5  # the whole re-plan, across both processes


def test_unreadable_progress_starts_over(conn, t0):
    meta.put_value(conn, replan.VERSION_KEY, OLD, t0)
    meta.put_value(conn, replan.PROGRESS_KEY, "{not json", t0)
    job = ny_job(conn, NY_NINE + H)
    assert replan.run_once(conn, t0, NEW).moved == 1
    assert next_of(conn, job) == NY_NINE and recorded(conn) == NEW


def test_a_held_lock_leaves_the_work_to_its_holder(conn, dsn, t0):
    meta.put_value(conn, replan.VERSION_KEY, OLD, t0)
    job = ny_job(conn, NY_NINE + H)
    with connect(dsn) as holder, holder.transaction():
        assert meta.try_xact_lock(holder, replan.LOCK_KEY)
        result = replan.run_once(conn, t0, NEW)
    assert (result.busy, result.moved, result.recorded) == (True, 0, False)
    assert next_of(conn, job) == NY_NINE + H and recorded(conn) == OLD


def test_schedulers_starting_together_move_each_job_once(conn, dsn, t0, caplog):
    caplog.set_level(logging.INFO)
    meta.put_value(conn, replan.VERSION_KEY, OLD, t0)
    brand = make_brand(conn)
    jobs = [ny_job(conn, NY_NINE + H, brand=brand) for _ in range(9)]
    results, start = [], threading.Barrier(3)

    def start_one():
        with connect(dsn, autocommit=True) as c:
            start.wait()
            results.append(replan.run_once(c, t0, NEW, batch_size=2))

    threads = [threading.Thread(target=start_one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    assert sum(r.moved for r in results) == 9
    assert sum(r.recorded for r in results) == 1
    assert [next_of(conn, j) for j in jobs] == [NY_NINE] * 9
    [event] = replanned_events(caplog)
    assert event.jobs_moved == 9


def test_scheduler_start_up_replans_and_survives_a_failure(dsn, conn, t0, caplog):
    caplog.set_level(logging.INFO)
    meta.put_value(conn, replan.VERSION_KEY, OLD, t0)
    job = ny_job(conn, NY_NINE + H)
    settings = Settings(database_url=None, data_dir=".")
    scheduler = SchedulerLoop(dsn, settings, clock=FixedClock(t0))
    assert scheduler.start_up(NEW).moved == 1
    assert next_of(conn, job) == NY_NINE
    conn.execute("DROP TABLE cronkeeper_meta")
    assert scheduler.start_up("2100a") is None  # logged, not raised
    [failed] = [r for r in caplog.records if r.getMessage() == "tz_data_replan_failed"]
    assert "cronkeeper_meta" in failed.error
    due = ny_job(conn, t0)
    assert scheduler.run_once().jobs == 1  # the scheduler ticks on
    assert next_of(conn, due) == NY_NINE
    scheduler.close()


def test_serve_replans_before_its_first_tick(dsn, conn, t0):
    meta.put_value(conn, replan.VERSION_KEY, OLD, t0)
    job = ny_job(conn, NY_NINE + H)
    stop = threading.Event()
    stop.set()  # serve starts up, then stops before ticking
    SchedulerLoop(dsn, Settings(database_url=None, data_dir="."), clock=FixedClock(t0)).serve(stop)
    assert next_of(conn, job) == NY_NINE
    assert recorded(conn) == TZDATA_VERSION


def test_scheduler_once_replans_before_its_tick(dsn, conn, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", dsn)
    meta.put_value(conn, replan.VERSION_KEY, OLD, dt.datetime.now(dt.UTC))
    job = ny_job(conn, None)
    right = job.schedule.next_after(dt.datetime.now(dt.UTC))
    conn.execute("UPDATE scheduled_jobs SET next_run_at = %s WHERE id = %s", (right + H, job.id))
    assert main(["scheduler", "--once"]) == 0
    assert json.loads(capsys.readouterr().out)["jobs"] == 0
    assert next_of(conn, job) == right
    assert recorded(conn) == TZDATA_VERSION
