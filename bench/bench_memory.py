"""Memory: resident set (VmRSS from /proc/PID/status) of real worker and scheduler processes.

- an idle ``cronkeeper scheduler`` and an idle ``cronkeeper worker`` (default
  settings; 1,000 active jobs not yet due);
- a worker through 100,000 runs: the ``Worker.serve`` loop of ``cronkeeper
  worker`` (LISTEN, poll, heartbeat, default concurrency 4, ``--noop-prefetch``
  196: at prefetch 0 each claim waits for a slot, ~150 runs/s on a loaded
  machine) with no-op handlers (bench/noop_worker.py --serve), RSS at every
  ``--step`` runs: no growth expected over the second half (target: none
  over 100,000 runs);
- a worker with ``--inflight`` (200) runs in flight: the same loop at
  ``--concurrency 200`` with async handlers that each wait ``--inflight-wait``
  seconds (tasks on the process's loop), through ``--inflight-runs`` runs;
  the most runs seen ``processing`` at once and the peak RSS (target: under
  150 MiB), and its growth over the second half;
- the ``cronkeeper worker`` itself through ``--handler-runs`` real ``scoring``
  runs (its registered handler: reads the brand's latest answer, scores it,
  stores the score; no network), RSS halfway and at the end. These are fewer
  because a real run costs far more than a no-op one (see Findings).

Each part has its own database on the same server; they run one after the
other. The reference in the same run is a bare Python process that has imported
psycopg and opened one connection.

    python bench/bench_memory.py [--runs 100000] [--step 10000] [--inflight 200] [--inflight-wait 1.0]
                                 [--inflight-runs 2000] [--handler-runs 2000] [--jobs 1000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import psycopg
from common import BENCH_DIR, fresh_database, record, rss_kib, server, spawn, stop, wait_registered

BRANDS = 10


def seed(conn: psycopg.Connection, jobs: int) -> None:
    conn.execute("INSERT INTO customers (name) VALUES ('bench')")
    conn.execute("INSERT INTO brands (customer_id, name, competitors) "
                 "SELECT id, 'Brand' || g, ARRAY['Rival' || g] FROM customers, generate_series(1, %s) g", (BRANDS,))  # fmt: skip
    conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, job_type, schedule_kind, cron_expression,
                                    next_run_at, overlap_policy, max_retries)
        SELECT b.customer_id, b.id, 'scoring', 'cron', '0 0 1 1 *', now() + interval '30 days', 'allow', 0
        FROM brands b, generate_series(1, %s / %s)
        """,
        (jobs, BRANDS),
    )
    # one earlier collection run and answer per brand, for the scoring runs to score
    conn.execute(
        """
        WITH r AS (
            INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                                  scheduled_for, run_after, started_at, finished_at)
            SELECT DISTINCT ON (brand_id) id, customer_id, brand_id, 'data_collection', 'manual', 'completed',
                   now(), now(), now(), now()
            FROM scheduled_jobs ORDER BY brand_id
            RETURNING id, brand_id
        )
        INSERT INTO collected_answers (run_id, brand_id, query, collector, answer)
        SELECT r.id, r.brand_id, 'best tools?', 'bench', b.name || ' is good, better than Rival, says everyone.'
        FROM r JOIN brands b ON b.id = r.brand_id
        """
    )
    conn.execute("VACUUM ANALYZE")


def add_runs(conn: psycopg.Connection, n: int) -> None:
    conn.execute(
        """
        WITH j AS (SELECT id, customer_id, brand_id, row_number() OVER (ORDER BY id) - 1 AS k,
                          count(*) OVER () AS total FROM scheduled_jobs)
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, scheduled_for, run_after)
        SELECT j.id, j.customer_id, j.brand_id, 'scoring', 'manual', now(), now()
        FROM generate_series(0, %s - 1) g JOIN j ON j.k = g %% j.total
        """,
        (n,),
    )


def settle(pid: int, seconds: float = 3.0) -> int:
    """RSS after ``seconds`` of idling (the last of a few samples)."""
    end = time.monotonic() + seconds
    value = rss_kib(pid)
    while time.monotonic() < end:
        time.sleep(0.5)
        value = rss_kib(pid)
    return value


