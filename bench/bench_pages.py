"""The admin UI's pages under load: every API call of the runs, system, charts, alerts and
audit pages and the sorted jobs list, at 100,000 jobs / 1,000,000 runs, 32 clients.

Data: bench/pages_seed.py (runs spread over 10 days, densest in the last hours,
as per-job retention leaves them; mixed statuses, triggers and durations). It
lives in its own database (``--database``, default ``bench_pages``) on
``BENCH_DATABASE_URL``'s server (else an embedded one), kept between runs:
the next run only migrates it (``--reseed`` loads it again; ``--drop`` removes
it at the end). A live ``cronkeeper api`` (``--api-workers`` processes) is hit
by ``--clients`` keep-alive connections (bench/http_load.py) for ``--seconds``
per call after a warm-up; ``--rounds`` rounds, the calls in the same order in
each, and each figure is the median of the rounds (min-max beside it).
Target: p99 < 50 ms for every call. ``GET /job-runs/{id}`` (the token check
and a one-row query) is the floor: "p50 / floor p50" is each call's p50 over
the floor's in the same round, the figure that survives a loaded machine.
Calls marked "bound token" use a viewer token bound to one customer.

The charts of every run and of a customer read the rollup of migration 0023
(cronkeeper/stats_rollup.py); the first chart after a (re)seed counts the
slots of its range once, so the first round's warm-up pays for it.

    python bench/bench_pages.py [--rounds 3] [--seconds 4] [--clients 32] [--api-workers 2] [--only charts]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import statistics
from collections.abc import Callable

import common
import psycopg
from common import admin_token, percentile, record, server, start_api, stop
from http_load import load
from pages_seed import seed
from psycopg.conninfo import conninfo_to_dict

from cronkeeper.api import cursors

TARGET = 0.050
BOUND = "bound:"  # a path with this prefix is asked with a token bound to one customer



def kept_database(server_dsn: str, name: str, *, reseed: bool, drop: bool, jobs: int, runs_per_job: int):
    """The bench's database, seeded when new (or asked), migrated to the current schema."""

    def prepare(conn: psycopg.Connection) -> None:
        if conn.execute("SELECT count(*) FROM scheduled_jobs").fetchone()[0] == 0:
            seed(conn, jobs, runs_per_job)

    return common.kept_database(server_dsn, name, reseed=reseed, drop=drop, prepare=prepare)


