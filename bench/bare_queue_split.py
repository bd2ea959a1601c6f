"""Spike (issue 23): what a queue split of job_runs would buy the worker, in bare loops.

    python bench/bare_queue_split.py [--runs 20000] [--limit 50] [--repeat 3] [--pgq-batch 200] [--only a,b]

Not the product: bare psycopg claim-and-finish loops (one process, LIMIT n, no
fairness, no handler) on scratch databases, each with ``runs`` due pending
manual runs, interleaved in each round with pgqueuer (one process, as
bench_worker.py runs it). Every loop keeps each run in ``job_runs`` with its final
status; the split ones move the queue into ``spike.run_queue`` (run id, slot,
customer, job, run_after, worker, lease), claimed with FOR UPDATE SKIP LOCKED and
deleted at the finish, in the statement that writes ``job_runs``:
- today: bench/bare_claim.py on ``job_runs`` (pending -> processing -> completed);
- split-fin: ``job_runs`` written once, at the finish (stays 'pending' while processing);
- split-cf: ``job_runs`` written at claim and finish (as today, plus the queue);
- ``@slim``: job_runs without its four queue indexes (active, customer_queue, pending, lease);
- ``@hot``: job_runs without any index on a column a status change writes (also
  completed/finished/status of 0025/0028), fillfactor 50 (``@hot90``: 90): both writes can be HOT;
- split-fin-log (split-cf-log): split-fin (split-cf) that also inserts the outcome (run, status, finished_at) into a
  narrow ``spike.run_outcomes`` with the status indexes @hot took off job_runs (0028's pages);
- ``+pipe``: the finish of a batch and the next claim sent in one round trip;
- ``+2conn``: a thread finishes each batch on a second connection while the main
  one claims the next (the product worker's shape: claim and write-back apart).
Runs/s = runs / (last finish - release); server CPU: every postgres process's
CPU (/proc, so a local server) over the drain, per run; HOT: the share of the
drain's job_runs updates that were HOT.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_worker import (  # noqa: E402
    PEERS_PY,
    PY,
    as_url,
    check_drained,
    load_runs,
    peers_available,
    seed_jobs,
)
from childsync import backend_cpu, done, ready  # noqa: E402
from common import fresh_database, record, run_children, server  # noqa: E402

QUEUE_DDL = """
CREATE SCHEMA spike;
CREATE TABLE spike.run_queue (
    run_id bigint PRIMARY KEY, scheduled_for timestamptz NOT NULL, customer_id uuid NOT NULL,
    scheduled_job_id uuid NOT NULL, run_after timestamptz NOT NULL,
    worker_id text, lease_expires_at timestamptz
);
-- due order, the fair claim's loose scan per customer, overlap forbid, the reaper
CREATE INDEX run_queue_due_idx ON spike.run_queue (run_after, run_id) WHERE worker_id IS NULL;
CREATE INDEX run_queue_customer_idx ON spike.run_queue (customer_id, run_after, run_id) WHERE worker_id IS NULL;
CREATE INDEX run_queue_job_idx ON spike.run_queue (scheduled_job_id);
CREATE INDEX run_queue_lease_idx ON spike.run_queue (lease_expires_at) WHERE worker_id IS NOT NULL;
-- the terminal statuses' own indexes, off job_runs (split-fin-log)
CREATE TABLE spike.run_outcomes (
    run_id bigint PRIMARY KEY, scheduled_for timestamptz NOT NULL, status text NOT NULL,
    finished_at timestamptz NOT NULL
);
CREATE INDEX run_outcomes_status_idx ON spike.run_outcomes (status, run_id DESC);
CREATE INDEX run_outcomes_finished_idx ON spike.run_outcomes (finished_at, run_id);
"""
QUEUE_INDEXES = [
    "job_runs_active_idx",
    "job_runs_customer_queue_idx",
    "job_runs_pending_idx",
    "job_runs_lease_idx",
]
STATUS_INDEXES = ["job_runs_completed_idx", "job_runs_finished_idx", "job_runs_status_idx"]
SHAPES = {"full": [], "slim": QUEUE_INDEXES, "hot": QUEUE_INDEXES + STATUS_INDEXES,
          "hot90": QUEUE_INDEXES + STATUS_INDEXES}  # fmt: skip
FILLFACTOR = {"hot": 50, "hot90": 90, "nostatus": 50}

# -- the loops' SQL ------------------------------------------------------------
CLAIM_TODAY = """
UPDATE job_runs SET status = 'processing', worker_id = 'bare', started_at = now(),
    heartbeat_at = now(), lease_expires_at = now() + interval '60 seconds', updated_at = now()
