"""Backfill and a resume's paused-slot catch-up keep to the job's calendar and bounds (real DB)."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper import backfill as bf
from cronkeeper import calendars, jobs
from cronkeeper.errors import ValidationError
from tests.support.factories import make_brand, make_job, make_run, runs_of

NOW = dt.datetime(2027, 1, 20, 12, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
JAN4 = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)  # a Monday, 09:00 UTC


def _daily(conn, brand=None, **kw):
    return make_job(conn, brand, cron_expression="0 9 * * *", next_run_at=NOW + D, **kw)


def _calendar(conn, brand, dates=(), weekdays=False):
    return calendars.create_calendar(
        conn, {"customer_id": brand.customer_id, "name": "Holidays", "dates": list(dates), "business_days_only": weekdays}
    )


def test_backfill_keeps_to_starts_at_and_ends_at_and_says_so(conn):
    job = _daily(conn, starts_at=JAN4 + 2 * D, ends_at=JAN4 + 4 * D)
    dry = bf.backfill(conn, job.id, JAN4, JAN4 + 8 * D, NOW, dry_run=True)
    assert dry.slots == [JAN4 + 2 * D, JAN4 + 3 * D, JAN4 + 4 * D]
    assert [n.split(":")[0] for n in dry.notes] == ["from", "to"]
    done = bf.backfill(conn, job.id, JAN4, JAN4 + 8 * D, NOW)
    assert done.slots == dry.slots and done.created == 3
    assert [r["scheduled_for"] for r in runs_of(conn, job.id)] == dry.slots
    outside = bf.backfill(conn, job.id, JAN4 + 6 * D, JAN4 + 8 * D, NOW)
    assert (outside.slots, outside.created) == ([], 0) and "outside" in outside.notes[-1]
    assert len(runs_of(conn, job.id)) == 3


def test_backfill_records_calendar_excluded_slots_skipped_as_its_dry_run_lists_them(conn):
    brand = make_brand(conn)
    cal = _calendar(conn, brand, dates=["2027-01-06"], weekdays=True)  # Wed 6th, and 9th/10th weekend
    job = _daily(conn, brand, calendar_id=cal.id)
    make_run(conn, job, trigger="schedule", status="skipped", scheduled_for=JAN4 + 5 * D, now=NOW,
             finished_at=NOW, skip_reason="calendar: Holidays excludes weekends")  # fmt: skip
    dry = bf.backfill(conn, job.id, JAN4, JAN4 + 6 * D, NOW, dry_run=True)
    assert dry.slots == [JAN4, JAN4 + D, JAN4 + 3 * D, JAN4 + 4 * D]
    assert dry.excluded == {
        JAN4 + 2 * D: "calendar: Holidays excludes 2027-01-06",
        JAN4 + 6 * D: "calendar: Holidays excludes weekends (2027-01-10 is a Sunday)",
    }
    assert (dry.created, dry.skipped_calendar, dry.skipped_existing) == (0, 0, 1)
    assert len(runs_of(conn, job.id)) == 1
    done = bf.backfill(conn, job.id, JAN4, JAN4 + 6 * D, NOW)
    assert (done.slots, done.excluded) == (dry.slots, dry.excluded)
    assert (done.created, done.skipped_calendar, done.skipped_existing) == (4, 2, 1)
    rows = {r["scheduled_for"]: r for r in runs_of(conn, job.id)}
    assert {s for s, r in rows.items() if r["status"] == "pending"} == set(dry.slots)
    assert {s: rows[s]["skip_reason"] for s in dry.excluded} == dry.excluded
    assert all(rows[s]["status"] == "skipped" and rows[s]["finished_at"] == NOW for s in dry.excluded)
    event = conn.execute("SELECT changes FROM audit_events WHERE job_id = %s AND action = 'backfill'",
                         (job.id,)).fetchone()  # fmt: skip
    assert event["changes"]["backfill"][1]["excluded"] == 2
    again = bf.backfill(conn, job.id, JAN4, JAN4 + 6 * D, NOW, dry_run=True)
    assert (again.slots, again.excluded, again.skipped_existing) == ([], {}, 7)


def test_calendar_skips_count_against_max_runs_and_the_refusal_says_how_many(conn):
    brand = make_brand(conn)
    cal = _calendar(conn, brand, weekdays=True)
    job = _daily(conn, brand, calendar_id=cal.id)
    with pytest.raises(ValidationError) as err:
        bf.backfill(conn, job.id, JAN4, JAN4 + 6 * D, NOW, max_runs=6)
    assert err.value.field == "max_runs" and "2 of them excluded by the calendar" in str(err.value)
    assert runs_of(conn, job.id) == []
    assert bf.backfill(conn, job.id, JAN4, JAN4 + 6 * D, NOW, max_runs=7).skipped_calendar == 2


def test_a_resume_records_only_the_paused_slots_within_the_bounds_and_the_calendars_reason(conn):
    brand = make_brand(conn)
    cal = _calendar(conn, brand, dates=["2027-01-06"])
    job = make_job(conn, brand, cron_expression="0 9 * * *", next_run_at=JAN4, is_active=False,
                   calendar_id=cal.id, ends_at=JAN4 + 3 * D)  # fmt: skip
    resumed = jobs.set_active(conn, job.id, True, NOW)
    rows = runs_of(conn, job.id)
    assert [(r["scheduled_for"], r["skip_reason"]) for r in rows] == [
        (JAN4, "job paused"), (JAN4 + D, "job paused"),
        (JAN4 + 2 * D, "calendar: Holidays excludes 2027-01-06"), (JAN4 + 3 * D, "job paused"),
    ]  # fmt: skip
    assert {r["status"] for r in rows} == {"skipped"}
    assert resumed.is_active and resumed.next_run_at is None  # past its end: it has finished


def test_a_resume_before_the_end_keeps_the_next_slot_and_before_the_start_records_nothing(conn):
    job = make_job(conn, cron_expression="0 9 * * *", next_run_at=JAN4, is_active=False, ends_at=NOW + 5 * D)
    assert jobs.set_active(conn, job.id, True, NOW).next_run_at == dt.datetime(2027, 1, 21, 9, tzinfo=dt.UTC)
    assert len(runs_of(conn, job.id)) == 17  # 4th to 20th January, 09:00
    capped = make_job(conn, cron_expression="0 9 * * *", next_run_at=JAN4, is_active=False, max_runs=3)
    conn.execute("UPDATE scheduled_jobs SET scheduled_run_count = 3 WHERE id = %s", (capped.id,))
    assert jobs.set_active(conn, capped.id, True, NOW).next_run_at is None
    later = make_job(conn, cron_expression="0 9 * * *", next_run_at=JAN4, is_active=False, starts_at=NOW + D)
    assert jobs.set_active(conn, later.id, True, NOW).next_run_at == dt.datetime(2027, 1, 22, 9, tzinfo=dt.UTC)
    assert runs_of(conn, later.id) == []
