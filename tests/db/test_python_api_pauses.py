"""The Python API's ``Job.pause(reason=, until=)``, ``Job.resume()``, ``Job.skip(count)`` and auto-pause settings."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper import JobManager, JobSchedule
from cronkeeper.clock import FixedClock
from cronkeeper.errors import ValidationError
from cronkeeper.services.scheduler.tick import tick
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, runs_of


@pytest.fixture
def manager(dsn, t0):
    with JobManager(dsn, settings=Settings(database_url=None, data_dir="."), clock=FixedClock(t0)) as m:
        yield m


def test_pause_resume_and_skip_on_a_job(manager, conn, t0):
    brand = make_brand(conn)
    job = manager.create_job(brand.id, JobSchedule.every(60), "scoring", auto_pause_after_failures=4,
                             auto_pause_trial_after_seconds=300)  # fmt: skip
    assert (job.auto_pause_after_failures, job.auto_pause_trial_after_seconds) == (4, 300)
    job.pause(reason="reindexing", until=t0 + dt.timedelta(hours=2))
    assert (job.is_active, job.state, job.paused_reason, job.paused_by) == (False, "paused", "reindexing", "python")
    assert (job.paused_at, job.paused_until) == (t0, t0 + dt.timedelta(hours=2))
    with pytest.raises(ValidationError) as err:
        job.pause(until=t0 - dt.timedelta(seconds=1))
    assert err.value.field == "until"
    job.resume()
    assert (job.is_active, job.resumed_by, job.resumed_at, job.paused_reason) == (True, "python", t0, None)
    job.skip(2)
    assert job.skip_next_runs == 2
    with pytest.raises(ValidationError):
        job.skip(0)
    tick(conn, job.next_run_at)
    assert [r["skip_reason"] for r in runs_of(conn, job.id)] == ["skipped on request by python"]
    job.auto_pause_after_failures = None
    manager.update_job(job)
    assert manager.get_job(job.id).auto_pause_after_failures is None
    assert job.to_dict()["paused_at"] is None and "skip_next_runs" in job.to_dict()
