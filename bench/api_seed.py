"""Seed data for bench_api.py: 100,000 jobs and up to 10,000,000 runs, loaded fast, kept between runs.

The jobs and runs are bench/pages_seed.py's (100 customers x 10 brands; a job
runs every 15 minutes, hour, 6 hours or day and keeps its newest
``runs // jobs`` runs; mixed statuses, triggers and durations; ids follow
creation times), written by one ``INSERT ... SELECT generate_series`` through
the real tables and columns of a database migrated by the app's migrations.
To load 10 M rows in minutes rather than an hour, the load runs with
``job_runs``' secondary indexes dropped and FK/notify triggers off
(``session_replication_role = replica``, when allowed: the rows are consistent
by construction), then rebuilds every dropped index from its own definition
(``pg_get_indexdef``: exactly what the migrations created, whatever they are).

Runs the seed leaves pending are due only in 10 years and its processing
runs hold a 10-year lease, so workers started by the bench (``--busy-workers``)
drain only the backlog it adds (``add_backlog``): scoring runs of 10 customers
of their own whose brands have one answer each, so a real ``cronkeeper worker``
completes each with a few statements (next to a no-op, through the real handler).
"""

from __future__ import annotations

import time

import common
import psycopg
from pages_seed import EXPRESSIONS, JOBS, PERIODS, RUNS
from psycopg import sql

from cronkeeper.repo import run_partitions

CUSTOMERS, BRANDS_PER_CUSTOMER = 100, 10
BACKLOG_CUSTOMERS, BACKLOG_JOBS = 10, 1000
BACKLOG_PREFIX = "backlog customer "



def kept_database(server_dsn: str, name: str, *, reseed: bool, drop: bool, jobs: int, runs: int):
    """The bench's database, seeded when new (or asked), migrated to the current schema."""

    def prepare(conn: psycopg.Connection) -> None:
        seeded = conn.execute("SELECT count(*) FROM scheduled_jobs").fetchone()[0] > 0
        if seeded and not conn.execute("SELECT 1 FROM customers WHERE name LIKE %s", (BACKLOG_PREFIX + "%",)).fetchone():
            raise RuntimeError(f"database {name} holds data this bench did not seed (or a half-done seed): --reseed")
        if not seeded:
            seed(conn, jobs, runs)
        clear_backlog(conn)  # what an interrupted run left
        answer_backlog_brands(conn)

    return common.kept_database(server_dsn, name, reseed=reseed, drop=drop, prepare=prepare)


