"""The probes (``/health/live``, ``/health/ready``) and the seed routes: a manual tick,
the scheduler's and the queue's status."""

import datetime as dt

import pytest
from psycopg.conninfo import make_conninfo

from cronkeeper.repo import processes
from cronkeeper.repo.queries import load
from tests.support.api import api_client
from tests.support.factories import make_brand, make_job, make_run
from tests.support.plans import plan_text

M = dt.timedelta(minutes=1)


@pytest.fixture
def open_api(dsn):
    with api_client(dsn, token=False) as api:
        yield api


def test_live_answers_without_a_token_or_the_database(open_api):
    r = open_api.get("/health/live")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_ready_when_the_database_answers_and_the_schema_is_current(open_api):
    r = open_api.get("/health/ready")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready" and body["database"] is True and body["migrations_current"] is True
    assert body["missing_migrations"] == [] and body["reason"] is None
    assert open_api.get("/api/health").status_code == 503  # unchanged: no scheduler runs here


@pytest.mark.slow  # a few seconds: the full suite only
def test_not_ready_without_a_database_but_alive(server_dsn):
    with api_client(make_conninfo(server_dsn, dbname="no_such_database"), token=False) as api:
        ready = api.get("/health/ready")
        assert api.get("/health/live").status_code == 200
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready" and body["database"] is False and body["migrations_current"] is None
    assert body["reason"].startswith("the database cannot be reached")


def test_not_ready_while_the_schema_is_behind_and_ready_once_migrated(dsn, conn):
    latest = conn.execute("SELECT name FROM schema_migrations ORDER BY version DESC LIMIT 1").fetchone()["name"]
    conn.execute("DELETE FROM schema_migrations WHERE name = %s", (latest,))
    with api_client(dsn, token=False) as api:
        r = api.get("/health/ready")
        assert r.status_code == 503
        body = r.json()
        assert body["status"] == "not_ready" and body["database"] is True and body["migrations_current"] is False
        assert body["missing_migrations"] == [latest] and latest in body["reason"]
        assert api.get("/health/live").status_code == 200  # alive all the same: no restart for this
        conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, 'x')",
                     (int(latest[:4]), latest))  # fmt: skip
        assert api.get("/health/ready").status_code == 200


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_probes_are_in_the_schema_with_every_response(open_api):
    paths = open_api.get("/schema/openapi.json").json()["paths"]
    assert set(paths["/health/ready"]["get"]["responses"]) == {"200", "503"}
    assert "200" in paths["/health/live"]["get"]["responses"]
    assert "security" not in paths["/health/ready"]["get"] or paths["/health/ready"]["get"]["security"] == []
    for path, method in [("/api/admin/scheduler/run", "post"), ("/api/admin/scheduler/status", "get"),
                         ("/api/admin/queue/status", "get")]:  # fmt: skip
        assert {"200", "401", "403"} <= set(paths[path][method]["responses"]), path


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_manual_tick_creates_the_due_jobs_runs_and_says_which(api, conn):
    now = api.clock.now()
    brand = make_brand(conn)
    due = make_job(conn, brand, cron_expression="* * * * *", next_run_at=now - 2 * M, misfire_policy="run_all")
    later = make_job(conn, brand, cron_expression="0 10 * * *", next_run_at=now + 60 * M)
    r = api.post("/api/admin/scheduler/run")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["jobs"] == 1 and body["runs_created"] == 3 and body["runs_skipped"] == 0 and not body["errors"]
    assert [(x["job_id"], x["status"]) for x in body["runs"]] == [(str(due.id), "pending")] * 3
    assert [x["scheduled_for"] for x in body["runs"]] == [
        (now - k * M).isoformat().replace("+00:00", "Z") for k in (2, 1, 0)
    ]
    assert body["runs_truncated"] is False
    stored = conn.execute("SELECT scheduled_job_id, count(*) AS n FROM job_runs GROUP BY 1").fetchall()
    assert stored == [{"scheduled_job_id": due.id, "n": 3}]  # the job not yet due got nothing
    again = api.post("/api/admin/scheduler/run").json()
    assert again["jobs"] == 0 and again["runs_created"] == 0 and again["runs"] == []
    assert later.id not in {x["job_id"] for x in again["runs"]}


