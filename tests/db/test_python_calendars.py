"""``manager.calendars`` and a job's calendar and bounds from the Python API."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from cronkeeper import JobManager, JobSchedule
from cronkeeper.clock import FixedClock
from cronkeeper.errors import Conflict, ValidationError
from cronkeeper.services.scheduler.tick import tick
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, runs_of

pytestmark = pytest.mark.filterwarnings("ignore::cronkeeper.errors.CollectorWarning")
ICS = ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20270105\nSUMMARY:One\nEND:VEVENT\n"
       "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20270107\nDTEND;VALUE=DATE:20270109\nSUMMARY:Two\nEND:VEVENT\nEND:VCALENDAR\n")  # fmt: skip


@pytest.fixture
def manager(dsn, t0):
    with JobManager(dsn, settings=Settings(database_url=None, data_dir="."), clock=FixedClock(t0)) as m:
        yield m


def test_calendars_and_bounds_from_python(manager, conn, t0):
    brand = make_brand(conn)
    cal = manager.calendars.create(brand.customer_id, "Holidays", dates=["2027-01-06"])
    result = manager.calendars.import_ics(ICS, calendar_id=cal.id)
    assert (result.added, result.events) == (3, 2)
    assert [d.day.day for d in manager.calendars.dates(cal.id)] == [5, 6, 7, 8]
    with pytest.raises(Conflict):
        manager.calendars.create(brand.customer_id, "Holidays")
    with pytest.raises(ValidationError) as bad:
        manager.create_job(brand.id, JobSchedule.daily("10:00", "UTC"), "scoring", max_runs=0)
    assert bad.value.field == "max_runs"
    job = manager.create_job(brand.id, JobSchedule.daily("10:00", "UTC"), "scoring", calendar_id=cal.id,
                             max_runs=2, misfire_policy="run_all", overlap_policy="allow")  # fmt: skip
    assert (job.calendar_id, job.max_runs, job.finished_reason) == (cal.id, 2, None)
    tick(conn, t0 + dt.timedelta(days=6), rng=random.Random(1), grace_seconds=10**9)
    statuses = [(r["scheduled_for"].day, r["status"]) for r in runs_of(conn, job.id)]
    assert statuses == [(4, "pending"), (5, "skipped"), (6, "skipped"), (7, "skipped"), (8, "skipped"), (9, "pending")]
    job = manager.get_job(job.id)
    assert (job.state, job.finished_reason, job.scheduled_run_count) == ("finished", "reached its 2 runs", 2)
    job.max_runs = 5  # an edit saves like any other field
    job = manager.update_job(job)
    assert job.finished_reason is None and job.next_run_at is not None
    assert job.to_dict()["calendar_id"] == str(cal.id)