WHERE id = ANY(ARRAY(
    SELECT id FROM job_runs WHERE status = 'pending' AND run_after <= now()
    ORDER BY run_after, id LIMIT %(n)s FOR UPDATE SKIP LOCKED))
RETURNING id, scheduled_for
"""
FINISH_TODAY = """
UPDATE job_runs SET status = 'completed', finished_at = now(), updated_at = now(), lease_expires_at = NULL
WHERE id = ANY(%(ids)s) AND scheduled_for = ANY(%(slots)s) AND status = 'processing' AND worker_id = 'bare'
"""
CLAIM_QUEUE = """
UPDATE spike.run_queue SET worker_id = 'bare', lease_expires_at = now() + interval '60 seconds'
WHERE run_id = ANY(ARRAY(
    SELECT run_id FROM spike.run_queue WHERE worker_id IS NULL AND run_after <= now()
    ORDER BY run_after, run_id LIMIT %(n)s FOR UPDATE SKIP LOCKED))
RETURNING run_id, scheduled_for
"""
# the claim that also writes 'processing' into job_runs (by id and slot: pruned to the month)
CLAIM_QUEUE_RUNS = f"""
WITH c AS ({CLAIM_QUEUE.strip()})
UPDATE job_runs SET status = 'processing', worker_id = 'bare', started_at = now(),
    heartbeat_at = now(), lease_expires_at = now() + interval '60 seconds', updated_at = now()
WHERE id = ANY(ARRAY(SELECT run_id FROM c)) AND scheduled_for = ANY(ARRAY(SELECT scheduled_for FROM c))
RETURNING id, scheduled_for
"""
# the finish: out of the queue and into job_runs' history in one statement
FINISH_QUEUE = """
WITH gone AS (DELETE FROM spike.run_queue WHERE run_id = ANY(%(ids)s) AND worker_id = 'bare')
UPDATE job_runs SET status = 'completed', worker_id = 'bare', started_at = coalesce(started_at, %(claimed_at)s),
    finished_at = now(), updated_at = now(), lease_expires_at = NULL, heartbeat_at = NULL
WHERE id = ANY(%(ids)s) AND scheduled_for = ANY(%(slots)s) AND status = %(was)s
"""
FINISH_QUEUE_LOG = FINISH_QUEUE.replace(
    "\nUPDATE job_runs",
    """, logged AS (INSERT INTO spike.run_outcomes (run_id, scheduled_for, status, finished_at)
    SELECT id, slot, 'completed', now() FROM unnest(%(ids)s::bigint[], %(slot_of)s::timestamptz[]) AS u(id, slot))
