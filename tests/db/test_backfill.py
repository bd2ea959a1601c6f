"""Gap-only backfill on a real database, with an injected clock."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper import JobManager, JobSchedule
from cronkeeper import backfill as bf
from cronkeeper.clock import FixedClock
from cronkeeper.errors import ValidationError
from cronkeeper.repo import runs as runs_repo
from cronkeeper.schedule import spread
from tests.support.factories import make_brand, make_job, make_run, runs_of

NOW = dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
DAY0 = dt.datetime(2027, 1, 4, tzinfo=dt.UTC)


def _hourly(conn, **kw):
    return make_job(conn, cron_expression="0 * * * *", next_run_at=NOW + H, **kw)


def test_only_slots_without_a_run_are_created(conn):
    job = _hourly(conn)
    make_run(conn, job, trigger="schedule", status="completed", scheduled_for=DAY0 + 1 * H, now=DAY0 + H,
             started_at=DAY0 + H, finished_at=DAY0 + 2 * H)
    make_run(conn, job, trigger="schedule", status="skipped", scheduled_for=DAY0 + 3 * H, now=DAY0 + 3 * H,
             finished_at=DAY0 + 3 * H, skip_reason="overlap")  # fmt: skip
    before = {r["id"]: (r["status"], r["updated_at"]) for r in runs_of(conn, job.id)}
    result = bf.backfill(conn, job.id, DAY0, DAY0 + 5 * H, NOW)
    assert result.slots == [DAY0, DAY0 + 2 * H, DAY0 + 4 * H, DAY0 + 5 * H]
    assert (result.created, result.skipped_existing) == (4, 2)
    rows = runs_of(conn, job.id)
    assert [r["scheduled_for"] for r in rows] == [DAY0 + n * H for n in range(6)]
    new = [r for r in rows if r["id"] not in before]
    assert {(r["trigger"], r["status"], r["run_after"]) for r in new} == {("schedule", "pending", NOW)}
    assert {r["id"]: (r["status"], r["updated_at"]) for r in rows if r["id"] in before} == before
    again = bf.backfill(conn, job.id, DAY0, DAY0 + 5 * H, NOW)
    assert (again.slots, again.created, again.skipped_existing) == ([], 0, 6)
    events = conn.execute("SELECT action, changes FROM audit_events WHERE job_id = %s", (job.id,)).fetchall()
    assert [e["action"] for e in events] == ["backfill"]
    assert events[0]["changes"]["backfill"][1]["created"] == 4


def test_dry_run_lists_the_same_slots_and_writes_nothing(conn):
    job = _hourly(conn)
    make_run(conn, job, trigger="schedule", scheduled_for=DAY0 + 2 * H, now=DAY0)
    dry = bf.backfill(conn, job.id, DAY0, DAY0 + 4 * H, NOW, dry_run=True)
    assert len(runs_of(conn, job.id)) == 1
    assert (dry.created, dry.skipped_existing, dry.dry_run) == (0, 1, True)
    done = bf.backfill(conn, job.id, DAY0, DAY0 + 4 * H, NOW)
    assert done.slots == dry.slots and done.created == len(dry.slots) == 4


def test_the_cap_names_max_runs_and_writes_nothing(conn):
    job = _hourly(conn)
    with pytest.raises(ValidationError) as err:
        bf.backfill(conn, job.id, DAY0, DAY0 + 24 * H, NOW, max_runs=10)
    assert err.value.field == "max_runs" and "at least 11 slots" in str(err.value)
    assert runs_of(conn, job.id) == []
    assert bf.backfill(conn, job.id, DAY0, DAY0 + 9 * H, NOW, max_runs=10).created == 10
    with pytest.raises(ValidationError) as err:
        bf.backfill(conn, job.id, DAY0, DAY0, NOW, max_runs=0)
    assert err.value.field == "max_runs"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": DAY0 + H, "end": DAY0}, "from"),
        ({"start": DAY0, "end": NOW + H}, "to"),
        ({"start": "yesterday", "end": DAY0}, "from"),
        ({"start": DAY0, "end": dt.datetime(2027, 1, 5)}, "to"),
        ({"start": dt.datetime(1, 1, 1, tzinfo=dt.UTC), "end": DAY0}, "from"),
    ],
)
def test_bad_ranges_name_the_field(conn, kwargs, field):
    job = _hourly(conn)
    with pytest.raises(ValidationError) as err:
        bf.backfill(conn, job.id, kwargs["start"], kwargs["end"], NOW)
    assert err.value.field == field


def test_replace_jobs_are_refused_naming_overlap_policy(conn):
    job = _hourly(conn, overlap_policy="replace")
    with pytest.raises(ValidationError) as err:
        bf.backfill(conn, job.id, DAY0, DAY0 + H, NOW)
    assert err.value.field == "overlap_policy" and runs_of(conn, job.id) == []


@pytest.mark.parametrize(
    ("day", "expected"),
    [(dt.date(2027, 3, 28), 23), (dt.date(2027, 10, 31), 25), (dt.date(2027, 3, 27), 24)],
)
def test_a_dst_day_in_berlin_has_its_real_number_of_slots(conn, day, expected):
    job = make_job(conn, cron_expression="30 * * * *", timezone="Europe/Berlin", next_run_at=None)
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - H  # local midnight (+01:00)
    end = start + 24 * H + (H if expected == 25 else dt.timedelta(0)) - (H if expected == 23 else dt.timedelta(0))
    result = bf.backfill(conn, job.id, start, end - dt.timedelta(seconds=1), NOW + dt.timedelta(days=400))
    assert result.created == expected
    assert len({s for s in result.slots}) == expected


def test_fixed_time_in_the_spring_gap_runs_once_at_the_jump(conn):
    job = make_job(conn, cron_expression="30 2 * * *", timezone="Europe/Berlin", next_run_at=None)
    start = dt.datetime(2027, 3, 27, tzinfo=dt.UTC)
    result = bf.backfill(conn, job.id, start, start + 72 * H, NOW + dt.timedelta(days=400))
    assert result.slots == [
        dt.datetime(2027, 3, 27, 1, 30, tzinfo=dt.UTC),  # 02:30 CET
        dt.datetime(2027, 3, 28, 1, 0, tzinfo=dt.UTC),  # 02:30 does not exist: at the jump (03:00 CEST)
        dt.datetime(2027, 3, 29, 0, 30, tzinfo=dt.UTC),  # 02:30 CEST
    ]


def test_h_slots_are_the_jobs_own(conn):
    job = make_job(conn, cron_expression="H * * * *", next_run_at=NOW + H)
    minute = int(spread.resolve("H * * * *", str(job.id)).split()[0])
    result = bf.backfill(conn, job.id, DAY0, DAY0 + 3 * H, NOW, dry_run=True)
    # the range's ends are inclusive: a job whose H is minute 0 has a fourth slot at its end
    expected = [DAY0 + n * H + dt.timedelta(minutes=minute) for n in range(4)]
    assert result.slots == [s for s in expected if s <= DAY0 + 3 * H]


def test_interval_slots_keep_the_jobs_grid(conn):
    job = make_job(conn, interval_seconds=600, next_run_at=NOW + dt.timedelta(minutes=3))
    result = bf.backfill(conn, job.id, NOW - H, NOW, NOW, dry_run=True)
    assert result.slots[0] == NOW - H + dt.timedelta(minutes=3) and len(result.slots) == 6
    assert all(s.minute % 10 == 3 for s in result.slots)


def test_forbid_backfill_runs_one_after_another_and_allow_side_by_side(conn):
    forbid, allow = _hourly(conn), _hourly(conn, overlap_policy="allow")
    for job in (forbid, allow):
        bf.backfill(conn, job.id, DAY0, DAY0 + 2 * H, NOW)
    claimed = runs_repo.claim_runs(conn, "w1", NOW, limit=10, lease_seconds=60)
    by_job = {}
    for claim in claimed:
        by_job.setdefault(claim.run.scheduled_job_id, []).append(claim.run)
    assert [r.scheduled_for for r in by_job[forbid.id]] == [DAY0]  # the oldest slot first, alone
    assert len(by_job[allow.id]) == 3


def test_python_api_job_backfill(dsn, conn):
    brand = make_brand(conn)
    conn.commit()
    with JobManager(dsn, clock=FixedClock(NOW)) as manager:
        job = manager.create_job(brand.id, JobSchedule.cron("H */6 * * *"), "scoring")
        minute = int(spread.resolve("H */6 * * *", str(job.id)).split()[0])
        dry = job.backfill(DAY0, DAY0 + 23 * H, dry_run=True)
        assert dry.slots == [DAY0 + n * 6 * H + dt.timedelta(minutes=minute) for n in range(4)]
        assert job.backfill(DAY0, DAY0 + 23 * H).created == 4
        with pytest.raises(ValidationError) as err:
            job.backfill(DAY0, NOW, max_runs=3)
        assert err.value.field == "max_runs"
    assert len(runs_of(conn, job.id)) == 4
