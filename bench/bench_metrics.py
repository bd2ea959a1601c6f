"""``GET /metrics`` at 1,000,000 runs: target p99 < 50 ms with the cache off.

Loads 1,000 jobs and ``--runs`` runs (``generate_series``: mostly completed, a
queue of 2,000 due pending and 200 processing runs), fills ``cronkeeper_counters``
as a busy system would (every counter of 3 job types on all 8 shards), starts a
live ``cronkeeper api`` with ``CRONKEEPER_METRICS_CACHE_SECONDS=0`` (every scrape
reads the database) and ``CRONKEEPER_METRICS_TOKEN`` set, and scrapes it
``--scrapes`` times after a warm-up over one keep-alive connection. The floor,
in the same run, is a ``SELECT 1`` round trip from this process (and, for
scale, ``GET /health/live``: the HTTP cost of a request that reads nothing). For reference
it also times, twice, the two full scans the scrape made before the counters
(runs by status and type, the duration histogram from the table).

    python bench/bench_metrics.py [--runs 1000000] [--scrapes 20]
"""

from __future__ import annotations

import argparse
import http.client
import os
import time
from urllib.parse import urlsplit

import psycopg
from common import fresh_database, percentile, record, server, start_api, stop

from cronkeeper.repo import counters

JOBS = 1000
TOKEN = "bench-metrics-token"
JOB_TYPES = ("data_collection", "scoring", "data_collection_and_scoring")
OLD_SCANS = (
    "SELECT status, job_type, count(*) FROM job_runs GROUP BY status, job_type",
    """SELECT job_type, width_bucket(d, %(bounds)s::float8[]) AS bucket, count(*), sum(d)
       FROM (SELECT job_type, extract(epoch FROM finished_at - started_at)::float8 AS d
             FROM job_runs WHERE started_at IS NOT NULL AND finished_at IS NOT NULL) f
       GROUP BY job_type, bucket""",
)