UPDATE job_runs""",
)
LOOPS = {  # name -> (claim, finish, status while processing)
    "today": (CLAIM_TODAY, FINISH_TODAY, None),
    "split-fin": (CLAIM_QUEUE, FINISH_QUEUE, "pending"),
    "split-cf": (CLAIM_QUEUE_RUNS, FINISH_QUEUE, "processing"),
    "split-fin-log": (CLAIM_QUEUE, FINISH_QUEUE_LOG, "pending"),
    "split-cf-log": (CLAIM_QUEUE_RUNS, FINISH_QUEUE_LOG, "processing"),
}
CONFIGS = [  # (label, loop, table shape, mode: serial | pipe | 2conn)
    ("today: bare_claim.py", "bare_claim", "full", "serial"),
    ("today +pipe", "today", "full", "pipe"),
    ("today +2conn", "today", "full", "2conn"),
    ("today +pipe, pending_idx its only status index", "today", "nostatus", "pipe"),
    ("split-fin", "split-fin", "full", "serial"),
    ("split-fin +pipe", "split-fin", "full", "pipe"),
    ("split-fin +2conn", "split-fin", "full", "2conn"),
    ("split-cf", "split-cf", "full", "serial"),
    ("split-cf +2conn", "split-cf", "full", "2conn"),
    ("split-cf @slim +pipe", "split-cf", "slim", "pipe"),
    ("split-fin @hot", "split-fin", "hot", "serial"),
    ("split-fin @hot +pipe", "split-fin", "hot", "pipe"),
    ("split-fin @hot +2conn", "split-fin", "hot", "2conn"),
    ("split-cf @hot +pipe", "split-cf", "hot", "pipe"),
    ("split-cf @hot +2conn", "split-cf", "hot", "2conn"),
    ("split-fin @hot90 +pipe", "split-fin", "hot90", "pipe"),
    ("split-cf @hot90 +pipe", "split-cf", "hot90", "pipe"),
    ("split-fin-log @hot +pipe", "split-fin-log", "hot", "pipe"),
    ("split-fin-log @hot +2conn", "split-fin-log", "hot", "2conn"),
    ("split-cf-log @hot +2conn", "split-cf-log", "hot", "2conn"),
]


def child(dsn: str, loop: str, limit: int, mode: str) -> None:
    """One worker: claim ``limit`` at a time, finish each batch, until nothing is due.

    serial: finish, then claim; pipe: the two in one round trip; 2conn: a thread
    finishes on a connection of its own while the main one claims (the worker's shape)."""
    claim, finish, was = LOOPS[loop]
    conns = [psycopg.connect(dsn, autocommit=True, prepare_threshold=0) for _ in range(1 + (mode == "2conn"))]
    conn, fconn = conns[0], conns[-1]
    n = 0
    backlog: queue.Queue = queue.Queue(maxsize=4)

    def params(rows, claimed_at):
        return {"ids": [r[0] for r in rows], "slot_of": [r[1] for r in rows], "slots": sorted({r[1] for r in rows}), "claimed_at": _ts(claimed_at),
                "was": was}  # fmt: skip

    def write_back():
        while (item := backlog.get()) is not None:
            fconn.execute(finish, params(*item))

    writer = threading.Thread(target=write_back)
    start = ready()
    cpu0 = [backend_cpu(c.info.backend_pid) for c in conns]
    if mode == "2conn":
        writer.start()
    rows = conn.execute(claim, {"n": limit}).fetchall()
    claimed_at = time.time()
    while rows:
        n += len(rows)
        if mode == "pipe":  # finish this batch and claim the next: two statements, one round trip
            with conn.pipeline():
                conn.execute(finish, params(rows, claimed_at))
                cur = conn.execute(claim, {"n": limit})
            rows = cur.fetchall()
        elif mode == "2conn":
            backlog.put((rows, claimed_at))
            rows = conn.execute(claim, {"n": limit}).fetchall()
        else:
            conn.execute(finish, params(rows, claimed_at))
            rows = conn.execute(claim, {"n": limit}).fetchall()
        claimed_at = time.time()
    if mode == "2conn":
        backlog.put(None)
        writer.join()
    cpu1 = [backend_cpu(c.info.backend_pid) for c in conns]
    server = None if None in cpu0 + cpu1 else sum(cpu1) - sum(cpu0)
    done(start, n, server_cpu=server)
    for c in conns:
        c.close()


def _ts(t: float):
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.UTC)


