"""Scheduler tick: 100,000 due jobs (mixed expressions and zones) materialised.

Beside it, the limit: the time PostgreSQL takes for a bare bulk insert of the
same 100,000 runs plus a bulk update of 100,000 next_run_at values, in one
transaction, with the arrays built beforehand. Target: within 2x of the limit.

    python bench/bench_scheduler.py [--jobs 100000] [--batch 5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from common import fresh_database, record, server

from cronkeeper.db import connect
from cronkeeper.services.scheduler.tick import tick

EXPRESSIONS = ["* * * * *", "*/5 * * * *", "0 * * * *", "0 9 * * *", "30 2 * * *", "0 9 * * 1-5",
               "15 */6 * * *", "0 0 1 * *", "0 12 * * 0", "*/15 9-17 * * 1-5"]  # fmt: skip
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney",
         "America/Los_Angeles", "Europe/London", "Asia/Tokyo", "America/Sao_Paulo", "Africa/Lagos"]  # fmt: skip
T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


def seed(conn, jobs: int) -> None:
    conn.execute("INSERT INTO customers (name) VALUES ('bench')")
    conn.execute(
        "INSERT INTO brands (customer_id, name) SELECT id, 'brand ' || g FROM customers, generate_series(1, 100) g"
    )
    conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, job_type, schedule_kind, cron_expression,
                                    timezone, next_run_at, overlap_policy)
        SELECT b.customer_id, b.id, 'data_collection', 'cron',
               (%(exprs)s::text[])[1 + g %% 10], (%(zones)s::text[])[1 + (g / 10) %% 10], %(t0)s, 'allow'
        FROM generate_series(0, %(n)s - 1) g
        JOIN LATERAL (SELECT * FROM brands ORDER BY name OFFSET g %% 100 LIMIT 1) b ON true
        """,
        {"exprs": EXPRESSIONS, "zones": ZONES, "t0": T0, "n": jobs},
    )
    conn.execute("VACUUM ANALYZE scheduled_jobs")


def reset(conn) -> None:
    conn.execute("TRUNCATE job_runs CASCADE")
    conn.execute("UPDATE scheduled_jobs SET next_run_at = %s, last_run_at = NULL", (T0,))
    conn.execute("VACUUM ANALYZE scheduled_jobs")
    conn.execute("VACUUM ANALYZE job_runs")


def bare_limit(conn) -> float:
    rows = conn.execute(
        "SELECT id, customer_id, brand_id FROM scheduled_jobs WHERE is_active AND next_run_at <= %s", (T0,)
    ).fetchall()
    ids = [r["id"] for r in rows]
    params = {
        "j": ids, "c": [r["customer_id"] for r in rows], "b": [r["brand_id"] for r in rows],
        "t": [T0] * len(rows), "n": [T0 + dt.timedelta(minutes=1)] * len(rows),
    }  # fmt: skip
    start = time.perf_counter()
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                                  scheduled_for, run_after)
            SELECT j, c, b, 'data_collection', 'schedule', 'pending', t, t
            FROM unnest(%(j)s::uuid[], %(c)s::uuid[], %(b)s::uuid[], %(t)s::timestamptz[]) AS u(j, c, b, t)
            """,
            params,
        )
        conn.execute(
            """
            UPDATE scheduled_jobs s SET next_run_at = u.n, last_run_at = %(t0)s
            FROM unnest(%(j)s::uuid[], %(n)s::timestamptz[]) AS u(j, n) WHERE s.id = u.j
            """,
            {**params, "t0": T0},
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with server() as srv, fresh_database(srv) as dsn:
        conn = connect(dsn, autocommit=True)
        seed(conn, args.jobs)
        ours, limits = [], []
        for _ in range(args.repeat):
            reset(conn)
            limits.append(bare_limit(conn))
            reset(conn)
            start = time.perf_counter()
            result = tick(conn, T0 + dt.timedelta(seconds=1), batch_size=args.batch, rng=random.Random(1))
            ours.append(time.perf_counter() - start)
            assert result.runs_created == args.jobs, result
            n = conn.execute("SELECT count(*) AS n FROM job_runs").fetchone()["n"]
            assert n == args.jobs
        best, limit = min(ours), min(limits)
        record(
            f"Scheduler tick, {args.jobs:,} due jobs ({len(EXPRESSIONS)} expressions x {len(ZONES)} zones)",
            ["what", f"seconds (best of {args.repeat})", "ratio to limit"],
            [
                [f"cronkeeper tick (batch {args.batch})", f"{best:.2f}", f"{best / limit:.2f}x"],
                ["bare INSERT + UPDATE (limit)", f"{limit:.2f}", "1.00x"],
            ],
            notes="target: within 2x of the limit",
        )


if __name__ == "__main__":
    main()