def work_through(conn: psycopg.Connection, pid: int, n: int, timeout: float, step: int = 0) -> dict:
    """Give the worker ``n`` runs; sample its RSS (at every ``step`` runs finished) and the runs
    ``processing`` until they are all finished."""
    add_runs(conn, n)
    start, half, peak, most = time.monotonic(), None, 0, 0
    steps: list[tuple[int, int]] = []  # (runs finished, RSS KiB)
    while True:
        left, busy = conn.execute("SELECT count(*), count(*) FILTER (WHERE status = 'processing') FROM job_runs "
                                  "WHERE status IN ('pending', 'processing')").fetchone()  # fmt: skip
        rss = rss_kib(pid)
        peak, most = max(peak, rss), max(most, busy)
        if step and n - left >= (len(steps) + 1) * step and left:
            steps.append((n - left, rss))
        if left == 0:
            break
        if half is None and left <= n // 2:
            half = rss
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"{left} of {n} runs still open after {timeout} s")
        time.sleep(0.1 if step else 0.25)
    elapsed = time.monotonic() - start
    end = settle(pid, 2.0)
    if step:
        steps.append((n, end))
    counts = dict(conn.execute("SELECT status, count(*) FROM job_runs WHERE job_type = 'scoring' GROUP BY 1"))
    print(f"  {n} runs in {elapsed:.1f} s ({n / elapsed:,.0f}/s), at most {most} processing: {counts}", flush=True)
    return {"half": half or end, "end": end, "peak": max(peak, end), "seconds": elapsed, "counts": counts,
            "steps": steps, "most": most}  # fmt: skip


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000, help="no-op runs through the serve loop")
    parser.add_argument("--step", type=int, default=10_000, help="RSS recorded every this many no-op runs")
    parser.add_argument("--noop-prefetch", type=int, default=196, help="prefetch of the no-op worker")
    parser.add_argument("--inflight", type=int, default=200, help="concurrency of the waiting async worker")
    parser.add_argument("--inflight-wait", type=float, default=1.0, help="seconds each of its handlers waits")
    parser.add_argument("--inflight-runs", type=int, default=2_000)
    parser.add_argument("--handler-runs", type=int, default=2_000, help="scoring runs through `cronkeeper worker`")
    parser.add_argument("--jobs", type=int, default=1_000)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    procs: list[subprocess.Popen] = []
    with (server() as srv, fresh_database(srv) as dsn, fresh_database(srv) as noop_dsn,
          fresh_database(srv) as wait_dsn):  # fmt: skip
        conn = psycopg.connect(dsn, autocommit=True)
        noop_conn = psycopg.connect(noop_dsn, autocommit=True)
        wait_conn = psycopg.connect(wait_dsn, autocommit=True)
        for c in (conn, noop_conn, wait_conn):
            seed(c, args.jobs)
        bare = subprocess.Popen(
            [sys.executable, "-c", "import sys, psycopg; c = psycopg.connect(sys.argv[1]); c.execute('SELECT 1');"
             "print('ready', flush=True); sys.stdin.readline()", dsn],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            scheduler = spawn(["scheduler"], dsn, log_name="scheduler")
            worker = spawn(["worker"], dsn, log_name="worker")
            noop = spawn([sys.executable, str(BENCH_DIR / "noop_worker.py"), noop_dsn, "4", str(args.noop_prefetch), "--serve"], noop_dsn,
                         log_name="noop-worker", raw=True)  # fmt: skip
            waiter = spawn([sys.executable, str(BENCH_DIR / "noop_worker.py"), wait_dsn, str(args.inflight), "0",
                            "--serve", "--async-wait", str(args.inflight_wait)], wait_dsn,
                           log_name="waiting-worker", raw=True)  # fmt: skip
            procs = [worker, noop, waiter, scheduler]
            assert bare.stdout.readline().strip() == "ready"
            wait_registered(conn, scheduler)
            wait_registered(conn, worker)
            wait_registered(noop_conn, noop)
            wait_registered(wait_conn, waiter)
            base = settle(bare.pid, 0)
            idle = {p.pid: settle(p.pid) for p in procs}
            print(f"idle: scheduler {mib(idle[scheduler.pid])} MiB, worker {mib(idle[worker.pid])} MiB, "
                  f"no-op serve worker {mib(idle[noop.pid])} MiB, waiting worker {mib(idle[waiter.pid])} MiB",
                  flush=True)  # fmt: skip
            noop_run = work_through(noop_conn, noop.pid, args.runs, args.timeout, args.step)
            wait_run = work_through(wait_conn, waiter.pid, args.inflight_runs, args.timeout)
            real_run = work_through(conn, worker.pid, args.handler_runs, args.timeout)
            after_scheduler = rss_kib(scheduler.pid)
        finally:
            for p in procs:
                stop(p)
            bare.stdin.close()
            bare.wait()
        for c in (conn, noop_conn, wait_conn):
            c.close()

    def ratio(kib: int) -> str:
        return f"{kib / base:.2f}x"

    rows = [["bare python + psycopg, 1 connection (reference)", mib(base), "1.00x"]]
    rows.append(["`cronkeeper scheduler`, idle", mib(idle[scheduler.pid]), ratio(idle[scheduler.pid])])
    rows.append(["`cronkeeper scheduler`, at the end", mib(after_scheduler), ratio(after_scheduler)])
    notes = []
    waiting = (f"worker serve loop, concurrency {args.inflight}, async handlers waiting {args.inflight_wait:g} s "
               f"(at most {wait_run['most']} processing)")  # fmt: skip
    for label, pid, n, r in [
        (f"worker serve loop, no-op handlers (prefetch {args.noop_prefetch})", noop.pid, args.runs, noop_run),
        (waiting, waiter.pid, args.inflight_runs, wait_run),
        ("`cronkeeper worker`, scoring runs", worker.pid, args.handler_runs, real_run),
    ]:
        rows.append([f"{label}: idle", mib(idle[pid]), ratio(idle[pid])])
        rows.append([f"{label}: halfway ({n // 2:,} runs)", mib(r["half"]), ratio(r["half"])])
        rows.append([f"{label}: after {n:,} runs", mib(r["end"]), ratio(r["end"])])
        rows.append([f"{label}: peak", mib(r["peak"]), ratio(r["peak"])])
        growth = r["end"] - r["half"]
        verdict = "no growth" if growth <= max(1024, 0.02 * r["half"]) else "GROWTH"
        if r["steps"]:
            notes.append(f"{label}: RSS MiB at every {args.step:,} runs: "
                         + ", ".join(mib(kib) for _, kib in r["steps"]))  # fmt: skip
        notes.append(f"{label}: second-half growth {growth / 1024:+.1f} MiB ({growth / r['half']:+.1%}), {verdict}; "
                     f"{n:,} runs in {r['seconds']:.0f} s ({n / r['seconds']:,.0f}/s, {r['counts']})")  # fmt: skip
    record(
        "Memory (VmRSS) of live processes",
        ["process", "RSS MiB", "vs reference"],
        rows,
        notes="; ".join(notes),
    )


if __name__ == "__main__":
    main()