# -- the parent ----------------------------------------------------------------
def shape_database(conn: psycopg.Connection, shape: str) -> None:
    """The job_runs of a scratch database as ``shape`` says, plus the spike queue."""
    conn.execute(QUEUE_DDL)
    drop = SHAPES.get(shape, [])
    if shape == "nostatus":  # today's loop with only the pending index (its claim needs one)
        drop = [i for i in QUEUE_INDEXES + STATUS_INDEXES if i != "job_runs_pending_idx"]
    for index in drop:
        conn.execute(f"DROP INDEX {index}")
    if shape in FILLFACTOR:
        for (part,) in conn.execute("SELECT inhrelid::regclass::text FROM pg_inherits "
                                    "WHERE inhparent = 'job_runs'::regclass").fetchall():  # fmt: skip
            conn.execute(f"ALTER TABLE {part} SET (fillfactor = {FILLFACTOR[shape]})")
    seed_jobs(conn)


def load(conn: psycopg.Connection, runs: int) -> None:
    load_runs(conn, runs)  # job_runs: runs due pending manual runs, analyzed
    conn.execute("TRUNCATE spike.run_queue, spike.run_outcomes")
    conn.execute("INSERT INTO spike.run_queue (run_id, scheduled_for, customer_id, scheduled_job_id, run_after) "
                 "SELECT id, scheduled_for, customer_id, scheduled_job_id, run_after FROM job_runs")  # fmt: skip
    conn.execute("VACUUM ANALYZE spike.run_queue")
    conn.execute("SELECT pg_stat_clear_snapshot()")


