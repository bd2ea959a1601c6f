"""The schedule diff marks, on each side, the runs that side's calendar excludes, and counts
them as the tick does (not runs for ``max_runs``); real database, injected clock."""

from __future__ import annotations

import datetime as dt

from cronkeeper import calendars, jobs, schedule_edits
from tests.support.factories import make_brand

NOW = dt.datetime(2027, 3, 22, 12, 0, tzinfo=dt.UTC)  # a Monday


def _at(day: int) -> dt.datetime:
    return dt.datetime(2027, 3, day, 9, tzinfo=dt.UTC)


def _setup(conn, **values):
    brand = make_brand(conn)
    cal = {d: calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": f"Cal {d}",
                                               "dates": [f"2027-03-{d}"]}) for d in (24, 25)}  # fmt: skip
    body = {"brand_id": brand.id, "job_type": "data_collection", "cron_expression": "0 9 * * *",
            "timezone": "UTC", "calendar_id": str(cal[24].id), **values}  # fmt: skip
    return jobs.create_job(conn, body, NOW), cal


def test_each_side_lists_what_its_own_calendar_excludes(conn):
    job, cal = _setup(conn)
    diff = schedule_edits.schedule_diff(conn, job.id, {"calendar_id": str(cal[25].id)}, NOW, count=5)
    assert diff.slots.before == diff.slots.after == [_at(d) for d in range(23, 28)]
    assert diff.excluded_before == {_at(24): "calendar: Cal 24 excludes 2027-03-24"}
    assert diff.skipped == {_at(25): "calendar: Cal 25 excludes 2027-03-25"}
    out = diff.to_json()["excluded"]
    assert out == {
        "before": [{"at": "2027-03-24T09:00:00+00:00", "reason": "calendar: Cal 24 excludes 2027-03-24"}],
        "after": [{"at": "2027-03-25T09:00:00+00:00", "reason": "calendar: Cal 25 excludes 2027-03-25"}],
    }
    none = schedule_edits.schedule_diff(conn, job.id, {"calendar_id": None}, NOW, count=5)
    assert none.excluded_before == diff.excluded_before and none.skipped == {}
    same = schedule_edits.schedule_diff(conn, job.id, {"cron_expression": "30 8 * * *"}, NOW, count=3)
    assert same.excluded_before == {_at(24): "calendar: Cal 24 excludes 2027-03-24"}
    assert same.skipped == {_at(24) - dt.timedelta(minutes=30): "calendar: Cal 24 excludes 2027-03-24"}


def test_an_excluded_slot_is_not_a_run_for_max_runs_on_either_side(conn):
    job, cal = _setup(conn, max_runs=3)
    diff = schedule_edits.schedule_diff(conn, job.id, {"calendar_id": str(cal[25].id)}, NOW, count=10)
    # three runs each, plus the one slot each calendar skips
    assert diff.slots.before == [_at(23), _at(24), _at(25), _at(26)]
    assert diff.slots.after == [_at(23), _at(24), _at(25), _at(26)]
    assert list(diff.excluded_before) == [_at(24)] and list(diff.skipped) == [_at(25)]
    off = schedule_edits.schedule_diff(conn, job.id, {"calendar_id": None}, NOW, count=10)
    assert off.slots.after == [_at(23), _at(24), _at(25)] and off.slots.removed == [_at(26)]
