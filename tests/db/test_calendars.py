"""Calendars (excluded dates, business days only, .ics import) and bounds (start, end, max runs)
through the services and the scheduler's tick, with an injected clock."""

import datetime as dt
import random

import pytest

from cronkeeper import calendars, customers, job_states, jobs
from cronkeeper.errors import Conflict, NotFound, ValidationError
from cronkeeper.repo import calendars as calendars_repo
from cronkeeper.schedule.bounds import finished_reason
from cronkeeper.services.scheduler.tick import tick
from tests.support.factories import make_brand, runs_of

T0 = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)  # a Monday
D = dt.timedelta(days=1)
HOLIDAYS_ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//holidays//EN\r
BEGIN:VEVENT\r
UID:new-year@test\r
DTSTART;VALUE=DATE:20270101\r
RRULE:FREQ=YEARLY\r
SUMMARY:New Year's Day\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:company@test\r
DTSTART;VALUE=DATE:20270106\r
SUMMARY:Company day\\, all hands\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:christmas@test\r
DTSTART;VALUE=DATE:20271224\r
DTEND;VALUE=DATE:20271227\r
SUMMARY:Christmas\r
 break\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _tick(conn, now):
    return tick(conn, now, rng=random.Random(1), grace_seconds=10**9)


def _daily(brand, **extra):
    """A job every day at 10:00 in Berlin (09:00 UTC in winter), every slot inserted on catch-up."""
    return {"brand_id": brand.id, "job_type": "scoring", "cron_expression": "0 10 * * *",
            "timezone": "Europe/Berlin", "misfire_policy": "run_all", "overlap_policy": "allow", **extra}  # fmt: skip


def _states(conn, job_id):
    return [(r["scheduled_for"].date().isoformat(), r["status"], r["skip_reason"]) for r in runs_of(conn, job_id)]


def test_a_calendar_skips_its_dates_with_the_reason(conn):
    brand = make_brand(conn)
    cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "Holidays"})
    assert calendars.add_dates(conn, cal.id, ["2027-01-06", dt.date(2027, 1, 8)], "closed") == 2
    assert calendars.add_dates(conn, cal.id, ["2027-01-06"]) == 0  # already there
    job = jobs.create_job(conn, _daily(brand, calendar_id=str(cal.id)), T0)
    assert job.calendar_id == cal.id
    _tick(conn, T0 + 5 * D)  # slots of the 5th to the 9th
    assert _states(conn, job.id) == [
        ("2027-01-05", "pending", None),
        ("2027-01-06", "skipped", "calendar: Holidays excludes 2027-01-06"),
        ("2027-01-07", "pending", None),
        ("2027-01-08", "skipped", "calendar: Holidays excludes 2027-01-08"),
        ("2027-01-09", "pending", None),
    ]
    # removing a date lets its later slots run again
    calendars.remove_date(conn, cal.id, "2027-01-08")
    with pytest.raises(NotFound) as gone:
        calendars.remove_date(conn, cal.id, "2027-01-08")
    assert gone.value.field == "date"
    assert [d.day for d in calendars.calendar_dates(conn, cal.id)] == [dt.date(2027, 1, 6)]


def test_the_slots_local_date_decides(conn):
    """23:30 UTC on 31 December is already 1 January in Berlin: excluded there, not in UTC."""
    brand = make_brand(conn)
    cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "NY", "dates": ["2027-01-01"]})
    start = dt.datetime(2026, 12, 30, 12, tzinfo=dt.UTC)
    berlin = jobs.create_job(conn, {**_daily(brand, calendar_id=cal.id), "cron_expression": "30 0 * * *"}, start)
    utc = jobs.create_job(conn, {**_daily(brand, calendar_id=cal.id), "cron_expression": "30 23 * * *",
                                 "timezone": "UTC"}, start)  # fmt: skip
    _tick(conn, dt.datetime(2027, 1, 2, 12, tzinfo=dt.UTC))
    berlin_runs = runs_of(conn, berlin.id)
    skipped = [r["scheduled_for"] for r in berlin_runs if r["status"] == "skipped"]
    assert skipped == [dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)]  # 00:30 on 1 January in Berlin
    assert [r["status"] for r in runs_of(conn, utc.id)] == ["pending", "pending", "skipped"]  # 30th, 31st, 1st


