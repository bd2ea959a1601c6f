"""Schedule versions, the diff of upcoming runs before saving, and revert, on a real database
with an injected clock (``cronkeeper/schedule_versions.py``, ``cronkeeper/schedule_edits.py``)."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper import JobManager, JobSchedule, audit, calendars, jobs, pausing, schedule_edits
from cronkeeper.clock import FixedClock
from cronkeeper.errors import InvalidSchedule, NotFound, ValidationError
from cronkeeper.schedule_versions import BASELINE_NOTE, SCHEDULE_VERSION_FIELDS
from cronkeeper.services.scheduler import pauses
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job, make_run

# Monday before the last Sunday of March 2027 (the 28th: Berlin goes from UTC+1 to UTC+2)
NOW = dt.datetime(2027, 3, 22, 12, 0, tzinfo=dt.UTC)
BERLIN = "Europe/Berlin"


def _utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def _job(conn, **values):
    brand = make_brand(conn)
    body = {"brand_id": brand.id, "job_type": "data_collection", "cron_expression": "0 9 * * *",
            "timezone": BERLIN, **values}  # fmt: skip
    return jobs.create_job(conn, body, NOW)


def _versions(conn, job):
    return schedule_edits.versions(conn, job.id)


def test_create_is_version_1_and_each_schedule_change_the_next(conn):
    with audit.acting_as(audit.Actor("nightly-sync")):
        job = _job(conn)
        jobs.update_job(
            conn, job.id, {"name": "renamed", "max_retries": 1}, NOW
        )  # no schedule field
        jobs.update_job(
            conn, job.id, {"cron_expression": "30 8 * * *"}, NOW + dt.timedelta(minutes=5)
        )
        jobs.set_active(conn, job.id, False, NOW + dt.timedelta(minutes=6))
    found = _versions(conn, job)
    assert [v.version for v in found] == [3, 2, 1]
    first = found[-1]
    assert first.before is None and first.actor == "nightly-sync" and first.at == NOW
    assert set(first.after) == set(SCHEDULE_VERSION_FIELDS)
    assert first.after["cron_expression"] == "0 9 * * *" and first.after["timezone"] == BERLIN
    assert found[1].changes == {"cron_expression": ["0 9 * * *", "30 8 * * *"]}
    assert found[1].at == NOW + dt.timedelta(minutes=5)
    assert found[0].changes == {"is_active": [True, False]}
    assert found[0].before == found[1].after


def test_a_job_saved_before_versions_gets_a_baseline_first(conn):
    job = make_job(conn, cron_expression="0 6 * * *", next_run_at=NOW)  # inserted as before 0020
    assert _versions(conn, job) == []
    jobs.update_job(conn, job.id, {"jitter_seconds": 60}, NOW)
    second, first = _versions(conn, job)
    assert (first.version, first.note, first.actor, first.before) == (
        1,
        BASELINE_NOTE,
        "system",
        None,
    )
    assert first.after["jitter_seconds"] == 0 and second.changes == {"jitter_seconds": [0, 60]}


def test_a_failed_change_writes_no_version(conn):
    job = _job(conn)
    with pytest.raises(InvalidSchedule):
        jobs.update_job(conn, job.id, {"cron_expression": "61 * * * *"}, NOW)
    assert [v.version for v in _versions(conn, job)] == [1]


def test_the_diff_across_the_spring_change_moves_each_run_half_an_hour(conn):
    job = _job(conn)
    diff = schedule_edits.schedule_diff(conn, job.id, {"cron_expression": "30 8 * * *"}, NOW)
    assert diff.changes == {"cron_expression": ["0 9 * * *", "30 8 * * *"]}
    days = range(23, 33)  # 10 runs: Mar 23 .. Apr 1
    old = [
        _utc(2027, 3, d, 8) if d < 28 else _utc(2027, 3, 1, 7) + dt.timedelta(days=d - 1)
        for d in days
    ]
    assert diff.slots.before == old
    assert diff.slots.moved == [(t, t - dt.timedelta(minutes=30)) for t in old]
    assert (diff.slots.added, diff.slots.removed, diff.slots.unchanged) == ([], [], [])
    assert diff.next_run_at_after == _utc(2027, 3, 23, 7, 30)
    (note,) = diff.slots.dst_notes
    assert note.kind == "clock_change" and note.at == _utc(2027, 3, 28, 1)
    assert "go forward from 02:00 to 03:00" in note.text
    # nothing written
    assert jobs.get_job(conn, job.id).cron_expression == "0 9 * * *"
    assert [v.version for v in _versions(conn, job)] == [1]


def test_the_diff_notes_a_run_in_the_spring_gap(conn):
    job = _job(conn)
    diff = schedule_edits.schedule_diff(conn, job.id, {"cron_expression": "30 2 * * *"}, NOW)
    assert _utc(2027, 3, 28, 1) in diff.slots.after  # 02:30 does not exist: the run is at the jump
    gap = [n for n in diff.slots.dst_notes if n.kind == "gap"]
    assert [n.text for n in gap] == [
        "02:30 on 2027-03-28 does not exist in Europe/Berlin: that run is at 03:00 (01:00 UTC), when the clocks jump."
    ]


def test_the_diff_lists_added_removed_and_unchanged_runs(conn):
    job = _job(conn, cron_expression="0 9 * * 1-5", timezone="UTC")
    diff = schedule_edits.schedule_diff(
        conn, job.id, {"cron_expression": "0 9 * * 1-3,6"}, NOW, count=5
    )
    # Tuesday 30 is past the 5 runs listed now, but the job has it either way
    assert diff.slots.unchanged == [_utc(2027, 3, d, 9) for d in (23, 24, 29, 30)]
    assert diff.slots.removed == [_utc(2027, 3, 25, 9), _utc(2027, 3, 26, 9)]
    assert (diff.slots.added, diff.slots.moved) == ([_utc(2027, 3, 27, 9)], [])
    paused = schedule_edits.schedule_diff(conn, job.id, {"is_active": False}, NOW, count=3)
    assert paused.slots.after == [] and paused.slots.removed == paused.slots.before
    assert paused.next_run_at_after is None


@pytest.mark.parametrize(
    ("changes", "count", "field"),
    [
        ({"cron_expression": "0 9 * *"}, 10, "cron_expression"),
        ({"timezone": "Mars/Olympus"}, 10, "timezone"),
        ({"jitter_seconds": 86400}, 10, "jitter_seconds"),
        ({"brand_id": "x"}, 10, "brand_id"),
        ({}, 0, "count"),
        ({}, 101, "count"),
    ],
)
def test_a_bad_diff_names_the_field(conn, changes, count, field):
    job = _job(conn)
    with pytest.raises((ValidationError, InvalidSchedule)) as err:
        schedule_edits.schedule_diff(conn, job.id, changes, NOW, count=count)
    assert err.value.field == field


def test_revert_restores_the_exact_schedule_and_next_run(conn):
    job = _job(conn, jitter_seconds=120, overlap_policy="allow")
    v1 = {k: getattr(job, k) for k in (*SCHEDULE_VERSION_FIELDS, "schedule_kind", "next_run_at")}
    later = NOW + dt.timedelta(hours=1)
    jobs.update_job(
        conn, job.id, {"interval_seconds": 3600, "timezone": "UTC", "misfire_policy": "skip"}, later
    )
    assert jobs.get_job(conn, job.id).schedule_kind == "interval"
    restored, version = schedule_edits.revert(conn, job.id, 1, later)
    assert {k: getattr(restored, k) for k in v1} == v1
    assert (version.version, version.reverted_from, version.after) == (
        3,
        1,
        _versions(conn, job)[-1].after,
    )
    again, none = schedule_edits.revert(conn, job.id, 1, later)  # already that schedule
    assert none is None and again.next_run_at == v1["next_run_at"]
    back, v4 = schedule_edits.revert(conn, job.id, 2, later)
    assert (back.interval_seconds, back.misfire_policy, v4.reverted_from) == (3600, "skip", 2)


def test_revert_of_a_missing_version_or_job_is_not_found(conn):
    job = _job(conn)
    with pytest.raises(NotFound):
        schedule_edits.revert(conn, job.id, 9, NOW)
    with pytest.raises(NotFound):
        schedule_edits.versions(conn, make_brand(conn).id)
    with pytest.raises(ValidationError) as err:
        schedule_edits.revert(conn, job.id, 0, NOW)
    assert err.value.field == "version"


def test_the_python_api_diffs_versions_and_reverts(dsn, conn):
    brand = make_brand(conn)
    settings = Settings(database_url=None, data_dir=".")
    with JobManager(dsn, settings=settings, clock=FixedClock(NOW)) as manager:
        job = manager.create_job(brand.id, JobSchedule.daily("09:00", BERLIN), "scoring")
        diff = job.schedule_diff(schedule=JobSchedule.daily("08:30", BERLIN), count=3)
        assert [(a.hour, a.minute, b.hour, b.minute) for a, b in diff.slots.moved] == [
            (8, 0, 7, 30)
        ] * 3
        job.schedule = JobSchedule.every(3600)
        manager.update_job(job)
        assert job.versions()[0].actor == "python" and job.versions()[0].changes[
            "interval_seconds"
        ] == [None, 3600]
        written = job.revert(1)
        assert written.reverted_from == 1 and job.schedule == JobSchedule.daily("09:00", BERLIN)
        assert job.next_run_at == _utc(2027, 3, 23, 8)
        assert [v.version for v in job.versions()] == [3, 2, 1]


def test_the_diff_keeps_to_the_bounds_of_each_side(conn):
    job = _job(conn, cron_expression="0 9 * * *", timezone="UTC")
    capped = schedule_edits.schedule_diff(conn, job.id, {"max_runs": 3}, NOW, count=5)
    assert capped.changes == {"max_runs": [None, 3]}
    assert capped.slots.after == capped.slots.before[:3] == capped.slots.unchanged
    assert capped.slots.removed == capped.slots.before[3:]
    ended = schedule_edits.schedule_diff(
        conn, job.id, {"ends_at": "2027-03-24T12:00:00+00:00"}, NOW, count=5
    )
    assert ended.slots.after == [_utc(2027, 3, 23, 9), _utc(2027, 3, 24, 9)]


def test_revert_restores_the_bounds(conn):
    job = _job(conn, ends_at="2027-06-01T00:00:00+00:00", max_runs=20)
    jobs.update_job(conn, job.id, {"ends_at": "2027-12-01T00:00:00+00:00", "max_runs": None}, NOW)
    restored, version = schedule_edits.revert(conn, job.id, 1, NOW)
    assert (restored.ends_at, restored.max_runs) == (_utc(2027, 6, 1), 20)
    assert version.changes == {"ends_at": ["2027-12-01T00:00:00+00:00", "2027-06-01T00:00:00+00:00"],
                               "max_runs": [None, 20]}  # fmt: skip


def test_a_pause_with_a_reason_and_its_resume_are_versions(conn):
    job = _job(conn)
    with audit.acting_as(audit.Actor("ops")):
        pausing.pause_job(conn, job.id, NOW, reason="maintenance")
        pausing.resume_job(conn, job.id, NOW + dt.timedelta(hours=1))
    resumed, paused, _ = _versions(conn, job)
    assert (paused.changes, paused.actor) == ({"is_active": [True, False]}, "ops")
    assert resumed.changes == {"is_active": [False, True]}


def test_the_schedulers_auto_pause_is_a_version_by_auto_pause(conn):
    job = make_job(
        conn, max_retries=0, auto_pause_after_failures=2, next_run_at=NOW + dt.timedelta(hours=1)
    )
    for n in (10, 5):
        at = NOW - dt.timedelta(minutes=n)
        make_run(conn, job, status="failed", trigger="schedule", scheduled_for=at, started_at=at,
                 finished_at=at + dt.timedelta(seconds=5), worker_id="w", now=at, error_message="boom")  # fmt: skip
    assert pauses.run_once(conn, NOW).auto_paused == 1
    paused, baseline = _versions(conn, job)  # a job saved before versions: its baseline first
    assert (paused.actor, paused.changes) == ("auto-pause", {"is_active": [True, False]})
    assert baseline.note == BASELINE_NOTE


def test_the_diff_marks_the_runs_a_new_calendar_skips(conn):
    job = _job(conn, timezone="UTC")
    holidays = calendars.create_calendar(
        conn, {"customer_id": job.customer_id, "name": "Holidays", "dates": ["2027-03-25"]}
    )
    diff = schedule_edits.schedule_diff(conn, job.id, {"calendar_id": str(holidays.id)}, NOW, count=5)
    assert diff.changes == {"calendar_id": [None, str(holidays.id)]}
    assert diff.slots.unchanged == diff.slots.after  # the slots stay; one is recorded skipped
    assert diff.skipped == {_utc(2027, 3, 25, 9): "calendar: Holidays excludes 2027-03-25"}
    assert diff.to_json()["skipped"] == [
        {"at": "2027-03-25T09:00:00+00:00", "reason": "calendar: Holidays excludes 2027-03-25"}
    ]
