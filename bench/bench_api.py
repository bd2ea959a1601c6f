"""Admin API under load: 100,000 jobs, 1,000,000 runs, 32 concurrent clients.

Data is bulk-loaded with ``generate_series`` (100 customers x 10 brands x 100
jobs, 10 runs per job, mostly completed, some failed / skipped). A live
``cronkeeper api`` (one process, default settings) is hit by 32 keep-alive
connections from a small asyncio HTTP/1.1 client (bench/http_load.py, so the
client costs little CPU next to the server) for ``--seconds`` per route after
a warm-up. Routes: the jobs list (first page), the runs list (first page and
a deep cursor: random positions in the older half), a job's history (random
jobs), plus the runs list filtered on a rare status and the jobs list of one
customer; and ``GET /api/admin/job-runs/{id}`` (the token check plus a
one-row query) as the floor in the same run. Target: p99 < 50 ms for every route.

``--api-workers 1,2`` runs every route against ``cronkeeper api --workers 1``
and then ``--workers 2`` in the same run (one table). Client, API and
PostgreSQL share the machine, so on 2 cores the API gets what the other two
leave.

    python bench/bench_api.py [--jobs 100000] [--runs-per-job 10] [--clients 32] [--seconds 6] [--api-workers 1,2]
"""

from __future__ import annotations

import argparse
import os
import random
import time

import psycopg
from common import admin_token, fresh_database, percentile, record, server, start_api, stop
from http_load import load

from cronkeeper.api import cursors

CUSTOMERS, BRANDS_PER_CUSTOMER = 100, 10