def bulk_load(conn: psycopg.Connection, runs: int) -> None:
    t = time.perf_counter()
    conn.execute("INSERT INTO customers (name) VALUES ('bench')")
    conn.execute("INSERT INTO brands (customer_id, name) SELECT id, 'bench brand' FROM customers")
    conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, name, job_type, schedule_kind, cron_expression,
                                    is_active, next_run_at)
        SELECT b.customer_id, b.id, 'job ' || g, (ARRAY['data_collection', 'scoring',
               'data_collection_and_scoring'])[1 + g %% 3], 'cron', '*/15 * * * *', true,
               now() + interval '1 hour'
        FROM brands b, generate_series(1, %s) g
        """,
        (JOBS,),
    )
    conn.execute(
        """
        WITH j AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, * FROM scheduled_jobs)
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status, scheduled_for,
                              run_after, worker_id, started_at, finished_at, lease_expires_at)
        SELECT j.id, j.customer_id, j.brand_id, j.job_type, 'schedule', s.status, t.slot, t.slot,
               CASE WHEN s.status <> 'pending' THEN 'worker-bench' END,
               CASE WHEN s.status <> 'pending' THEN t.slot END,
               CASE WHEN s.status IN ('completed', 'failed') THEN t.slot + interval '20 seconds' END,
               CASE WHEN s.status = 'processing' THEN now() + interval '1 hour' END
        FROM generate_series(1, %(runs)s) g
        JOIN j ON j.k = g %% %(jobs)s
        CROSS JOIN LATERAL (SELECT now() - make_interval(secs => g::float8) AS slot) t
        CROSS JOIN LATERAL (SELECT CASE WHEN g <= 2000 THEN 'pending' WHEN g <= 2200 THEN 'processing'
                                        WHEN g %% 20 = 0 THEN 'failed' ELSE 'completed' END AS status) s
        """,
        {"runs": runs, "jobs": JOBS},
    )
    for shard in range(counters.SHARDS):
        counts = counters.Counts()
        for job_type in JOB_TYPES:
            for status in ("completed", "partial", "failed", "cancelled"):
                counts.add(counters.RUNS_FINISHED, 1000, status=status, job_type=job_type)
            for name in (counters.RUNS_RETRIED, counters.LEASE_EXPIRIES, counters.RUNS_LOST):
                counts.add(name, 10, job_type=job_type)
            for seconds in (0.05, 0.3, 0.7, 3, 10, 30, 200, 600, 1200, 3000, 5000, 9000):
                counts.run_finished("completed", job_type, seconds)
        for collector in ("chatgpt", "perplexity", "gemini", "claude", "copilot"):
            for outcome in ("ok", "failed"):
                counts.add(counters.COLLECTOR_CALLS, 500, collector=collector, outcome=outcome)
        for outcome in ("delivered", "failed"):
            counts.add(counters.WEBHOOK_DELIVERIES, 100, outcome=outcome)
        with conn.transaction():
            counters.add(conn, counts, shard_no=shard)
    conn.execute("VACUUM ANALYZE")
    print(f"  loaded in {time.perf_counter() - t:.0f} s", flush=True)


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--scrapes", type=int, default=20)
    args = parser.parse_args()
    os.environ.update(CRONKEEPER_METRICS_CACHE_SECONDS="0", CRONKEEPER_METRICS_TOKEN=TOKEN)
    with server() as srv, fresh_database(srv) as dsn:
        conn = psycopg.connect(dsn, autocommit=True)
        bulk_load(conn, args.runs)
        runs = conn.execute("SELECT count(*) FROM job_runs").fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM cronkeeper_counters").fetchone()[0]
        old = timed(lambda: [conn.execute(q, {"bounds": list(counters.DURATION_BUCKETS)}).fetchall()
                             for q in OLD_SCANS], 2)  # fmt: skip
        proc, base = start_api(dsn)
        try:
            url = urlsplit(base)
            client = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            headers = {"Authorization": f"Bearer {TOKEN}"}
            sizes = []

            def scrape() -> None:
                client.request("GET", "/metrics", headers=headers)
                response = client.getresponse()
                body = response.read()
                if response.status != 200:
                    raise RuntimeError(f"/metrics answered {response.status}: {body[:200]!r}")
                sizes.append(len(body))

            def live() -> None:
                client.request("GET", "/health/live")
                client.getresponse().read()

            timed(scrape, 3)  # warm-up: connections, plans
            latency = timed(scrape, args.scrapes)
            http_floor = timed(live, args.scrapes)
            floor = timed(lambda: conn.execute("SELECT 1").fetchone(), 200)
            client.close()
        finally:
            stop(proc)
        conn.close()

    p50, p99, f50 = percentile(latency, 50), percentile(latency, 99), percentile(floor, 50)
    record(
        f"/metrics at {runs:,} runs ({rows} counter rows), {args.scrapes} scrapes, cache off",
        ["what", "p50 ms", "p99 ms", "x SELECT 1", "target"],
        [
            ["GET /metrics (token, every part read)", f"{p50 * 1000:.1f}", f"{p99 * 1000:.1f}", f"{p50 / f50:.0f}",
             "met" if p99 < 0.05 else "MISSED"],
            ["floor: SELECT 1 round trip", f"{f50 * 1000:.2f}", f"{percentile(floor, 99) * 1000:.2f}", "1", "-"],
            ["for scale: GET /health/live (HTTP, no query)", f"{percentile(http_floor, 50) * 1000:.1f}",
             f"{percentile(http_floor, 99) * 1000:.1f}", f"{percentile(http_floor, 50) / f50:.0f}", "-"],
            ["before: the two full scans the scrape made", f"{min(old) * 1000:.0f}", f"{max(old) * 1000:.0f}",
             f"{min(old) / f50:.0f}", "-"],
        ],  # fmt: skip
        notes=f"scrape body {sizes[-1]:,} bytes; a live `cronkeeper api` with CRONKEEPER_METRICS_CACHE_SECONDS=0",
    )


if __name__ == "__main__":
    main()
