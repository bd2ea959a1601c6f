"""``cronkeeper demo``: idempotent demo data whose first runs complete offline, with scores."""

import datetime as dt
import random

import httpx
import pytest

from cronkeeper import brands, demo, jobs
from cronkeeper.clock import FixedClock
from cronkeeper.handlers import Registry
from cronkeeper.job_types import register
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings

COUNTS = "SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM brands) AS brands, " \
    "(SELECT count(*) FROM brand_queries) AS queries, (SELECT count(*) FROM scheduled_jobs) AS jobs, " \
    "(SELECT count(*) FROM job_runs) AS runs"  # fmt: skip


def test_the_demo_is_created_once_and_then_found(conn, t0):
    first = demo.create_demo(conn, t0)
    assert first.created[0] == "customer Demo customer"
    assert len(first.brands) == 3 and len(first.jobs) == 9 and len(first.runs) == 3
    assert conn.execute(COUNTS).fetchone() == {"customers": 1, "brands": 3, "queries": 15, "jobs": 9, "runs": 3}
    for brand in first.brands:
        assert brand.aliases and len(brand.competitors) == 3
        assert len(brands.list_queries(conn, brand.id, active_only=True)) == 5
    by_type = {}
    for job in first.jobs:
        by_type.setdefault(str(job.job_type), []).append(job)
    assert {t: len(js) for t, js in by_type.items()} == {
        "data_collection_and_scoring": 3, "data_collection": 3, "scoring": 3,
    }  # fmt: skip
    assert all(j.metadata == {"collectors": ["sample"]} for j in first.jobs if str(j.job_type) != "scoring")
    assert jobs.warnings_for(conn, first.jobs[0]) == []  # the sample collector needs no key

    again = demo.create_demo(conn, t0 + dt.timedelta(minutes=1))
    assert again.created == [] and again.runs == []
    assert [j.id for j in again.jobs] == [j.id for j in first.jobs]
    assert conn.execute(COUNTS).fetchone() == {"customers": 1, "brands": 3, "queries": 15, "jobs": 9, "runs": 3}


def test_a_removed_query_is_added_back(conn, t0):
    made = demo.create_demo(conn, t0)
    brand = made.brands[1]
    query = brands.list_queries(conn, brand.id)[0]
    brands.remove_query(conn, brand.id, query.id)
    again = demo.create_demo(conn, t0)
    assert again.created == [f"1 queries for {brand.name}"]
    assert query.text in {q.text for q in brands.list_queries(conn, brand.id)}


@pytest.fixture
def no_network(monkeypatch):
    async def refuse(self, request, **kwargs):
        raise AssertionError(f"the demo must not use the network: {request.url}")

    monkeypatch.setattr(httpx.AsyncClient, "send", refuse)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_worker_completes_the_triggered_runs_with_answers_and_scores(dsn, conn, t0, no_network):
    made = demo.create_demo(conn, t0)
    registry = Registry()
    register(registry)
    worker = Worker(dsn, Settings(database_url=None, data_dir="."), registry=registry, clock=FixedClock(t0),
                    rng=random.Random(1))  # fmt: skip
    try:
        worker.run_once()
    finally:
        worker.close()
    for run in made.runs:
        row = conn.execute("SELECT * FROM job_runs WHERE id = %s", (run.id,)).fetchone()
        assert row["status"] == "completed", row["error_message"]
        m = row["metrics"]
        assert (m["queries_executed"], m["answers_collected"], m["answers_scored"]) == (5, 5, 5)
        assert m["mention_rate"] is not None and m["share_of_voice"] is not None
    answers = conn.execute("SELECT collector, model FROM collected_answers").fetchall()
    assert len(answers) == 15 and {(a["collector"], a["model"]) for a in answers} == {
        ("sample", "sample (offline, demo data)")
    }
    scores = conn.execute("SELECT position, sentiment FROM answer_scores").fetchall()
    assert len(scores) == 15
    assert len({s["position"] for s in scores}) > 1  # varied, not one answer repeated


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_demo_command_says_what_it_made_and_then_that_nothing_is_new(ck):
    first = ck("demo")
    assert "created customer Demo customer" in first.stdout
    assert "created job Lumen Coffee: collect and score every 5 minutes" in first.stdout
    assert first.stdout.count("queued run ") == 3
    assert "/admin/scheduled-jobs" in first.stdout
    second = ck("demo")
    assert "nothing new created" in second.stdout and "created " not in second.stdout.replace("nothing new created", "")
    assert "queued run" not in second.stdout
    made = ck.json("demo")
    assert made["created"] == [] and len(made["jobs"]) == 9 and made["customer"]["name"] == "Demo customer"