def test_a_viewer_may_read_the_statuses_but_not_tick(api, conn):
    viewer = api.token("viewer")
    make_job(conn, make_brand(conn), next_run_at=api.clock.now() - M)
    r = api.post("/api/admin/scheduler/run", headers=viewer)
    assert r.status_code == 403
    assert conn.execute("SELECT count(*) AS n FROM job_runs").fetchone()["n"] == 0
    assert api.get("/api/admin/scheduler/status", headers=viewer).status_code == 200
    assert api.get("/api/admin/queue/status", headers=viewer).status_code == 200
    assert api.post("/api/admin/scheduler/run", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_customer_bound_token_may_not_tick(api, conn):
    brand = make_brand(conn)
    bound = api.token("admin", customer_id=brand.customer_id)
    assert api.post("/api/admin/scheduler/run", headers=bound).status_code == 403
    assert api.get("/api/admin/queue/status", headers=bound).status_code == 403


def test_scheduler_status_lists_schedulers_their_last_tick_the_due_jobs_and_the_lag(api, conn):
    now = api.clock.now()
    empty = api.get("/api/admin/scheduler/status").json()
    assert empty["alive"] is False and empty["schedulers"] == [] and empty["due_jobs"] == 0
    assert empty["lag_seconds"] == 0.0 and empty["last_tick_at"] is None
    processes.heartbeat(conn, "scheduler-a", "scheduler", now - 30 * dt.timedelta(seconds=1),
                        {"last_tick": (now - 30 * dt.timedelta(seconds=1)).isoformat()})  # fmt: skip
    processes.heartbeat(conn, "scheduler-old", "scheduler", now - 20 * M)
    processes.heartbeat(conn, "worker-a", "worker", now)
    make_job(conn, make_brand(conn), next_run_at=now - 5 * M)
    body = api.get("/api/admin/scheduler/status").json()
    by_id = {s["id"]: s for s in body["schedulers"]}
    assert set(by_id) == {"scheduler-a", "scheduler-old"}
    assert by_id["scheduler-a"]["alive"] is True and by_id["scheduler-old"]["alive"] is False
    assert by_id["scheduler-a"]["seconds_since_heartbeat"] == 30.0
    assert body["alive"] is True and body["last_tick_at"] == "2027-01-04T08:59:30Z"
    assert body["due_jobs"] == 1 and body["lag_seconds"] == 300.0


def test_queue_status_counts_pending_and_processing_per_job_type(api, conn):
    now = api.clock.now()
    brand = make_brand(conn)
    collect = make_job(conn, brand, job_type="data_collection")
    score = make_job(conn, brand, job_type="scoring")
    make_run(conn, collect, now=now - 10 * M)  # pending, due 10 minutes ago
    make_run(conn, collect, now=now + 10 * M)  # pending, not due yet
    make_run(conn, score, now=now - 3 * M)
    make_run(conn, score, status="processing", worker_id="w", started_at=now - M, lease_expires_at=now + M)
    make_run(conn, score, status="completed", started_at=now - M, finished_at=now, now=now - 60 * M)
    body = api.get("/api/admin/queue/status").json()
    assert body["depth"] == {"pending": 3, "processing": 1}
    assert body["oldest_pending_age_seconds"] == 600.0 and body["oldest_pending_run_at"] == "2027-01-04T08:50:00Z"
    types = {t["job_type"]: t for t in body["by_job_type"]}
    assert set(types) == {"data_collection", "scoring", "data_collection_and_scoring"}
    assert (types["data_collection"]["pending"], types["data_collection"]["processing"]) == (2, 0)
    assert types["data_collection"]["oldest_pending_age_seconds"] == 600.0
    assert (types["scoring"]["pending"], types["scoring"]["processing"]) == (1, 1)
    assert types["scoring"]["oldest_pending_age_seconds"] == 180.0
    assert types["data_collection_and_scoring"] == {
        "job_type": "data_collection_and_scoring", "pending": 0, "processing": 0,
        "oldest_pending_run_at": None, "oldest_pending_age_seconds": None,
    }  # fmt: skip


def _plan(conn, query: bytes, params) -> str:
    return plan_text(conn.execute(b"EXPLAIN " + query, params))


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_status_and_tick_queries_read_no_finished_runs(conn, t0):
    """20,000 finished runs and a short queue: no query here scans job_runs."""
    job = make_job(conn, make_brand(conn))
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at)
        SELECT %(job)s, %(customer)s, %(brand)s, 'scoring', 'schedule',
               CASE WHEN g %% 1000 = 0 THEN 'pending' ELSE 'completed' END,
               %(t0)s - g * interval '1 minute', %(t0)s - g * interval '1 minute', %(t0)s,
               CASE WHEN g %% 1000 = 0 THEN NULL ELSE %(t0)s END
        FROM generate_series(1, 20000) g
        """,
        {"job": job.id, "customer": job.customer_id, "brand": job.brand_id, "t0": t0},
    )
    conn.execute("ANALYZE job_runs")
    runs_q, processes_q = load("job_runs"), load("processes")
    plans = {
        "queue_by_type": _plan(conn, runs_q["queue_by_type"], {"now": t0}),
        "last_run_id": _plan(conn, runs_q["last_run_id"], {}),
        "scheduled_after": _plan(conn, runs_q["scheduled_after"], {"after": 19990, "limit": 501}),
    }
    for name, plan in plans.items():
        assert "Seq Scan on job_runs" not in plan, (name, plan)
    assert "job_runs_pkey" in plans["scheduled_after"] and "job_runs_pkey" in plans["last_run_id"]
    conn.execute("SET enable_seqscan = off")  # a handful of rows: ask whether the index can serve it
    plan = _plan(conn, processes_q["last_beat"], {"kind": "worker", "hostname": "h", "id": None})
    assert "processes_heartbeat_idx" in plan, plan


def test_due_jobs_and_queue_depth_are_counted_up_to_the_cap(api, conn, monkeypatch):
    """A backlog is counted up to COUNT_CAP (each request's cost stays bounded), then flagged."""
    from cronkeeper.api.controllers import operations, system

    monkeypatch.setattr(system, "COUNT_CAP", 3)
    monkeypatch.setattr(operations, "COUNT_CAP", 3)
    now = api.clock.now()
    job = make_job(conn, next_run_at=now - 5 * M)
    for _ in range(3):
        make_job(conn, next_run_at=now - M)
    for _ in range(4):
        make_run(conn, job)  # pending
    body = api.get("/api/admin/system").json()
    assert body["due_jobs"] == 3 and body["due_jobs_capped"] is True and body["count_cap"] == 3
    assert body["queue_depth"] == {"pending": 3, "processing": 0} and body["queue_depth_capped"] == ["pending"]
    assert body["scheduler_lag_seconds"] == 300.0  # the oldest is exact whatever the count
    status = api.get("/api/admin/scheduler/status").json()
    assert status["due_jobs"] == 3 and status["due_jobs_capped"] is True and status["lag_seconds"] == 300.0
    conn.execute("UPDATE scheduled_jobs SET is_active = false WHERE id = %s", (job.id,))
    body = api.get("/api/admin/system").json()
    assert body["due_jobs"] == 3 and body["due_jobs_capped"] is False