def _secondary_indexes(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    """(name, definition) of ``table``'s indexes that back no constraint (those stay)."""
    return conn.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname
        """,
        (table,),
    ).fetchall()


def seed(conn: psycopg.Connection, jobs: int, runs: int) -> None:
    """Load everything into the (migrated, empty) database of ``conn``; prints the time taken."""
    t = time.perf_counter()
    lap = lambda what: print(f"  {what} at {time.perf_counter() - t:.0f} s", flush=True)  # noqa: E731
    periods = ", ".join(PERIODS)
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute("SET work_mem = '256MB'")
    conn.execute("INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, %s) g", (CUSTOMERS,))
    conn.execute("INSERT INTO brands (customer_id, name, competitors) SELECT c.id, c.name || ' brand ' || g, "
                 "ARRAY['Rival A', 'Rival B'] FROM customers c, generate_series(1, %s) g", (BRANDS_PER_CUSTOMER,))  # fmt: skip
    conn.execute(JOBS.format(periods=periods),
                 {"jobs": jobs, "exprs": list(EXPRESSIONS), "brands": CUSTOMERS * BRANDS_PER_CUSTOMER})  # fmt: skip
    lap(f"{jobs:,} jobs")
    # the months the runs fall in (docs/partitioning.md), else they all land in the default partition;
    # made before the indexes are dropped, so each month gets the parent's indexes back with them
    oldest = conn.execute("SELECT min(last_run_at) - interval '1 day' * %s FROM scheduled_jobs",
                          (max(1, runs // jobs),)).fetchone()[0]  # fmt: skip
    month = run_partitions.month_start(oldest)
    while month <= conn.execute("SELECT now()").fetchone()[0]:
        run_partitions.ensure(conn, month)
        month = run_partitions.add_months(month, 1)
    indexes = _secondary_indexes(conn, "job_runs")
    for name, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    try:
        conn.execute("SET session_replication_role = replica")  # no FK checks or notify trigger per row
    except psycopg.errors.InsufficientPrivilege:
        print("  (not allowed to turn triggers off: FK checks run per row, slower)", flush=True)
    conn.execute(RUNS.format(periods=periods), {"runs_per_job": max(1, runs // jobs)})
    conn.execute("RESET session_replication_role")
    # nothing seeded is due or expires while the bench runs: workers drain only the backlog
    conn.execute("UPDATE job_runs SET run_after = now() + interval '10 years' WHERE status = 'pending'")
    conn.execute("UPDATE job_runs SET lease_expires_at = now() + interval '10 years' WHERE status = 'processing'")
    lap("runs")
    for name, definition in indexes:
        # a partitioned table's definition reads "ON ONLY job_runs": an invalid index of the parent alone
        conn.execute(definition.replace(" ON ONLY ", " ON ", 1))
        lap(f"index {name}")
    for part in conn.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'job_runs'::regclass"
                             ).fetchall():  # fmt: skip
        # each month's indexes named after their parent's (job_runs_status_idx_p2026_11), as the app names them
        conn.execute("SELECT ck_name_partition_indexes(%s::regclass, %s)", (part[0], part[0].removeprefix("job_runs")))
    conn.execute(
        "INSERT INTO customers (name) SELECT %s || g FROM generate_series(1, %s) g", (BACKLOG_PREFIX, BACKLOG_CUSTOMERS)
    )
    conn.execute("INSERT INTO brands (customer_id, name) SELECT id, name || ' brand' FROM customers WHERE name LIKE %s",
                 (BACKLOG_PREFIX + "%",))  # fmt: skip
    conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, name, job_type, schedule_kind, cron_expression,
                                    is_active, next_run_at, overlap_policy, max_retries, created_at, updated_at)
        SELECT b.customer_id, b.id, 'backlog ' || g, 'scoring', 'cron', '0 0 1 1 *', true,
               now() + interval '10 years', 'allow', 0, now() - interval '60 days', now()
        FROM brands b JOIN customers c ON c.id = b.customer_id, generate_series(1, %s) g
        WHERE c.name LIKE %s
        """,
        (BACKLOG_JOBS // BACKLOG_CUSTOMERS, BACKLOG_PREFIX + "%"),
    )
    conn.execute("VACUUM ANALYZE")
    lap("vacuum analyze")
    try:
        conn.execute("CHECKPOINT")  # the load's dirty pages written now, not during the first measurements
    except psycopg.errors.InsufficientPrivilege:
        pass
    lap("loaded")


def answer_backlog_brands(conn: psycopg.Connection) -> None:
    """One collected answer (of a completed collection run) per backlog brand that has none: what its
    scoring runs score (a scoring run with nothing to score fails)."""
    conn.execute(
        """
        WITH r AS (
            INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                                  scheduled_for, run_after, started_at, finished_at)
            SELECT DISTINCT ON (j.brand_id) j.id, j.customer_id, j.brand_id, 'data_collection', 'manual',
                   'completed', now(), now(), now(), now()
            FROM scheduled_jobs j JOIN customers c ON c.id = j.customer_id
            WHERE c.name LIKE %s AND NOT EXISTS (SELECT 1 FROM collected_answers a WHERE a.brand_id = j.brand_id)
            ORDER BY j.brand_id
            RETURNING id, scheduled_for, brand_id
        )
        INSERT INTO collected_answers (run_id, run_scheduled_for, brand_id, query, collector, answer)
        SELECT r.id, r.scheduled_for, r.brand_id, 'best tools?', 'bench', b.name || ' is good, better than Rival A, says everyone.'
        FROM r JOIN brands b ON b.id = r.brand_id
        """,
        (BACKLOG_PREFIX + "%",),
    )


def add_backlog(conn: psycopg.Connection, n: int) -> None:
    """``n`` pending scheduled scoring runs due now, spread over the backlog customers' jobs (each its own
    slot: the trigger filters see the seeded runs only)."""
    conn.execute(
        """
        WITH j AS (SELECT j.id, j.customer_id, j.brand_id, row_number() OVER (ORDER BY j.id) - 1 AS k,
                          count(*) OVER () AS total
                   FROM scheduled_jobs j JOIN customers c ON c.id = j.customer_id WHERE c.name LIKE %s)
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, scheduled_for, run_after)
        SELECT j.id, j.customer_id, j.brand_id, 'scoring', 'schedule', now() - g * interval '1 millisecond', now()
        FROM generate_series(0, %s - 1) g JOIN j ON j.k = g %% j.total
        ON CONFLICT DO NOTHING
        """,
        (BACKLOG_PREFIX + "%", n),
    )


def backlog_customers(conn: psycopg.Connection) -> list:
    return [r[0] for r in conn.execute("SELECT id FROM customers WHERE name LIKE %s", (BACKLOG_PREFIX + "%",))]


def open_backlog(conn: psycopg.Connection, customers: list) -> int:
    """Backlog runs not finished yet (pending or processing), read by job_runs_customer_queue_idx."""
    return conn.execute(
        "SELECT count(*) FROM job_runs WHERE customer_id = ANY(%s) AND status IN ('pending', 'processing')",
        (customers,),
    ).fetchone()[0]


def clear_backlog(conn: psycopg.Connection) -> int:
    """Delete every backlog run (and the scores a worker wrote for it); the rest stays as seeded.

    Then VACUUM: the deleted runs are the newest, and until their index entries are gone every
    walk of the primary key from the top (the first page of runs) reads them all again."""
    customers = backlog_customers(conn)
    if not customers:
        return 0
    cur = conn.execute("DELETE FROM job_runs WHERE customer_id = ANY(%s) AND job_type = 'scoring'", (customers,))
    if cur.rowcount:
        t = time.perf_counter()
        conn.execute("VACUUM job_runs")
        print(f"  backlog deleted ({cur.rowcount:,} runs), vacuumed in {time.perf_counter() - t:.0f} s", flush=True)
    return cur.rowcount
