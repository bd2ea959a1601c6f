"""The admin UI's list routes for bench_api.py: (page, route, path maker), values drawn from the data.

What the jobs page (views/jobs.js: the list with its filters and sorts, the
recent runs it polls), the job page (views/job.js: a job's history) and the
runs page (views/runs.js: skipped hidden unless a status is chosen, filters,
pages by cursor) ask; the first route, ``GET /job-runs/{id}``, is the floor.
Customers, brands and jobs are drawn from the seeded ones (not the backlog's).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import psycopg
from api_seed import BACKLOG_PREFIX

from cronkeeper.api import cursors


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def routes(conn: psycopg.Connection, rng: random.Random) -> list[tuple[str, str, Callable[[], str]]]:
    now = conn.execute("SELECT now()").fetchone()[0]
    max_id = conn.execute("SELECT max(id) FROM job_runs").fetchone()[0]
    pick = lambda q, *a: [r[0] for r in conn.execute(q, a)]  # noqa: E731
    seeded = "customer_id IN (SELECT id FROM customers WHERE name NOT LIKE %s)"
    run_ids = pick("SELECT id FROM job_runs WHERE id = ANY(ARRAY(SELECT 1 + (random() * (%s - 1))::bigint "
                   "FROM generate_series(1, 2000)))", max_id)
    job_ids = pick(f"SELECT id::text FROM scheduled_jobs TABLESAMPLE BERNOULLI (2) WHERE {seeded}", BACKLOG_PREFIX + "%")
    customers = pick("SELECT id::text FROM customers WHERE name NOT LIKE %s", BACKLOG_PREFIX + "%")
    brands = pick(f"SELECT id::text FROM brands WHERE {seeded}", BACKLOG_PREFIX + "%")
    names = pick(f"SELECT split_part(name, ' ', 4) FROM brands WHERE {seeded}", BACKLOG_PREFIX + "%")
    deep = [cursors.encode(rng.randint(max_id // 10, max_id)) for _ in range(1000)]
    by_next = [cursors.encode("a", t, i) for t, i in conn.execute(
        "SELECT next_run_at, id FROM scheduled_jobs TABLESAMPLE BERNOULLI (1) WHERE is_active")]  # fmt: skip
    by_last = [cursors.encode("a", t, i) for t, i in conn.execute(
        "SELECT last_run_at, id FROM scheduled_jobs TABLESAMPLE BERNOULLI (1) WHERE last_run_at IS NOT NULL")]  # fmt: skip

    def window() -> str:  # one hour, somewhere in the last 10 days
        start = now - dt.timedelta(hours=rng.randint(1, 240))
        return f"&from={iso(start)}&to={iso(start + dt.timedelta(hours=1))}"

    c = rng.choice
    jobs = "/api/admin/scheduled-jobs?limit=50"
    runs = "/api/admin/job-runs?limit=50&include_skipped=false"
    return [
        ("floor", "GET /job-runs/{id}", lambda: f"/api/admin/job-runs/{c(run_ids)}"),
        ("jobs", "first page", lambda: jobs),
        ("jobs", "customer_id", lambda: f"{jobs}&customer_id={c(customers)}"),
        ("jobs", "brand_id", lambda: f"{jobs}&brand_id={c(brands)}"),
        ("jobs", "paused (is_active=false)", lambda: f"{jobs}&is_active=false"),
        ("jobs", "search (brand name)", lambda: f"{jobs}&search=brand%20{c(names)}"),
        ("jobs", "sort=next_run, first page", lambda: f"{jobs}&sort=next_run"),
        ("jobs", "sort=next_run, later page", lambda: f"{jobs}&sort=next_run&cursor={c(by_next)}"),
        ("jobs", "sort=last_run, first page", lambda: f"{jobs}&sort=last_run"),
        ("jobs", "sort=last_run, later page", lambda: f"{jobs}&sort=last_run&cursor={c(by_last)}"),
        ("jobs", "recent runs (limit 10)", lambda: "/api/admin/job-runs?limit=10"),
        ("job", "history (random job)", lambda: f"/api/admin/scheduled-jobs/{c(job_ids)}/runs?limit=50"),
        ("runs", "first page (skipped hidden)", lambda: runs),
        ("runs", "deep cursor (random id)", lambda: f"{runs}&cursor={c(deep)}"),
        ("runs", "status=failed", lambda: "/api/admin/job-runs?limit=50&status=failed"),
        ("runs", "status=pending", lambda: "/api/admin/job-runs?limit=50&status=pending"),
        ("runs", "status=completed", lambda: "/api/admin/job-runs?limit=50&status=completed"),
        ("runs", "status=processing", lambda: "/api/admin/job-runs?limit=50&status=processing"),
        ("runs", "trigger=manual", lambda: f"{runs}&trigger=manual"),
        ("runs", "job_id", lambda: f"{runs}&job_id={c(job_ids)}"),
        ("runs", "customer_id", lambda: f"{runs}&customer_id={c(customers)}"),
        ("runs", "brand_id", lambda: f"{runs}&brand_id={c(brands)}"),
        ("runs", "time range (1 h)", lambda: runs + window()),
        ("runs", "customer + status=failed + range",
         lambda: f"/api/admin/job-runs?limit=50&customer_id={c(customers)}&status=failed{window()}"),
    ]  # fmt: skip