def test_business_days_only_skips_weekends(conn):
    brand = make_brand(conn)
    cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "Office",
                                           "business_days_only": True})  # fmt: skip
    job = jobs.create_job(conn, _daily(brand, calendar_id=cal.id), T0)
    _tick(conn, T0 + 7 * D)  # Tuesday the 5th to Monday the 11th
    states = _states(conn, job.id)
    assert [s[1] for s in states] == ["pending"] * 4 + ["skipped"] * 2 + ["pending"]
    assert states[4][2] == "calendar: Office excludes weekends (2027-01-09 is a Saturday)"
    assert states[5][2] == "calendar: Office excludes weekends (2027-01-10 is a Sunday)"


def test_ics_import_of_three_holidays(conn):
    brand = make_brand(conn)
    result = calendars.import_ics(
        conn, HOLIDAYS_ICS, dt.date(2027, 1, 1), values={"customer_id": brand.customer_id, "name": "DE"}
    )
    assert (result.events, result.warnings, result.calendar.name) == (3, (), "DE")
    dates = {d.day: d.label for d in calendars.calendar_dates(conn, result.calendar.id)}
    new_years = [d for d in dates if d.month == 1 and d.day == 1]
    assert [d.year for d in new_years] == list(range(2027, 2033))  # yearly, 5 years past today
    assert dates[dt.date(2027, 1, 6)] == "Company day, all hands"
    christmas = sorted(d for d, label in dates.items() if label == "Christmasbreak")
    assert christmas == [dt.date(2027, 12, 24), dt.date(2027, 12, 25), dt.date(2027, 12, 26)]  # DTEND exclusive
    assert result.added == len(dates) == 10
    again = calendars.import_ics(conn, HOLIDAYS_ICS, dt.date(2027, 1, 1), calendar_id=result.calendar.id)
    assert (again.added, again.already) == (0, 10)
    # the imported dates are skipped by the tick like any other
    job = jobs.create_job(conn, _daily(brand, calendar_id=result.calendar.id), T0)
    _tick(conn, T0 + 3 * D)
    assert ("2027-01-06", "skipped", "calendar: DE excludes 2027-01-06") in _states(conn, job.id)


def test_ics_errors_name_the_field_and_unsupported_rules_are_reported(conn):
    brand = make_brand(conn)
    owner = {"customer_id": brand.customer_id, "name": "X"}
    for text, words in (("hello", "not an iCalendar"),
                        ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2027-13-01\nEND:VEVENT\nEND:VCALENDAR", "line 3")):  # fmt: skip
        with pytest.raises(ValidationError) as bad:
            calendars.import_ics(conn, text, dt.date(2027, 1, 1), values=owner)
        assert bad.value.field == "ics" and words in bad.value.message
    weekly = ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20270105\nRRULE:FREQ=WEEKLY\nSUMMARY:Gym\nEND:VEVENT\n"
              "BEGIN:VEVENT\nDTSTART:20270301T090000Z\nEND:VEVENT\nEND:VCALENDAR")  # fmt: skip
    result = calendars.import_ics(conn, weekly, dt.date(2027, 1, 1), values=owner)
    assert result.added == 1 and "FREQ=WEEKLY is not supported" in result.warnings[0]
    assert calendars.list_calendars(conn, customer_id=brand.customer_id) == [calendars.get_calendar(conn, result.calendar.id)]