def bulk_load(conn: psycopg.Connection, jobs: int, runs_per_job: int) -> None:
    t = time.perf_counter()
    conn.execute("INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, %s) g", (CUSTOMERS,))
    conn.execute("INSERT INTO brands (customer_id, name) SELECT c.id, c.name || ' brand ' || g "
                 "FROM customers c, generate_series(1, %s) g", (BRANDS_PER_CUSTOMER,))  # fmt: skip
    per_brand = jobs // (CUSTOMERS * BRANDS_PER_CUSTOMER)
    conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, name, job_type, schedule_kind, cron_expression,
                                    timezone, is_active, next_run_at, last_run_at, created_at, updated_at)
        SELECT b.customer_id, b.id, 'job ' || g,
               (ARRAY['data_collection', 'scoring', 'data_collection_and_scoring'])[1 + g %% 3], 'cron',
               (ARRAY['0 9 * * *', '*/15 * * * *', '0 */6 * * *', '30 2 * * 1-5'])[1 + g %% 4],
               (ARRAY['UTC', 'Europe/Berlin', 'America/New_York'])[1 + g %% 3], g %% 10 <> 0,
               now() + interval '1 day', now() - interval '1 hour',
               now() - make_interval(secs => (row_number() OVER ())::float8), now()
        FROM brands b, generate_series(1, %s) g
        """,
        (per_brand,),
    )
    # runs: slot k of each job, k hours ago; 90 % completed, 5 % failed, 5 % skipped
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status, skip_reason,
                              scheduled_for, run_after, attempt, worker_id, started_at, finished_at, metrics,
                              error_message, created_at, updated_at)
        SELECT j.id, j.customer_id, j.brand_id, j.job_type, 'schedule', s.status,
               CASE WHEN s.status = 'skipped' THEN 'overlap' END,
               t.slot, t.slot, 1, CASE WHEN s.status <> 'skipped' THEN 'worker-bench' END,
               CASE WHEN s.status <> 'skipped' THEN t.slot END, t.slot + interval '20 seconds',
               CASE WHEN s.status = 'completed' THEN '{"answers_collected": 12, "duration_ms": 20000}'::jsonb
                    ELSE '{}'::jsonb END,
               CASE WHEN s.status = 'failed' THEN 'collector timed out' END,
               t.slot, t.slot + interval '20 seconds'
        FROM generate_series(%s, 1, -1) k
        CROSS JOIN scheduled_jobs j
        CROSS JOIN LATERAL (SELECT date_trunc('hour', now()) - make_interval(hours => k) AS slot) t
        CROSS JOIN LATERAL (SELECT CASE WHEN hashint4(k * 7919 + get_byte(uuid_send(j.id), 0)) %% 20 = 0
                                        THEN 'failed'
                                        WHEN hashint4(k * 104729 + get_byte(uuid_send(j.id), 1)) %% 20 = 0
                                        THEN 'skipped' ELSE 'completed' END AS status) s
        """,
        (runs_per_job,),
    )
    conn.execute("VACUUM ANALYZE")
    # Write the load's dirty pages now: a spread checkpoint started by the load's
    # WAL would otherwise write them during the first routes' measurements.
    try:
        conn.execute("CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege:
        print("  (no CHECKPOINT privilege: the first routes may overlap a checkpoint)", flush=True)
    print(f"  loaded in {time.perf_counter() - t:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs-per-job", type=int, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--api-workers", default=[1, 2], type=_counts, help="comma-separated `cronkeeper api --workers` counts")
    args = parser.parse_args()
    worker_counts = args.api_workers
    rng = random.Random(7)
    with server() as srv, fresh_database(srv) as dsn:
        conn = psycopg.connect(dsn, autocommit=True)
        bulk_load(conn, args.jobs, args.runs_per_job)
        jobs = conn.execute("SELECT count(*) FROM scheduled_jobs").fetchone()[0]
        runs, max_id = conn.execute("SELECT count(*), max(id) FROM job_runs").fetchone()
        job_ids = [str(r[0]) for r in conn.execute("SELECT id FROM scheduled_jobs TABLESAMPLE BERNOULLI (5)")]
        run_ids = [r[0] for r in conn.execute("SELECT id FROM job_runs TABLESAMPLE SYSTEM (1) LIMIT 1000")]
        customer = conn.execute("SELECT id FROM customers ORDER BY name LIMIT 1").fetchone()[0]
        token = admin_token(dsn)
        deep = [cursors.encode(rng.randint(max_id // 10, max_id // 2)) for _ in range(1000)]
        routes = [
            ("one run by id (floor: auth + one-row query)", lambda: f"/api/admin/job-runs/{rng.choice(run_ids)}"),
            ("jobs list, first page", lambda: "/api/admin/scheduled-jobs?limit=50"),
            ("runs list, first page", lambda: "/api/admin/job-runs?limit=50"),
            ("runs list, deep cursor (random, older half)", lambda: f"/api/admin/job-runs?limit=50&cursor={rng.choice(deep)}"),
            ("a job's history (random job)", lambda: f"/api/admin/scheduled-jobs/{rng.choice(job_ids)}/runs?limit=50"),
            ("runs list, status=failed", lambda: "/api/admin/job-runs?limit=50&status=failed"),
            ("jobs list, one customer", lambda: f"/api/admin/scheduled-jobs?limit=50&customer_id={customer}"),
        ]  # fmt: skip
        results = {n: run_routes(dsn, token, routes, n, args) for n in worker_counts}
        conn.close()

    rows = []
    for n, per_route in results.items():
        floor_rps = per_route[0][1]["count"] / per_route[0][1]["seconds"]
        for i, (label, r) in enumerate(per_route):
            rps = r["count"] / r["seconds"]
            p99 = percentile(r["latency"], 99)
            target = "-" if i == 0 else ("met" if p99 < 0.05 and not r["errors"] else "MISSED")
            rows.append([label, n, f"{rps:,.0f}", f"{rps / floor_rps:.2f}", f"{percentile(r['latency'], 50) * 1000:.1f}",
                         f"{p99 * 1000:.1f}", r["errors"], target])  # fmt: skip
    record(
        f"Admin API, {jobs:,} jobs and {runs:,} runs, {args.clients} concurrent clients",
        ["route", "api workers", "req/s", "vs floor", "p50 ms", "p99 ms", "errors", "p99 < 50 ms"],
        rows,
        notes=f"{args.seconds:g} s per route after {args.warmup:g} s warm-up; `cronkeeper api --workers N` "
        f"(uvicorn with httptools and uvloop); the load client, the API and PostgreSQL share the machine's "
        f"{os.cpu_count()} cores",
    )


def _counts(text: str) -> list[int]:
    try:
        counts = [int(n) for n in text.split(",")]
    except ValueError:
        counts = []
    if not counts or not all(1 <= n <= 64 for n in counts):
        raise argparse.ArgumentTypeError(f"expected counts from 1 to 64 separated by commas, got {text!r}")
    return counts


def run_routes(dsn: str, token: str, routes: list, workers: int, args: argparse.Namespace) -> list:
    """Every route against a fresh ``cronkeeper api --workers N``: [(label, load result)]."""
    os.environ["CRONKEEPER_API_WORKERS"] = str(workers)  # start_api's child inherits it
    api, base = start_api(dsn)
    results = []
    try:
        for label, path in routes:
            warm = load(base, token, path, clients=args.clients, seconds=args.warmup)
            if warm["errors"]:
                print(f"  {label}: {warm['errors']} errors in warm-up, e.g. {warm['sample_error']}", flush=True)
            r = load(base, token, path, clients=args.clients, seconds=args.seconds)
            results.append((label, r))
            print(f"  [{workers} workers] {label}: {r['count'] / r['seconds']:,.0f} req/s, "
                  f"p99 {percentile(r['latency'], 99) * 1000:.1f} ms, errors {r['errors']}", flush=True)  # fmt: skip
    finally:
        stop(api)
    return results


if __name__ == "__main__":
    main()