def bound_token(dsn: str) -> str:
    """A viewer token bound to the first customer (by name)."""
    from cronkeeper.db import connect
    from cronkeeper.tokens import create_token

    with connect(dsn, autocommit=True) as conn:
        customer = conn.execute("SELECT id FROM customers ORDER BY name LIMIT 1").fetchone()["id"]
        return create_token(conn, name="bench-bound", role="viewer", customer_id=customer).secret


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def calls(conn: psycopg.Connection, rng: random.Random) -> list[tuple[str, str, Callable[[], str]]]:
    """(page, call, path maker) for every call the pages make, with values drawn from the data."""
    now = conn.execute("SELECT now()").fetchone()[0]
    max_id = conn.execute("SELECT max(id) FROM job_runs").fetchone()[0]
    pick = lambda q, *a: [r[0] for r in conn.execute(q, a)]  # noqa: E731
    run_ids = pick("SELECT id FROM job_runs TABLESAMPLE SYSTEM (1) LIMIT 1000")
    job_ids = pick("SELECT id::text FROM scheduled_jobs TABLESAMPLE BERNOULLI (2)")
    customers = pick("SELECT id::text FROM customers")
    brands = pick("SELECT id::text FROM brands")
    scored = pick("SELECT DISTINCT brand_id::text FROM answer_scores")
    deep = [cursors.encode(rng.randint(max_id // 10, max_id)) for _ in range(1000)]
    by_next = [cursors.encode("a", t, i) for t, i in conn.execute(
        "SELECT next_run_at, id FROM scheduled_jobs TABLESAMPLE BERNOULLI (1) WHERE is_active")]  # fmt: skip
    by_last = [cursors.encode("a", t, i) for t, i in conn.execute(
        "SELECT last_run_at, id FROM scheduled_jobs TABLESAMPLE BERNOULLI (1) WHERE last_run_at IS NOT NULL")]  # fmt: skip
    day_ago, month_ago = iso(now - dt.timedelta(days=1)), iso(now - dt.timedelta(days=30))

    def window() -> str:  # one hour, somewhere in the last 10 days
        start = now - dt.timedelta(hours=rng.randint(1, 240))
        return f"&from={iso(start)}&to={iso(start + dt.timedelta(hours=1))}"

    c = rng.choice
    runs = "/api/admin/job-runs?limit=50&include_skipped=false"
    return [
        ("floor", "GET /job-runs/{id}", lambda: f"/api/admin/job-runs/{c(run_ids)}"),
        ("runs", "first page (skipped hidden)", lambda: runs),
        ("runs", "next page (cursor)", lambda: f"{runs}&cursor={c(deep)}"),
        ("runs", "status=failed", lambda: f"{runs}&status=failed"),
        ("runs", "status=pending", lambda: f"{runs}&status=pending"),
        ("runs", "trigger=manual", lambda: f"{runs}&trigger=manual"),
        ("runs", "job_id", lambda: f"{runs}&job_id={c(job_ids)}"),
        ("runs", "brand_id", lambda: f"{runs}&brand_id={c(brands)}"),
        ("runs", "customer_id", lambda: f"{runs}&customer_id={c(customers)}"),
        ("runs", "time range (1 h)", lambda: runs + window()),
        ("runs", "customer + status=failed + range", lambda: f"{runs}&customer_id={c(customers)}&status=failed{window()}"),
        ("system", "GET /system", lambda: "/api/admin/system"),
        ("system", "GET /scheduler/status", lambda: "/api/admin/scheduler/status"),
        ("system", "GET /queue/status", lambda: "/api/admin/queue/status"),
        ("system", "GET /system/collectors", lambda: "/api/admin/system/collectors"),
        ("charts", "all runs, hourly, 24 h", lambda: f"/api/admin/stats/runs?bucket=hour&from={day_ago}"),
        ("charts", "all runs, daily, 30 days", lambda: f"/api/admin/stats/runs?bucket=day&from={month_ago}"),
        ("charts", "all runs, daily, 30 days, Asia/Kolkata",
         lambda: f"/api/admin/stats/runs?bucket=day&from={month_ago}&timezone=Asia/Kolkata"),
        ("charts", "one customer (bound token), hourly, 24 h", lambda: f"{BOUND}/api/admin/stats/runs?bucket=hour"),
        ("charts", "one customer (bound token), daily, 30 days", lambda: f"{BOUND}/api/admin/stats/runs?bucket=day"),
        ("charts", "one job, hourly, 24 h", lambda: f"/api/admin/stats/runs?job_id={c(job_ids)}&bucket=hour"),
        ("charts", "one job, daily, 30 days", lambda: f"/api/admin/stats/runs?job_id={c(job_ids)}&bucket=day"),
        ("charts", "brand trends, daily, 30 days", lambda: f"/api/admin/brands/{c(scored)}/trends?rollup=day"),
        ("charts", "brand trends, per run", lambda: f"/api/admin/brands/{c(scored)}/trends"),
        ("alerts", "list", lambda: "/api/admin/alerts?limit=50"),
        ("alerts", "status=open", lambda: "/api/admin/alerts?limit=50&status=open"),
        ("alerts", "customer_id", lambda: f"/api/admin/alerts?limit=50&customer_id={c(customers)}"),
        ("audit", "list", lambda: "/api/admin/audit?limit=50"),
        ("audit", "customer_id", lambda: f"/api/admin/audit?limit=50&customer_id={c(customers)}"),
        ("jobs", "sort=next_run, first page", lambda: "/api/admin/scheduled-jobs?limit=50&sort=next_run"),
        ("jobs", "sort=next_run, later page", lambda: f"/api/admin/scheduled-jobs?limit=50&sort=next_run&cursor={c(by_next)}"),
        ("jobs", "sort=last_run, first page", lambda: "/api/admin/scheduled-jobs?limit=50&sort=last_run"),
        ("jobs", "sort=last_run, later page", lambda: f"/api/admin/scheduled-jobs?limit=50&sort=last_run&cursor={c(by_last)}"),
    ]  # fmt: skip


def api_cpu(api_pid: int) -> float:
    """CPU seconds (user + system) used so far by the ``cronkeeper api`` process and its workers."""
    import psutil

    total = 0.0
    for p in [psutil.Process(api_pid), *psutil.Process(api_pid).children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def db_cpu(conn: psycopg.Connection) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend connected to the bench's database (this
    script's own included: it is idle during a load), by pid."""
    import psutil

    out = {}
    for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"):
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            out[pid] = t.user + t.system
    return out


def one_round(base: str, tokens: tuple[str, str], chosen: list, args: argparse.Namespace, n: int,
              api_pid: int, conn: psycopg.Connection) -> list[dict]:  # fmt: skip
    out = []
    for page, label, make in chosen:
        token = tokens[1] if make().startswith(BOUND) else tokens[0]
        path = (lambda make=make: make().removeprefix(BOUND))  # noqa: E731
        warm = load(base, token, path, clients=args.clients, seconds=args.warmup)
        if warm["errors"]:
            print(f"  {page} {label}: {warm['errors']} errors in warm-up, e.g. {warm['sample_error']}", flush=True)
        cpu, backends = api_cpu(api_pid), db_cpu(conn)
        r = load(base, token, path, clients=args.clients, seconds=args.seconds)
        cpu = (api_cpu(api_pid) - cpu) / max(r["count"], 1)  # the API's own CPU per request (ms of a core)
        dbcpu = sum(t - backends.get(pid, 0.0) for pid, t in db_cpu(conn).items()) / max(r["count"], 1)
        p50, p99 = percentile(r["latency"], 50), percentile(r["latency"], 99)
        out.append({"p50": p50, "p99": p99, "rps": r["count"] / r["seconds"], "errors": r["errors"], "cpu": cpu,
                    "db": dbcpu})
        print(f"  round {n} {page}: {label}: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
              f"CPU ms/req API {cpu * 1000:.2f} DB {dbcpu * 1000:.2f}, errors {r['errors']}, load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    return out


def spread(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    med = statistics.median(ms)
    return f"{med:.1f}" if len(ms) == 1 else f"{med:.1f} ({min(ms):.1f}-{max(ms):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs-per-job", type=int, default=10)
    parser.add_argument("--database", default="bench_pages")
    parser.add_argument("--reseed", action="store_true", help="drop and load the database again")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated pages (runs, system, charts, alerts, audit, jobs)")
    args = parser.parse_args()
    rng = random.Random(7)
    loads = []
    with server() as srv, kept_database(srv, args.database, reseed=args.reseed, drop=args.drop,
                                        jobs=args.jobs, runs_per_job=args.runs_per_job) as dsn:  # fmt: skip
        with psycopg.connect(dsn, autocommit=True) as conn:
            chosen = [x for x in calls(conn, rng) if not args.only or x[0] in {"floor", *args.only.split(",")}]
            jobs, runs = conn.execute("SELECT (SELECT count(*) FROM scheduled_jobs), (SELECT count(*) FROM job_runs)").fetchone()
        tokens = (admin_token(dsn), bound_token(dsn))
        os.environ["CRONKEEPER_API_WORKERS"] = str(args.api_workers)
        api, base = start_api(dsn)
        watch = psycopg.connect(dsn, autocommit=True)
        try:
            rounds = []
            for n in range(1, args.rounds + 1):
                loads.append(os.getloadavg()[0])
                rounds.append(one_round(base, tokens, chosen, args, n, api.pid, watch))
        finally:
            watch.close()
            stop(api)
    rows = []
    for i, (page, label, _) in enumerate(chosen):
        got = [r[i] for r in rounds]
        p99 = statistics.median(g["p99"] for g in got)
        floor = statistics.median(r[i]["p50"] / r[0]["p50"] for r in rounds)  # per round: the same load
        verdict = "-" if page == "floor" else ("met" if p99 < TARGET and not any(g["errors"] for g in got) else "MISSED")
        rows.append([page, label, spread([g["p50"] for g in got]), spread([g["p99"] for g in got]),
                     f"{p99 / TARGET:.2f}", f"{floor:.2f}", f"{statistics.median(g['rps'] for g in got):,.0f}",
                     f"{statistics.median(g['cpu'] for g in got) * 1000:.2f}",
                     f"{statistics.median(g['db'] for g in got) * 1000:.2f}",
                     sum(g["errors"] for g in got), verdict])  # fmt: skip
    record(
        f"Admin pages' API calls, {jobs:,} jobs and {runs:,} runs, {args.clients} clients",
        ["page", "call", "p50 ms", "p99 ms", "p99 / 50 ms", "p50 / floor p50", "req/s", "API CPU ms/req", "DB CPU ms/req", "errors", "p99 < 50 ms"],
        rows,
        notes=f"median (min-max) of {args.rounds} rounds, {args.seconds:g} s per call after {args.warmup:g} s warm-up; "
        f"`cronkeeper api --workers {args.api_workers}`; database {conninfo_to_dict(dsn).get('dbname')}; "
        f"load average at each round's start {', '.join(f'{x:.1f}' for x in loads)} on {os.cpu_count()} cores "
        f"(client, API and PostgreSQL share them)",
    )


if __name__ == "__main__":
    main()
