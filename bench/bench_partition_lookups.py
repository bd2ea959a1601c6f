"""What a by-id statement costs on partitioned history (migration 0025), against one table.

A run looked up by id alone probes the primary key of every partition (the id
is not the partition key); with its slot too it reaches one partition. Seeds
MONTHS monthly partitions (plus the default) with RUNS runs, and a flat copy
of the same rows with a primary key on id (the floor: what one unpartitioned
table costs), then times, per round and interleaved, LOOKUPS prepared
statements of each kind on random ids: the run page's SELECT by id and the
worker's heartbeat UPDATE by id (synchronous_commit off: the statement, not the flush).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_partition_lookups.py [--runs 500000] [--months 24] [--rounds 3]

Appends its table to bench/results/bench_partition_lookups.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time

import psycopg
from common import fresh_database, record, server

from cronkeeper.repo import run_partitions

STATEMENTS = {
    "select by id (flat table)": "SELECT * FROM flat WHERE id = %(id)s",
    "select by id": "SELECT * FROM job_runs WHERE id = %(id)s",
    "select by id + slot": "SELECT * FROM job_runs WHERE id = %(id)s AND scheduled_for = %(s)s",
    "update by id (flat table)": "UPDATE flat SET heartbeat_at = now() WHERE id = %(id)s AND status = 'processing'",
    "update by id": "UPDATE job_runs SET heartbeat_at = now() WHERE id = %(id)s AND status = 'processing'",
    "update by id + slot": "UPDATE job_runs SET heartbeat_at = now()"
    " WHERE id = %(id)s AND scheduled_for = %(s)s AND status = 'processing'",
}


def seed(conn: psycopg.Connection, runs: int, months: int) -> list[tuple[int, dt.datetime]]:
    start = run_partitions.add_months(dt.datetime.now(dt.UTC), -months + 1)
    for i in range(months):
        run_partitions.ensure(conn, run_partitions.add_months(start, i))
    conn.execute("""
        INSERT INTO customers (name) VALUES ('c');
        INSERT INTO brands (customer_id, name) SELECT id, 'b' FROM customers;
        INSERT INTO scheduled_jobs (customer_id, brand_id, job_type, schedule_kind, cron_expression)
        SELECT customer_id, id, 'scoring', 'cron', '0 * * * *' FROM brands""")
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status, scheduled_for,
                              run_after, started_at, worker_id, lease_expires_at)
        SELECT j.id, j.customer_id, j.brand_id, 'scoring', 'manual', 'processing', t, t, t, 'w', t
        FROM scheduled_jobs j, LATERAL generate_series(%(start)s::timestamptz, now(), %(step)s::interval) t
        """,
        {"start": start, "step": dt.timedelta(days=30.4 * months) / runs},
    )
    conn.execute("CREATE TABLE flat AS SELECT * FROM job_runs")
    conn.execute("ALTER TABLE flat ADD PRIMARY KEY (id)")
    conn.execute("VACUUM ANALYZE")
    return [(r[0], r[1]) for r in conn.execute("SELECT id, scheduled_for FROM job_runs")]


def timed(conn: psycopg.Connection, statement: str, picks: list[tuple[int, dt.datetime]]) -> float:
    """Microseconds per execution (prepared: the plan is made once, as the services' pools do)."""
    for rid, s in picks[:10]:
        conn.execute(statement, {"id": rid, "s": s}, prepare=True)
    t = time.perf_counter()
    for rid, s in picks:
        conn.execute(statement, {"id": rid, "s": s}, prepare=True)
    return (time.perf_counter() - t) / len(picks) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=500_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--lookups", type=int, default=3000)
    args = ap.parse_args()
    load = os.getloadavg()
    with server() as server_dsn, fresh_database(server_dsn) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        rows = seed(conn, args.runs, args.months)
        conn.execute("SET synchronous_commit = off")  # the statement's cost, not the WAL flush of each commit
        parts = len(run_partitions.listing(conn))
        got: dict[str, list[float]] = {name: [] for name in STATEMENTS}
        rng = random.Random(7)
        for _ in range(args.rounds):
            picks = rng.sample(rows, args.lookups)
            for name, statement in STATEMENTS.items():
                got[name].append(timed(conn, statement, picks))
    table = []
    for name, times in got.items():
        floor = got[name.split(" by ")[0] + " by id (flat table)"]
        ratios = [t / f for t, f in zip(times, floor, strict=True)]
        table.append([name, f"{statistics.median(times):.0f} ({min(times):.0f}-{max(times):.0f})",
                      f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"])  # fmt: skip
    record(
        f"By-id statements on {len(rows):,} runs in {parts} partitions (monthly + default) vs one table",
        ["statement (prepared, one round trip)", "µs per call, median (min-max)", "ratio to the flat table"],
        table,
        notes=f"{args.rounds} interleaved rounds of {args.lookups} random ids; client and server on this machine; "
        f"load average at start {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}.",
    )


if __name__ == "__main__":
    main()
