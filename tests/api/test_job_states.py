"""A job's ``state`` (scheduled, paused, running, finished) in the API's job object and list rows,
the CLI and the Python API (``cronkeeper/job_states.py``)."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper.client import JobManager
from cronkeeper.services.scheduler.tick import tick
from tests.support.api import new_job_body
from tests.support.factories import make_brand, make_job, make_run

JOBS = "/api/admin/scheduled-jobs"
CLOCK = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)  # the api fixture's clock


def _states(api) -> dict[str, str]:
    """Each job's state in the list, by id, after checking the single object agrees."""
    listed = {j["id"]: j["state"] for j in api.get(JOBS).json()["data"]}
    for ident, state in listed.items():
        assert api.get(f"{JOBS}/{ident}").json()["state"] == state, ident
    return listed


def test_a_new_job_is_scheduled_and_a_paused_one_paused(api, conn):
    brand = make_brand(conn)
    scheduled = api.post(JOBS, json=new_job_body(brand)).json()
    paused = api.post(JOBS, json=new_job_body(brand, is_active=False)).json()
    assert (scheduled["state"], paused["state"]) == ("scheduled", "paused")
    assert _states(api) == {scheduled["id"]: "scheduled", paused["id"]: "paused"}
    resumed = api.post(f"{JOBS}/bulk", json={"ids": [paused["id"]], "action": "activate"}).json()
    assert resumed["results"][0]["job"]["state"] == "scheduled"


def test_a_one_off_that_has_run_is_finished_not_active(api, conn):
    brand = make_brand(conn)
    body = new_job_body(brand, cron_expression=None, run_at="2027-01-04T09:30:00Z")
    once = api.post(JOBS, json=body).json()
    assert once["state"] == "scheduled"
    result = tick(conn, CLOCK + dt.timedelta(hours=1))  # the scheduler enqueues its one run
    assert result.runs_created == 1
    job = api.get(f"{JOBS}/{once['id']}").json()
    assert (job["next_run_at"], job["state"]) == (None, "finished")
    assert _states(api) == {once["id"]: "finished"}


def test_a_job_with_a_run_processing_is_running_even_when_paused(api, conn):
    brand = make_brand(conn)
    active = make_job(conn, brand, next_run_at=CLOCK + dt.timedelta(hours=1))
    paused = make_job(conn, brand, is_active=False)
    queued = make_job(conn, brand, next_run_at=CLOCK + dt.timedelta(hours=1))
    for job in (active, paused):
        make_run(conn, job, status="processing", started_at=CLOCK, worker_id="w", heartbeat_at=CLOCK,
                 lease_expires_at=CLOCK + dt.timedelta(minutes=5))
    make_run(conn, queued)  # pending: not yet running
    assert _states(api) == {str(active.id): "running", str(paused.id): "running", str(queued.id): "scheduled"}
    update = api.put(f"{JOBS}/{active.id}", json={"name": "renamed"}).json()
    assert update["state"] == "running"


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_cli_and_the_python_api_name_the_same_states(api, conn, ck, dsn):
    brand = make_brand(conn)
    scheduled = make_job(conn, brand, next_run_at=CLOCK + dt.timedelta(hours=1))
    paused = make_job(conn, brand, is_active=False)
    finished = make_job(conn, brand, run_at=CLOCK, last_run_at=CLOCK)  # a one-off that ran: no next run
    running = make_job(conn, brand, next_run_at=CLOCK + dt.timedelta(hours=1))
    make_run(conn, running, status="processing", started_at=CLOCK, worker_id="w", heartbeat_at=CLOCK,
             lease_expires_at=CLOCK + dt.timedelta(minutes=5))  # fmt: skip
    expected = {str(scheduled.id): "scheduled", str(paused.id): "paused", str(finished.id): "finished",
                str(running.id): "running"}  # fmt: skip
    assert _states(api) == expected
    assert {j["id"]: j["state"] for j in ck.json("jobs", "list")} == expected
    assert {i: ck.json("jobs", "show", i)["state"] for i in expected} == expected
    table = {r["id"]: r["state"] for r in ck.batch(("rows", ["jobs", "list"]))[0]}
    assert table == expected
    with JobManager(dsn) as manager:
        assert {str(j.id): j.state for j in manager.list_jobs()} == expected
