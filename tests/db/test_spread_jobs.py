"""H and cron jitter on saved jobs: next_run_at from the job's id, tick and update honour both."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from cronkeeper import jobs
from cronkeeper.errors import ValidationError
from cronkeeper.services.scheduler.tick import tick
from tests.support.factories import make_brand, make_job, runs_of

NOW = dt.datetime(2027, 1, 4, 8, 0, tzinfo=dt.UTC)


def _minute(job) -> int:
    return int(job.schedule.resolved_expression.split()[0])


def test_created_h_job_gets_its_own_minute(conn):
    brand = make_brand(conn)
    made = [
        jobs.create_job(conn, {"brand_id": brand.id, "job_type": "scoring", "cron_expression": "H 9 * * *"}, NOW)
        for _ in range(5)
    ]
    for job in made:
        assert job.cron_expression == "H 9 * * *"
        assert job.next_run_at == dt.datetime(2027, 1, 4, 9, _minute(job), tzinfo=dt.UTC)
    assert len({_minute(j) for j in made}) > 1


def test_tick_and_update_resolve_h_with_the_job_id(conn):
    brand = make_brand(conn)
    job = jobs.create_job(conn, {"brand_id": brand.id, "job_type": "scoring", "cron_expression": "H * * * *"}, NOW)
    due = job.next_run_at
    tick(conn, due, rng=random.Random(1))
    [run] = runs_of(conn, job.id)
    assert run["scheduled_for"] == due
    after = conn.execute("SELECT next_run_at FROM scheduled_jobs WHERE id=%s", (job.id,)).fetchone()
    assert after["next_run_at"] == due + dt.timedelta(hours=1)
    moved = jobs.update_job(conn, job.id, {"cron_expression": "H 10 * * *"}, NOW)
    assert moved.next_run_at == dt.datetime(2027, 1, 4, 10, _minute(moved), tzinfo=dt.UTC)


def test_cron_jitter_delays_run_after_and_never_moves_the_slot(conn):
    brand = make_brand(conn)
    job = jobs.create_job(
        conn, {"brand_id": brand.id, "job_type": "scoring", "cron_expression": "*/10 * * * *", "jitter_seconds": 300},
        NOW,
    )
    assert job.jitter_seconds == 300
    slot = job.next_run_at
    for n in range(6):
        tick(conn, slot + dt.timedelta(minutes=10 * n), rng=random.Random(n))
    rows = runs_of(conn, job.id)
    assert [r["scheduled_for"] for r in rows] == [slot + dt.timedelta(minutes=10 * n) for n in range(6)]
    delays = [(r["run_after"] - r["scheduled_for"]).total_seconds() for r in rows]
    assert all(0 <= d <= 300 for d in delays) and len(set(delays)) > 1


def test_the_table_takes_cron_jitter_but_not_on_one_offs(conn):
    job = make_job(conn, cron_expression="0 * * * *", jitter_seconds=30)
    assert job.jitter_seconds == 30
    with pytest.raises(ValidationError) as err, conn.transaction():
        make_job(conn, run_at=NOW, jitter_seconds=30)
    assert err.value.field == "jitter_seconds"
