"""Worker throughput: 20,000 no-op runs drained by 1, 2 and 4 worker processes.

Beside it, on the same server and in the same run:
- the limit: a bare psycopg loop on the same ``job_runs`` table claiming 50
  (and 1) runs at a time with ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE
  SKIP LOCKED LIMIT n) RETURNING`` and marking them completed (bench/bare_claim.py);
- pgqueuer (asyncpg driver) and procrastinate draining no-op jobs, each in its
  own database, run with the ``.venv-peers`` interpreter (created if missing).

Every drain runs in child processes that set up first and are then released
at once (bench/childsync.py): runs/s = runs / (last finish - release).
Every configuration, peers included, runs once in each of ``--repeat``
interleaved rounds; the table shows the median with min-max, and the ratios
are taken within each round (median, min-max). Targets (issue 23), one
process each: ours >= 1.5x pgqueuer, and the bare LIMIT 50 loop within 1.2x
of ours.

``--months N`` first makes N months of (empty) history partitions before the
current one, as a deployment keeping that much history has them: planning a
statement over ``job_runs`` grows with its partitions. ``--pooler`` adds one
worker process connected through PgBouncer in transaction mode
(tests/support/pgbouncer.py; ``CRONKEEPER_DB_POOLER=transaction``: nothing
prepared client-side) in every round.

    python bench/bench_worker.py [--runs 20000] [--procs 1,2,4] [--concurrency 4] [--prefetch 496]
                                 [--repeat 3] [--pgq-batch 200] [--procrastinate-runs 5000] [--no-peers]
                                 [--months 12] [--pooler]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from contextlib import nullcontext
from urllib.parse import quote, urlencode

import psycopg
from common import ROOT, fresh_database, record, run_children, server
from psycopg.conninfo import conninfo_to_dict

PEERS_VENV = ROOT / ".venv-peers"
PEERS_PY = PEERS_VENV / "bin" / "python"
PEER_PACKAGES = ["pgqueuer", "asyncpg", "procrastinate", "psycopg[binary]"]
PEER_IMPORTS = {"pgqueuer": "import pgqueuer, asyncpg", "procrastinate": "import procrastinate, psycopg"}
PY = sys.executable
JOBS = 100  # the runs belong to this many scheduled jobs


def peers_available() -> dict[str, str | None]:
    """peer -> None when usable, else the reason it is skipped. Creates .venv-peers if missing."""
    reasons: dict[str, str | None] = {}
    if not PEERS_PY.exists():
        print(f"creating {PEERS_VENV} ({' '.join(PEER_PACKAGES)})", flush=True)
        try:
            subprocess.run([PY, "-m", "venv", str(PEERS_VENV)], check=True, capture_output=True, timeout=300)
            subprocess.run([str(PEERS_PY), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True,
                           capture_output=True, timeout=900)  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            err = getattr(exc, "stderr", b"") or b""
            print(f"could not install the peers: {exc} {err.decode(errors='replace')[-300:]}", flush=True)
    for peer, imports in PEER_IMPORTS.items():
        if not PEERS_PY.exists():
            reasons[peer] = f"{PEERS_VENV} could not be created"
            continue
        r = subprocess.run([str(PEERS_PY), "-c", imports], capture_output=True, text=True)
        if r.returncode != 0:
            # try once to install what is missing
            subprocess.run([str(PEERS_PY), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], capture_output=True)
            r = subprocess.run([str(PEERS_PY), "-c", imports], capture_output=True, text=True)
        reasons[peer] = None if r.returncode == 0 else f"does not install/import: {r.stderr.strip()[-200:]}"
    return reasons


def peer_version(package: str) -> str:
    r = subprocess.run([str(PEERS_PY), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
                       capture_output=True, text=True)  # fmt: skip
    return r.stdout.strip() or "?"


def as_url(dsn: str) -> str:
    """A postgresql:// URL for a libpq DSN (asyncpg takes only URLs)."""
    d = conninfo_to_dict(dsn)
    host = d.get("host", "")
    query = {}
    netloc_host = host
    if host.startswith("/"):
        query["host"], netloc_host = host, ""
    user = quote(d.get("user", "") or "")
    password = d.get("password")
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    port = f":{d['port']}" if d.get("port") else ""
    return f"postgresql://{auth}{netloc_host}{port}/{quote(d.get('dbname', ''))}" + (
        f"?{urlencode(query)}" if query else ""
    )