def test_a_customer_cannot_use_another_customers_calendar(conn):
    mine, theirs = make_brand(conn), make_brand(conn)
    other = calendars.create_calendar(conn, {"customer_id": theirs.customer_id, "name": "Theirs"})
    with pytest.raises(ValidationError) as refused:
        jobs.create_job(conn, _daily(mine, calendar_id=other.id), T0)
    assert refused.value.field == "calendar_id"
    job = jobs.create_job(conn, _daily(mine), T0)
    with pytest.raises(ValidationError) as refused:
        jobs.update_job(conn, job.id, {"calendar_id": str(other.id)}, T0)
    assert refused.value.field == "calendar_id"
    # a token bound to one customer does not see the other's calendar
    with pytest.raises(NotFound):
        calendars.get_calendar(conn, other.id, customer_id=mine.customer_id)
    with pytest.raises(NotFound):
        calendars.add_dates(conn, other.id, ["2027-01-06"], customer_id=mine.customer_id)
    with pytest.raises(NotFound) as owner:
        calendars.create_calendar(conn, {"customer_id": theirs.customer_id, "name": "x"}, customer_id=mine.customer_id)
    assert owner.value.field == "customer_id"
    # and the schema refuses it even when the service is bypassed
    with pytest.raises(Exception, match="scheduled_jobs_calendar_fkey"):
        conn.execute("UPDATE scheduled_jobs SET calendar_id = %s WHERE id = %s", (other.id, job.id))


def test_calendar_names_are_unique_per_customer_and_a_used_calendar_cannot_go(conn):
    brand, other = make_brand(conn), make_brand(conn)
    cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "Holidays"})
    calendars.create_calendar(conn, {"customer_id": other.customer_id, "name": "Holidays"})  # another customer: fine
    with pytest.raises(Conflict) as taken:
        calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "Holidays"})
    assert taken.value.field == "name"
    job = jobs.create_job(conn, _daily(brand, calendar_id=cal.id), T0)
    with pytest.raises(Conflict) as used:
        calendars.delete_calendar(conn, cal.id)
    assert used.value.field == "calendar_id"
    jobs.update_job(conn, job.id, {"calendar_id": None}, T0)
    calendars.delete_calendar(conn, cal.id)
    with pytest.raises(NotFound):
        calendars.get_calendar(conn, cal.id)


def test_starts_at_no_slot_before(conn):
    brand = make_brand(conn)
    start = T0 + 3 * D - dt.timedelta(hours=1)  # the 7th, 08:00 UTC
    job = jobs.create_job(conn, _daily(brand, starts_at=start.isoformat()), T0)
    assert job.next_run_at == dt.datetime(2027, 1, 7, 9, tzinfo=dt.UTC)
    interval = jobs.create_job(conn, {"brand_id": brand.id, "job_type": "scoring", "interval_seconds": 3600,
                                      "starts_at": start}, T0)  # fmt: skip
    assert interval.next_run_at == start  # an interval starts at the start itself
    _tick(conn, T0 + 4 * D)
    assert [r["scheduled_for"] for r in runs_of(conn, job.id)] == [dt.datetime(2027, 1, 7, 9, tzinfo=dt.UTC),
                                                                     dt.datetime(2027, 1, 8, 9, tzinfo=dt.UTC)]


def test_ends_at_no_slot_after_and_the_job_finishes_saying_when(conn):
    brand = make_brand(conn)
    end = dt.datetime(2027, 1, 7, 9, tzinfo=dt.UTC)  # the 7th's slot is the last
    job = jobs.create_job(conn, _daily(brand, ends_at=end), T0)
    _tick(conn, T0 + 10 * D)
    assert [r["scheduled_for"].day for r in runs_of(conn, job.id)] == [5, 6, 7]
    job = jobs.get_job(conn, job.id)
    assert job.next_run_at is None
    assert job_states.state(conn, job) == job_states.JobState.FINISHED
    assert finished_reason(job) == "ended at 2027-01-07T09:00:00+00:00"
    # an end already past when the job is created: finished at once
    past = jobs.create_job(conn, _daily(brand, ends_at=T0 - D), T0)
    assert past.next_run_at is None and finished_reason(past).startswith("ended at")


