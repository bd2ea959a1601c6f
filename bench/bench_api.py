"""Admin API under load: every list route of the admin UI at 10,000,000 runs, 32 clients, workers idle and busy.

Data: bench/api_seed.py (100,000 jobs; ``--runs`` runs as per-job retention
leaves them, from bench/pages_seed.py), loaded by ``INSERT ... SELECT
generate_series`` with ``job_runs``' indexes rebuilt after, in a database of
its own on ``BENCH_DATABASE_URL``'s server (else an embedded one), kept
between runs (``--database``, default ``bench_api_10m`` for 10 M runs;
``--reseed`` loads it again, ``--drop`` removes it at the end). Each run
migrates it first, so the bench follows the schema.

A live ``cronkeeper api`` (``--api-workers`` processes) is hit by
``--clients`` keep-alive connections (bench/http_load.py) for ``--seconds`` per
route after a warm-up. Routes: what the jobs, job, runs pages ask (first
pages, sorted pages, deep cursors, each filter), and ``GET /job-runs/{id}``
(the token check and a one-row query) as the floor. Each round measures every
route twice: idle (no worker, no backlog) and busy (``--busy-workers`` real
``cronkeeper worker`` processes draining a backlog of ``--backlog`` pending
runs, due now and newer than every other run as a burst of due slots is,
topped up between routes so it never runs dry, deleted at the phase's end);
rounds alternate which comes first.
Figures are medians of ``--rounds`` rounds (min-max beside them): p50 / p99,
each route's p50 over the floor's p50 in the same round and phase, and busy
p99 over idle p99 in the same round. The drain rate is the backlog runs
finished per second while the clients measured. Target (issue 23): p99 <
50 ms for every list route with workers busy.

    python bench/bench_api.py [--runs 10000000] [--rounds 3] [--seconds 3] [--busy-workers 2]
                              [--backlog 200000] [--worker-args "--concurrency 8"] [--only runs,jobs]
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import statistics
import time

import psycopg
from api_routes import routes
from api_seed import add_backlog, backlog_customers, clear_backlog, kept_database, open_backlog
from common import admin_token, percentile, record, server, spawn, start_api, stop, wait_registered
from http_load import load
from psycopg.conninfo import conninfo_to_dict

TARGET = 0.050


def measure(base: str, token: str, route: tuple, args: argparse.Namespace) -> dict:
    _, label, make = route
    warm = load(base, token, make, clients=args.clients, seconds=args.warmup)
    if warm["errors"]:
        print(f"  {label}: {warm['errors']} errors in warm-up, e.g. {warm['sample_error']}", flush=True)
    r = load(base, token, make, clients=args.clients, seconds=args.seconds)
    return {"p50": percentile(r["latency"], 50), "p99": percentile(r["latency"], 99),
            "rps": r["count"] / r["seconds"], "errors": r["errors"], "seconds": r["seconds"]}  # fmt: skip


def idle_phase(base: str, token: str, chosen: list, args: argparse.Namespace, n: int) -> list[dict]:
    out = []
    for route in chosen:
        out.append(measure(base, token, route, args))
        _say(n, "idle", route, out[-1], "")
    return out


def busy_phase(dsn: str, base: str, token: str, chosen: list, args: argparse.Namespace, n: int) -> tuple[list, dict]:
    """Every route while ``--busy-workers`` workers drain the backlog; (results, drain figures)."""
    conn = psycopg.connect(dsn, autocommit=True)
    customers = backlog_customers(conn)
    top_up(conn, customers, args.backlog)
    workers = [spawn(["worker", *args.worker_args], dsn, log_name=f"worker-{i}") for i in range(args.busy_workers)]
    out, drained, seconds, lows = [], 0, 0.0, []
    try:
        for w in workers:
            wait_registered(conn, w)
        for route in chosen:
            top_up(conn, customers, args.backlog)
            before, t = open_backlog(conn, customers), time.monotonic()
            out.append(measure(base, token, route, args))
            after = open_backlog(conn, customers)
            drained, seconds, lows = drained + before - after, seconds + time.monotonic() - t, [*lows, after]
            if after == 0:
                print("  the backlog ran dry during a measurement: raise --backlog", flush=True)
            _say(n, "busy", route, out[-1], f", drained {(before - after) / (time.monotonic() - t):,.0f} runs/s")
    finally:
        for w in workers:
            stop(w)
        statuses = dict(conn.execute("SELECT status, count(*) FROM job_runs WHERE customer_id = ANY(%s) "
                                     "AND job_type = 'scoring' GROUP BY 1", (customers,)).fetchall())  # fmt: skip
        clear_backlog(conn)  # the idle phase has neither workers nor a backlog
        conn.close()
    print(f"  round {n} busy: backlog runs by status {statuses}", flush=True)
    return out, {"rate": drained / seconds if seconds else 0.0, "lowest": min(lows, default=0), "statuses": statuses}


def top_up(conn: psycopg.Connection, customers: list, backlog: int) -> None:
    """Back to ``backlog`` open runs when fewer than half are left (outside the measured windows)."""
    left = open_backlog(conn, customers)
    if left < backlog // 2:
        add_backlog(conn, backlog - left)


def _say(n: int, phase: str, route: tuple, r: dict, extra: str) -> None:
    print(f"  round {n} {phase} {route[0]}: {route[1]}: p50 {r['p50'] * 1000:.1f} ms, p99 {r['p99'] * 1000:.1f} ms, "
          f"errors {r['errors']}{extra}, load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip


def spread(values: list[float], scale: float = 1000, digits: int = 1) -> str:
    v = [x * scale for x in values]
    med = statistics.median(v)
    return f"{med:.{digits}f}" if len(v) == 1 else f"{med:.{digits}f} ({min(v):.{digits}f}-{max(v):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10_000_000, help="runs seeded (per job: runs // jobs)")
    parser.add_argument("--database", default=None, help="kept database (default bench_api_<runs>, e.g. bench_api_10m)")
    parser.add_argument("--reseed", action="store_true", help="drop and load the database again")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--busy-workers", type=int, default=2, help="`cronkeeper worker` processes (0: idle only)")
    parser.add_argument("--backlog", type=int, default=200_000, help="pending runs kept for the busy workers")
    parser.add_argument("--worker-args", type=shlex.split, default=[], help="extra `cronkeeper worker` arguments")
    parser.add_argument("--only", default="", help="comma-separated groups (jobs, job, runs)")
    args = parser.parse_args()
    if args.rounds < 1 or args.busy_workers < 0 or args.backlog < 1 or args.jobs < 1 or args.runs < args.jobs:
        parser.error("need --rounds >= 1, --busy-workers >= 0, --backlog >= 1 and --runs >= --jobs >= 1")
    name = args.database or f"bench_api_{_short(args.runs)}"
    rng = random.Random(7)
    phases = ["idle", "busy"] if args.busy_workers else ["idle"]
    rounds, drains, loads = [], [], []
    with server() as srv, kept_database(srv, name, reseed=args.reseed, drop=args.drop, jobs=args.jobs, runs=args.runs) as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            chosen = [r for r in routes(conn, rng) if not args.only or r[0] in {"floor", *args.only.split(",")}]
            jobs, runs = conn.execute("SELECT (SELECT count(*) FROM scheduled_jobs), "
                                      "(SELECT reltuples::bigint FROM pg_class WHERE relname = 'job_runs')").fetchone()  # fmt: skip
        token = admin_token(dsn)
        os.environ["CRONKEEPER_API_WORKERS"] = str(args.api_workers)
        api, base = start_api(dsn)
        try:
            for n in range(1, args.rounds + 1):
                loads.append(os.getloadavg()[0])
                got = {}
                for phase in phases if n % 2 else phases[::-1]:
                    if phase == "idle":
                        got["idle"] = idle_phase(base, token, chosen, args, n)
                    else:
                        got["busy"], drain = busy_phase(dsn, base, token, chosen, args, n)
                        drains.append(drain)
                rounds.append(got)
        finally:
            stop(api)
            with psycopg.connect(dsn, autocommit=True) as conn:
                clear_backlog(conn)  # the next run starts from the seeded table
    report(chosen, rounds, drains, loads, phases, args, jobs, runs, dsn)


def report(chosen, rounds, drains, loads, phases, args, jobs, runs, dsn) -> None:
    rows = []
    for i, (group, label, _) in enumerate(chosen):
        row = [group, label]
        for phase in phases:
            got = [r[phase][i] for r in rounds]
            row += [spread([g["p50"] for g in got]), spread([g["p99"] for g in got]),
                    spread([r[phase][i]["p50"] / r[phase][0]["p50"] for r in rounds], 1, 2)]  # fmt: skip
        if "busy" in phases:
            row.append(spread([r["busy"][i]["p99"] / r["idle"][i]["p99"] for r in rounds], 1, 2))
        last = phases[-1] if "busy" not in phases else "busy"
        p99 = statistics.median(r[last][i]["p99"] for r in rounds)
        errors = sum(r[p][i]["errors"] for r in rounds for p in phases)
        row += [errors, "-" if group == "floor" else ("met" if p99 < TARGET and not errors else "MISSED")]
        rows.append(row)
    headers = ["page", "route"]
    for phase in phases:
        headers += [f"{phase} p50 ms", f"{phase} p99 ms", f"{phase} p50 / floor"]
    headers += (["busy p99 / idle p99"] if "busy" in phases else []) + ["errors", f"{phases[-1] if len(phases) == 1 else 'busy'} p99 < 50 ms"]
    drain = ""
    if drains:
        command = " ".join(["cronkeeper worker", *args.worker_args])
        drain = (f"; busy: {args.busy_workers} `{command}` processes "
                 f"draining no-op scoring runs at {spread([d['rate'] for d in drains], 1, 0)} runs/s while measured, "
                 f"backlog {args.backlog:,} topped up when half gone (lowest left: {min(d['lowest'] for d in drains):,})")
    record(
        f"Admin API list routes, {jobs:,} jobs and ~{runs:,} runs, {args.clients} clients, workers idle and busy",
        headers,
        rows,
        notes=f"median (min-max) of {args.rounds} rounds, idle and busy alternating first; {args.seconds:g} s per "
        f"route after {args.warmup:g} s warm-up; `cronkeeper api --workers {args.api_workers}`{drain}; database "
        f"{conninfo_to_dict(dsn).get('dbname')}; load average at each round's start "
        f"{', '.join(f'{x:.1f}' for x in loads)}, at the end {os.getloadavg()[0]:.1f}, on {os.cpu_count()} cores "
        f"(client, API, workers and PostgreSQL share them)",
    )


def _short(n: int) -> str:
    for size, suffix in ((1_000_000, "m"), (1_000, "k")):
        if n >= size and n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)


if __name__ == "__main__":
    main()