# -- our side --------------------------------------------------------------
def seed_jobs(conn: psycopg.Connection) -> None:
    conn.execute("INSERT INTO customers (name) VALUES ('bench')")
    conn.execute("INSERT INTO brands (customer_id, name) SELECT id, 'brand' FROM customers")
    conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, job_type, schedule_kind, interval_seconds,
                                    is_active, overlap_policy)
        SELECT b.customer_id, b.id, 'data_collection', 'interval', 3600, false, 'allow'
        FROM brands b, generate_series(1, %s)
        """,
        (JOBS,),
    )


def load_runs(conn: psycopg.Connection, n: int) -> None:
    """Exactly ``n`` due pending runs, nothing else, statistics fresh."""
    conn.execute("TRUNCATE job_runs CASCADE")
    conn.execute(
        """
        WITH j AS (SELECT id, customer_id, brand_id, job_type, row_number() OVER (ORDER BY id) - 1 AS k
                   FROM scheduled_jobs)
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, scheduled_for, run_after)
        SELECT j.id, j.customer_id, j.brand_id, j.job_type, 'manual', now(), now() - interval '1 second'
        FROM generate_series(0, %(n)s - 1) g JOIN j ON j.k = g %% %(jobs)s
        """,
        {"n": n, "jobs": JOBS},
    )
    conn.execute("VACUUM ANALYZE job_runs")


def check_drained(conn: psycopg.Connection, n: int, what: str) -> None:
    left = conn.execute("SELECT count(*) FROM job_runs WHERE status <> 'completed'").fetchone()[0]
    done = conn.execute("SELECT count(*) FROM job_runs WHERE status = 'completed'").fetchone()[0]
    if left or done != n:
        raise RuntimeError(f"{what}: {done} completed, {left} not, of {n}")


def history_months(conn: psycopg.Connection, months: int) -> None:
    """The ``months`` month partitions before the current one (migration 0025's function)."""
    for k in range(1, months + 1):
        conn.execute("SELECT ck_run_partition_ensure(date_trunc('month', now()) - make_interval(months => %s))", (k,))


def drain_ours(conn, dsn: str, runs: int, procs: int, concurrency: int, prefetch: int, env: dict | None = None) -> dict:
    load_runs(conn, runs)
    cmd = [PY, "noop_worker.py", dsn, str(concurrency), str(prefetch), "--sync"]
    result = run_children([cmd] * procs, env=env)
    check_drained(conn, runs, f"cronkeeper x{procs}")
    return result


def drain_bare(conn, dsn: str, runs: int, procs: int, limit: int) -> dict:
    load_runs(conn, runs)
    result = run_children([[PY, "bare_claim.py", dsn, str(limit)]] * procs)
    check_drained(conn, runs, f"bare claim {limit} x{procs}")
    return result


# -- peers -----------------------------------------------------------------
def drain_peer(script: str, dsn: str, jobs: int, procs: int, setting: int) -> dict:
    subprocess.run([str(PEERS_PY), script, "setup", dsn, str(jobs)], check=True, cwd=ROOT / "bench", timeout=600)
    result = run_children([[str(PEERS_PY), script, "drain", dsn, str(setting)]] * procs)
    if result["n"] != jobs:
        raise RuntimeError(f"{script}: drained {result['n']} of {jobs}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--procs", default="1,2,4", help="worker process counts (ours)")
    parser.add_argument("--concurrency", type=int, default=4, help="executor threads per worker")
    parser.add_argument("--prefetch", type=int, default=496, help="runs claimed beyond free executors")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (medians, min-max shown)")
    parser.add_argument("--bare-one-runs", type=int, default=5_000, help="runs for the claim-one-at-a-time loop")
    parser.add_argument("--pgq-batch", type=int, default=200, help="pgqueuer dequeue batch size")
    parser.add_argument("--pgq-procs", default="1,2")
    parser.add_argument("--procrastinate-runs", type=int, default=5_000, help="(slow: ~1,000/s)")
    parser.add_argument("--procrastinate-concurrency", type=int, default=10)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--months", type=int, default=0, help="month partitions of history made first")
    parser.add_argument("--pooler", action="store_true", help="also 1 worker through PgBouncer (transaction mode)")
    args = parser.parse_args()
    procs = [int(x) for x in args.procs.split(",")]
    pgq_procs = [int(x) for x in args.pgq_procs.split(",")]
    peers = {"pgqueuer": "skipped (--no-peers)", "procrastinate": "skipped (--no-peers)"}
    if not args.no_peers:
        peers = peers_available()
    for peer, reason in peers.items():
        if reason:
            print(f"{peer}: {reason}", flush=True)

    rates: dict[tuple, list[float]] = {}  # configuration -> runs/s of each round
    cpus: dict[tuple, list[float]] = {}  # configuration -> the processes' CPU us per run, each round
    runs_of: dict[tuple, int] = {}

    def keep(key: tuple, result: dict) -> None:
        rate = result["n"] / result["seconds"]
        cpu = [r.get("cpu") for r in result["results"]]
        us = sum(cpu) / result["n"] * 1e6 if None not in cpu else None
        print(f"  {key}: {result['n']} in {result['seconds']:.2f} s = {rate:,.0f}/s"
              + (f", {us:.0f} us CPU/run" if us is not None else ""), flush=True)  # fmt: skip
        rates.setdefault(key, []).append(rate)
        if us is not None:
            cpus.setdefault(key, []).append(us)
        runs_of[key] = result["n"]

    if args.pooler:
        from tests.support.pgbouncer import run_pgbouncer
    with server() as srv, fresh_database(srv) as dsn, (run_pgbouncer(srv) if args.pooler else nullcontext()) as pgb:
        conn = psycopg.connect(dsn, autocommit=True)
        seed_jobs(conn)
        history_months(conn, args.months)
        parts = conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'job_runs'::regclass").fetchone()[0]
        pooled_env = {**os.environ, "CRONKEEPER_DB_POOLER": "transaction"}
        peer_dbs = {}
        with (
            fresh_database(srv, migrated=False) as pgq_dsn,
            fresh_database(srv, migrated=False) as proc_dsn,
        ):
            peer_dbs = {"pgqueuer": as_url(pgq_dsn), "procrastinate": proc_dsn}
            for round_ in range(args.repeat):
                print(f"round {round_ + 1}/{args.repeat}", flush=True)
                for p in procs:
                    keep(("ours", p), drain_ours(conn, dsn, args.runs, p, args.concurrency, args.prefetch))
                if pgb:
                    keep(("pooled", 1), drain_ours(conn, pgb.dsn(dsn), args.runs, 1, args.concurrency, args.prefetch,
                                                   env=pooled_env))  # fmt: skip
                keep(("bare50", 1), drain_bare(conn, dsn, args.runs, 1, 50))
                keep(("bare50", 2), drain_bare(conn, dsn, args.runs, 2, 50))
                keep(("bare1", 1), drain_bare(conn, dsn, args.bare_one_runs, 1, 1))
                if not peers["pgqueuer"]:
                    for p in pgq_procs:
                        keep(("pgqueuer", p), drain_peer("peer_pgqueuer.py", peer_dbs["pgqueuer"], args.runs, p,
                                                         args.pgq_batch))  # fmt: skip
                if not peers["procrastinate"]:
                    keep(("procrastinate", 1), drain_peer("peer_procrastinate.py", peer_dbs["procrastinate"],
                                                          args.procrastinate_runs, 1,
                                                          args.procrastinate_concurrency))  # fmt: skip
        conn.close()

    def spread(values: list[float], fmt: str = ",.0f", unit: str = "") -> str:
        return (f"{statistics.median(values):{fmt}}{unit} ({min(values):{fmt}}-{max(values):{fmt}}{unit})"
                if len(values) > 1 else f"{values[0]:{fmt}}{unit}")  # fmt: skip

    def per_round(a: tuple, b: tuple) -> list[float]:
        """a / b within each round."""
        return [x / y for x, y in zip(rates.get(a, []), rates.get(b, []), strict=False)]

    median = {k: statistics.median(v) for k, v in rates.items()}
    labels = {
        "ours": f"cronkeeper worker (concurrency {args.concurrency}, prefetch {args.prefetch})",
        "pooled": "the same through PgBouncer 1.18 (transaction mode)",
        "bare50": "bare claim loop, LIMIT 50 (the limit)",
        "bare1": "bare claim loop, LIMIT 1",
        "pgqueuer": f"pgqueuer {peer_version('pgqueuer') if not peers['pgqueuer'] else ''} "
        f"(asyncpg, batch {args.pgq_batch}, drain mode)",
        "procrastinate": f"procrastinate {peer_version('procrastinate') if not peers['procrastinate'] else ''} "
        f"(psycopg, concurrency {args.procrastinate_concurrency}, wait=False)",
    }
    ours1 = ("ours", 1)
    rows = []
    for key in sorted(rates, key=lambda k: (list(labels).index(k[0]), k[1])):
        vs = per_round(ours1, key) if key != ours1 else []
        rows.append([labels[key[0]], key[1], f"{runs_of[key]:,}", spread(rates[key]),
                     spread(vs, ".2f", "x") if vs else "-", spread(cpus[key], ".0f") if key in cpus else "-"])  # fmt: skip
    for peer, reason in peers.items():
        if reason:
            rows.append([peer, "-", "-", "-", reason, "-"])
    notes = []
    if ("pgqueuer", 1) in rates and ours1 in rates:
        r = per_round(ours1, ("pgqueuer", 1))
        notes.append(f"1 process each: ours / pgqueuer = {spread(r, '.2f', 'x')} (target >= 1.5x: "
                     f"{'met' if statistics.median(r) >= 1.5 else 'MISSED'})")  # fmt: skip
    if ("bare50", 1) in rates and ours1 in rates:
        r = per_round(("bare50", 1), ours1)
        notes.append(f"1 process each: bare LIMIT 50 / ours = {spread(r, '.2f', 'x')} (target within 1.2x: "
                     f"{'met' if statistics.median(r) <= 1.2 else 'MISSED'})")  # fmt: skip
    best_ours = max((k for k in median if k[0] == "ours"), key=median.get)
    pgq_best = max((k for k in median if k[0] == "pgqueuer"), key=median.get, default=None)
    if pgq_best:
        notes.append(f"best medians: ours {median[best_ours]:,.0f}/s ({best_ours[1]} proc), pgqueuer "
                     f"{median[pgq_best]:,.0f}/s ({pgq_best[1]} proc): {median[best_ours] / median[pgq_best]:.2f}x")
    if ("pgqueuer", 1) in cpus and ours1 in cpus:
        r = [x / y for x, y in zip(cpus[("pgqueuer", 1)], cpus[ours1], strict=False)]
        notes.append(f"client CPU per run, pgqueuer / ours (1 process each): {spread(r, '.2f', 'x')}")
    if ("pooled", 1) in rates and ours1 in rates:
        notes.append(f"through PgBouncer / direct: {spread(per_round(('pooled', 1), ours1), '.2f', 'x')}")
    notes.append(f"job_runs in {parts} partitions")
    notes.append(f"median (min-max) of {args.repeat} interleaved rounds, every configuration and peer in each; "
                 "process start-up excluded; ours / this: ours with 1 process / that row, within each round; "
                 "client CPU: the draining processes' own CPU (all threads; not the server's) per run")
    record(
        f"Worker throughput, {args.runs:,} no-op runs",
        ["what", "processes", "runs", "runs/s median (min-max)", "ours (1 proc) / this", "client CPU us/run"],
        rows,
        notes="; ".join(notes),
    )


if __name__ == "__main__":
    main()
