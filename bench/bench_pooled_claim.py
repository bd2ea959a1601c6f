"""The worker's hot statements through PgBouncer: planned at every call, or kept in a function (migration 0032).

Behind PgBouncer in transaction mode psycopg prepares nothing, so a statement
is planned at each execution, and over ``job_runs``' month partitions planning
the fair claim costs more than running it. Migration 0032 moved the claim, the
lease renewal and the progress checkpoint into PL/pgSQL functions, whose plans
the server connection keeps. This bench times each, one connection at a time,
on a database with ``--months`` months of history partitions:

- **function, pooled**: what the worker runs now, through PgBouncer;
- **statement, pooled**: the function's own statement sent as text (what the
  worker sent before 0032), through PgBouncer;
- **function, direct**: connected straight to PostgreSQL with psycopg's
  prepared statements and the worker pool's session (``plan_cache_mode =
  force_custom_plan``), what the worker runs now without a pooler;
- **statement, direct**: the statement prepared on that session, what the worker
  ran before 0032 without a pooler (planned at every call all the same).

Claims of ``--limit`` runs (a worker refilling a few free slots), each rolled
back so every call sees the same queue; ms per call, median of the last
``--calls`` calls of each connection, median (min-max) of ``--repeat``
interleaved rounds; ratios within each round. Needs Debian's ``pgbouncer``;
without it the pooled rows connect directly with ``prepare_threshold=None``
(what planning costs is the same).

    python bench/bench_pooled_claim.py [--months 12] [--customers 20] [--limit 5] [--calls 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import time
from contextlib import nullcontext

import psycopg
from bench_worker import history_months
from common import fresh_database, record, server
from psycopg.types.json import Jsonb

from tests.support.pgbouncer import pgbouncer_binary, run_pgbouncer

FUNCTIONS = {  # name -> (function, its parameters in order, as the named queries pass them)
    "claim": ("ck_claim_runs", ["now", "limit", "worker_id", "lease_until"]),
    "renew": ("ck_renew_leases", ["ids", "worker_id", "now", "lease_until"]),
    "checkpoint": ("ck_progress_checkpoint", ["id", "worker_id", "metrics", "now"]),
}


def body_of(conn: psycopg.Connection, function: str, params: list[str]) -> str:
    """The statement a function runs, with its p_ parameters as named placeholders (the text sent before 0032)."""
    src = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", (function,)).fetchone()[0]
    body = src.split("RETURN QUERY", 1)[1].rsplit(";", 1)[0]
    for name in params:
        body = re.sub(rf"\bp_{name}\b", f"%({name})s", body)
    return body


def seed(conn: psycopg.Connection, months: int, customers: int) -> int:
    history_months(conn, months)
    conn.execute("INSERT INTO customers (name) SELECT 'c' || g FROM generate_series(1, %s) g", (customers,))
    conn.execute("INSERT INTO brands (customer_id, name) SELECT id, 'b' FROM customers")
    conn.execute(
        """INSERT INTO scheduled_jobs (customer_id, brand_id, job_type, schedule_kind, interval_seconds,
                                       is_active, overlap_policy)
           SELECT b.customer_id, b.id, 'data_collection', 'interval', 3600, false, 'allow'
           FROM brands b, generate_series(1, 10)"""
    )
    conn.execute(
        """INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, scheduled_for, run_after)
           SELECT j.id, j.customer_id, j.brand_id, j.job_type, 'manual', now(), now() - interval '1 second'
           FROM scheduled_jobs j, generate_series(1, 50)"""
    )
    # runs in flight for the renewal and the checkpoint (worker 'busy')
    conn.execute(
        """UPDATE job_runs SET status = 'processing', worker_id = 'busy', started_at = now(), heartbeat_at = now(),
               lease_expires_at = now() + interval '1 hour'
           WHERE id IN (SELECT id FROM job_runs ORDER BY id LIMIT 20)"""
    )
    conn.execute("VACUUM ANALYZE")
    return conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'job_runs'::regclass").fetchone()[0]


def timed(dsn: str, kwargs: dict, what: str, sql: str, params: dict, calls: int) -> float:
    """ms per call, median of the last ``calls`` of 2 x ``calls`` on one connection, each call rolled back."""
    times = []
    with psycopg.connect(dsn, **kwargs) as conn:
        if "prepare_threshold" not in kwargs:  # direct: the worker pool's session (cronkeeper.db._configure)
            conn.execute("SELECT set_config('plan_cache_mode', 'force_custom_plan', false)")
            conn.commit()
        for _ in range(2 * calls):
            t = time.perf_counter()
            with conn.pipeline():
                if what == "claim":  # the claim before 0032 turned JIT off in its transaction
                    conn.execute("SET LOCAL jit = off")
                conn.execute(sql, params).fetchall()
            times.append((time.perf_counter() - t) * 1000)
            conn.rollback()
    return statistics.median(times[calls:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=12, help="month partitions of history before the current one")
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--limit", type=int, default=5, help="runs per claim")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    binary = pgbouncer_binary()
    with server() as srv, fresh_database(srv) as dsn, (run_pgbouncer(srv, binary) if binary else nullcontext()) as pgb:
        with psycopg.connect(dsn, autocommit=True) as conn:
            parts = seed(conn, args.months, args.customers)
            ids = [r[0] for r in conn.execute("SELECT id FROM job_runs WHERE worker_id = 'busy' ORDER BY id")]
            bodies = {k: body_of(conn, f, p) for k, (f, p) in FUNCTIONS.items()}
        now = dt.datetime.now(dt.UTC)
        params = {"claim": {"now": now, "limit": args.limit, "worker_id": "w", "lease_until": now},
                  "renew": {"ids": ids, "worker_id": "busy", "now": now, "lease_until": now},
                  "checkpoint": {"id": ids[0], "worker_id": "busy", "metrics": Jsonb({"calls": 1}), "now": now}}  # fmt: skip
        pooled_dsn = pgb.dsn(dsn) if pgb else dsn
        contenders = {
            "function, pooled": (pooled_dsn, {"prepare_threshold": None}, "function"),
            "statement, pooled": (pooled_dsn, {"prepare_threshold": None}, "statement"),
            "function, direct": (dsn, {}, "function"),
            "statement, direct": (dsn, {}, "statement"),
        }
        got: dict[tuple[str, str], list[float]] = {}
        for round_ in range(args.repeat):
            print(f"round {round_ + 1}/{args.repeat}", flush=True)
            for what, (function, names) in FUNCTIONS.items():
                call = f"SELECT * FROM {function}({', '.join(f'%({n})s' for n in names)})"
                for label, (where, kwargs, form) in contenders.items():
                    sql = call if form == "function" else bodies[what]
                    ms = timed(where, kwargs, what, sql, params[what], args.calls)
                    got.setdefault((what, label), []).append(ms)
                    print(f"  {what} / {label}: {ms:.2f} ms", flush=True)

    def spread(values: list[float], fmt: str) -> str:
        return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"

    rows = []
    for what in FUNCTIONS:
        fn = got[(what, "function, pooled")]
        for label in contenders:
            mine = got[(what, label)]
            ratio = [m / f for m, f in zip(mine, fn, strict=True)]
            rows.append([what if what != "claim" else f"claim of {args.limit}", label, spread(mine, ".2f"),
                         spread(ratio, ".2f") + "x"])  # fmt: skip
    record(
        f"The worker's statements through PgBouncer, job_runs in {parts} partitions",
        ["statement", "how", "ms per call", "this / function, pooled"],
        rows,
        notes=f"{'PgBouncer ' + binary if binary else 'no PgBouncer: pooled = direct with prepare_threshold=None'}; "
        f"{args.customers} customers with due runs; median (min-max) of {args.repeat} interleaved rounds, each the "
        f"median of the last {args.calls} of {2 * args.calls} calls on one connection, every call rolled back",
    )


if __name__ == "__main__":
    main()