def upd_counts(conn: psycopg.Connection) -> tuple[int, int]:
    conn.execute(
        "SELECT pg_stat_force_next_flush()"
    ) if conn.info.server_version >= 150000 else None
    row = conn.execute("SELECT coalesce(sum(n_tup_upd), 0), coalesce(sum(n_tup_hot_upd), 0) FROM pg_stat_user_tables "
                       "WHERE relname LIKE 'job\\_runs\\_%%'").fetchone()  # fmt: skip
    return int(row[0]), int(row[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pgq-batch", type=int, default=200)
    parser.add_argument("--only", default="", help="config labels separated by ';' (default: all)")
    args = parser.parse_args()
    configs = [c for c in CONFIGS if not args.only or c[0] in args.only.split(";")]
    pgq = not peers_available()["pgqueuer"]
    rates: dict[str, list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}  # (label, "server_cpu" | "cpu") -> us per run
    hot: dict[str, list[float]] = {}
    with server() as srv:
        dbs, conns, stack = {}, {}, []
        try:
            for shape in sorted({c[2] for c in configs}):
                cm = fresh_database(srv, prefix=f"hw_split_{shape}_")
                dbs[shape] = cm.__enter__()
                stack.append(cm)
                conns[shape] = psycopg.connect(dbs[shape], autocommit=True)
                shape_database(conns[shape], shape)
            pgq_cm = fresh_database(srv, migrated=False, prefix="hw_split_pgq_")
            pgq_dsn = as_url(pgq_cm.__enter__())
            stack.append(pgq_cm)

            def keep(label: str, result: dict, upd: tuple[int, int] | None) -> None:
                n, r = result["n"], result["results"][0]
                rate = n / result["seconds"]
                rates.setdefault(label, []).append(rate)
                us = {k: r[k] / n * 1e6 for k in ("server_cpu", "cpu") if r.get(k) is not None}
                for k, v in us.items():
                    cpu.setdefault((label, k), []).append(v)
                if upd and upd[0]:
                    hot.setdefault(label, []).append(upd[1] / upd[0])
                print(f"  {label}: {n} in {result['seconds']:.2f} s = {rate:,.0f}/s, CPU us/run "
                      f"{ {k: round(v) for k, v in us.items()} }" + (f", HOT {upd[1]}/{upd[0]}" if upd else ""),
                      flush=True)  # fmt: skip

            for round_ in range(args.repeat):
                print(
                    f"round {round_ + 1}/{args.repeat} (load {os.getloadavg()[0]:.1f})", flush=True
                )
                for label, loop, shape, mode in configs:
                    conn, dsn = conns[shape], dbs[shape]
                    load(conn, args.runs)
                    before = upd_counts(conn)
                    cmd = ([PY, "bare_claim.py", dsn, str(args.limit)] if loop == "bare_claim" else
                           [PY, "bare_queue_split.py", "child", dsn, loop, str(args.limit), mode])  # fmt: skip
                    result = run_children([cmd])
                    time.sleep(0.3)  # the child's backend reports its counts as it exits
                    after = upd_counts(conn)
                    check_drained(conn, args.runs, label)
                    left = conn.execute("SELECT count(*) FROM spike.run_queue").fetchone()[0]
                    if left and loop != "bare_claim" and loop != "today":
                        raise RuntimeError(f"{label}: {left} runs left in the queue")
                    if loop.endswith("-log"):
                        logged = conn.execute("SELECT count(*) FROM spike.run_outcomes").fetchone()[0]
                        if logged != args.runs:
                            raise RuntimeError(f"{label}: {logged} outcomes of {args.runs}")
                    keep(label, result, (after[0] - before[0], after[1] - before[1]))
                if pgq:  # as bench_worker.drain_peer, the enqueue outside the CPU count
                    subprocess.run([str(PEERS_PY), "peer_pgqueuer.py", "setup", pgq_dsn, str(args.runs)],
                                   check=True, cwd=HERE, timeout=600)  # fmt: skip
                    result = run_children(
                        [[str(PEERS_PY), "peer_pgqueuer.py", "drain", pgq_dsn, str(args.pgq_batch)]]
                    )
                    if result["n"] != args.runs:
                        raise RuntimeError(f"pgqueuer drained {result['n']} of {args.runs}")
                    keep("pgqueuer", result, None)
        finally:
            for conn in conns.values():
                conn.close()
            for cm in reversed(stack):
                cm.__exit__(None, None, None)

    def spread(values: list[float], fmt: str = ",.0f", unit: str = "") -> str:
        return (f"{statistics.median(values):{fmt}}{unit} ({min(values):{fmt}}-{max(values):{fmt}}{unit})"
                if len(values) > 1 else f"{values[0]:{fmt}}{unit}")  # fmt: skip

    def ratio(a: str, b: str) -> list[float]:
        return [x / y for x, y in zip(rates.get(a, []), rates.get(b, []), strict=False)]

    rows = []
    for label in [c[0] for c in configs] + (["pgqueuer"] if pgq else []):
        vs_pgq = ratio(label, "pgqueuer") if pgq and label != "pgqueuer" else []
        vs_today = ratio(label, configs[0][0]) if label != configs[0][0] else []
        rows.append([label, spread(rates[label]), spread(vs_pgq, ".2f", "x") if vs_pgq else "-",
                     spread(vs_today, ".2f", "x") if vs_today else "-",
                     *(spread(cpu[(label, k)]) if (label, k) in cpu else "-" for k in ("server_cpu", "cpu")),
                     spread(hot[label], ".0%") if label in hot else "-"])  # fmt: skip
    record(
        f"Worker no-op, queue split spike: {args.runs:,} runs, LIMIT {args.limit}, 1 process each",
        [
            "loop",
            "runs/s median (min-max)",
            "/ pgqueuer",
            "/ today",
            "server CPU us/run",
            "client CPU us/run",
            "job_runs updates HOT",
        ],
        rows,
        notes=(
            f"median (min-max) of {args.repeat} interleaved rounds; ratios within each round; pgqueuer batch "
            f"{args.pgq_batch} ({PEERS_PY.parent.parent.name}); server CPU: the worker's backend (/proc), client: the worker process"
        ),
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        main()
