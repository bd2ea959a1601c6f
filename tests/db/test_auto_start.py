"""Auto-start ("run once now when saved"): a new job and a first manual run, saved together,
through the service, the CLI and the Python API (the API's is in tests/api/test_api_jobs.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper import jobs
from cronkeeper.client import JobManager, JobSchedule
from cronkeeper.errors import ValidationError
from tests.support.factories import make_brand

NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)


def _runs(conn, job_id) -> list[dict]:
    return conn.execute("SELECT id, trigger, status, run_after FROM job_runs WHERE scheduled_job_id = %s",
                        (job_id,)).fetchall()  # fmt: skip


def test_the_service_saves_the_job_and_its_manual_run_together(conn):
    brand = make_brand(conn)
    job, run = jobs.create_and_start(conn, {"brand_id": brand.id, "job_type": "scoring", "interval_seconds": 60}, NOW)
    assert (run.scheduled_job_id, str(run.trigger), str(run.status), run.run_after) == (job.id, "manual", "pending", NOW)
    assert job.next_run_at == NOW + dt.timedelta(seconds=60)  # the schedule stands: the run is one more
    assert [r["id"] for r in _runs(conn, job.id)] == [run.id]
    before = conn.execute("SELECT count(*) AS n FROM scheduled_jobs").fetchone()["n"]
    with pytest.raises(ValidationError):
        jobs.create_and_start(conn, {"brand_id": brand.id, "job_type": "scoring"}, NOW)  # no schedule
    assert conn.execute("SELECT count(*) AS n FROM scheduled_jobs").fetchone()["n"] == before


def test_cli_create_start_now_says_the_run(ck, conn):
    brand = make_brand(conn)
    started = ck.json("jobs", "create", "--brand", str(brand.id), "--type", "scoring", "--interval", "300",
                      "--start-now")  # fmt: skip
    [run] = _runs(conn, started["id"])
    assert (started["started_run_id"], run["trigger"], run["status"]) == (run["id"], "manual", "pending")
    plain = ck.json("jobs", "create", "--brand", str(brand.id), "--type", "scoring", "--interval", "300")
    assert plain["started_run_id"] is None and _runs(conn, plain["id"]) == []


def test_python_api_create_job_auto_start(dsn, conn):
    brand = make_brand(conn)
    with JobManager(dsn) as manager:
        job = manager.create_job(brand.id, JobSchedule.every(seconds=300), "scoring", auto_start=True)
        plain = manager.create_job(brand.id, JobSchedule.every(seconds=300), "scoring")
    [run] = _runs(conn, job.id)
    assert (job.last_run_id, job.status, run["trigger"]) == (run["id"], "pending", "manual")
    assert (plain.last_run_id, _runs(conn, plain.id)) == (None, [])