def test_max_runs_then_the_job_finishes_and_says_so(conn):
    brand = make_brand(conn)
    job = jobs.create_job(conn, _daily(brand, max_runs=3), T0)
    _tick(conn, T0 + 2 * D)  # two runs
    assert jobs.get_job(conn, job.id).scheduled_run_count == 2
    assert finished_reason(jobs.get_job(conn, job.id)) is None
    _tick(conn, T0 + 10 * D)  # eight slots due, one allowed
    runs = runs_of(conn, job.id)
    assert [r["scheduled_for"].day for r in runs] == [5, 6, 7]
    job = jobs.get_job(conn, job.id)
    assert (job.next_run_at, job.scheduled_run_count) == (None, 3)
    assert job_states.state(conn, job) == job_states.JobState.FINISHED
    assert finished_reason(job) == "reached its 3 runs"
    assert _tick(conn, T0 + 20 * D).jobs == 0
    # raising the cap schedules it again
    more = jobs.update_job(conn, job.id, {"max_runs": 4}, T0 + 20 * D)
    assert more.next_run_at == T0 + 21 * D and finished_reason(more) is None


def test_skipped_slots_do_not_count_against_max_runs(conn):
    brand = make_brand(conn)
    cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "H", "dates": ["2027-01-06"]})
    job = jobs.create_job(conn, _daily(brand, max_runs=2, calendar_id=cal.id), T0)
    _tick(conn, T0 + 5 * D)
    assert [(r["scheduled_for"].day, r["status"]) for r in runs_of(conn, job.id)] == [
        (5, "pending"), (6, "skipped"), (7, "pending")]  # fmt: skip
    assert finished_reason(jobs.get_job(conn, job.id)) == "reached its 2 runs"


@pytest.mark.parametrize(("values", "field"), [
    ({"starts_at": "2027-02-01T00:00:00+00:00", "ends_at": "2027-01-01T00:00:00+00:00"}, "ends_at"),
    ({"starts_at": "2027-02-01T00:00:00+00:00", "ends_at": "2027-02-01T00:00:00+00:00"}, "ends_at"),
    ({"max_runs": 0}, "max_runs"),
    ({"max_runs": 1_000_001}, "max_runs"),
    ({"max_runs": "ten"}, "max_runs"),
    ({"starts_at": "soon"}, "starts_at"),
    ({"ends_at": "2027-02-01T00:00:00"}, "ends_at"),  # no offset
    ({"calendar_id": "not-a-uuid"}, "calendar_id"),
])  # fmt: skip
@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_bad_bounds_are_refused_naming_the_field(conn, values, field):
    brand = make_brand(conn)
    with pytest.raises(ValidationError) as refused:
        jobs.create_job(conn, _daily(brand, **values), T0)
    assert refused.value.field == field
    job = jobs.create_job(conn, _daily(brand), T0)
    with pytest.raises(ValidationError) as refused:
        jobs.update_job(conn, job.id, values, T0)
    assert refused.value.field == field


def test_the_tick_loads_every_due_jobs_calendar_in_one_query(conn, monkeypatch):
    brands = [make_brand(conn) for _ in range(3)]
    cals = [calendars.create_calendar(conn, {"customer_id": b.customer_id, "name": "H", "dates": ["2027-01-05"]})
            for b in brands]  # fmt: skip
    made = [jobs.create_job(conn, _daily(b, calendar_id=c.id), T0) for b, c in zip(brands * 10, cals * 10, strict=True)]
    made.append(jobs.create_job(conn, _daily(brands[0]), T0))  # no calendar
    calls = []
    real = calendars_repo.calendar_rules
    monkeypatch.setattr(calendars_repo, "calendar_rules", lambda c, ids: calls.append(sorted(ids)) or real(c, ids))
    result = _tick(conn, T0 + D)
    assert result.jobs == 31 and calls == [sorted(c.id for c in cals)]  # one query, each calendar once
    skipped = conn.execute("SELECT count(*) AS n FROM job_runs WHERE skip_reason = 'calendar: H excludes 2027-01-05'")
    assert skipped.fetchone()["n"] == 30


def test_deleting_a_customer_takes_its_calendars_and_jobs(conn):
    brand = make_brand(conn)
    cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "H", "dates": ["2027-01-05"]})
    jobs.create_job(conn, _daily(brand, calendar_id=cal.id), T0)
    customers.delete_customer(conn, brand.customer_id)
    assert conn.execute("SELECT count(*) AS n FROM calendar_dates").fetchone()["n"] == 0
    assert calendars.list_calendars(conn) == []
