"""Collection throughput: N brands x M queries against a fake OpenAI-compatible engine, 1/2/4 worker processes.

The engine is this script's own (asyncio, HTTP/1.1 keep-alive): it answers
every ``POST /chat/completions`` after ``--latency`` seconds and counts the
requests in flight at once, the most requests that arrived within any one
second, and the TCP connections it accepted. Workers are real ``cronkeeper
worker`` processes (default settings: concurrency 4, no prefetch), started
before the runs exist and woken by NOTIFY when the runs are inserted, so
start-up is not timed. One ``data_collection`` run per brand, each asking the
one collector ``fake`` its brand's M queries (``parallel`` left at its
default).

calls/s is measured at the engine, from the first request's arrival to the
last answer. The bound is what latency allows: ``min(max_concurrency, calls a
worker can have in flight) / latency`` (a worker has at most ``concurrency``
runs of M calls in flight). CPU per call is the workers' user + system CPU
(psutil, else /proc/<pid>/stat) over the calls. Each configuration runs
``--repeat`` interleaved rounds; the table shows the median with min-max.

    python bench/bench_collect.py [--brands 40] [--queries 10] [--latency 0.3] [--max-concurrency 50]
                                  [--rate R] [--procs 1,2,4] [--repeat 3] [--profile FILE]

``--profile FILE`` runs the workers under cProfile (``profiled_worker.py``: every thread, CPU time;
``CRONKEEPER_BENCH_PROFILE_MODE=threads`` for CPU per thread instead) and records nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import psycopg
from common import ROOT, fresh_database, record, server

try:
    import psutil
except ImportError:  # /proc/<pid>/stat instead
    psutil = None

from cronkeeper.repo.collectors import upsert_collector

CRONKEEPER = str(Path(sys.executable).with_name("cronkeeper"))


class FakeEngine:
    """An OpenAI-compatible /chat/completions on 127.0.0.1 answering after ``latency`` seconds."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.reset()
        started = threading.Event()
        threading.Thread(target=self._serve, args=(started,), daemon=True).start()
        started.wait(10)

    def reset(self) -> None:
        self.requests = self.in_flight = self.max_in_flight = self.connections = 0
        self.arrivals: deque[float] = deque()  # the last second's arrivals
        self.max_per_second = 0
        self.first = self.last = None

    def _serve(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        srv = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0, backlog=1024))
        self.port = srv.sockets[0].getsockname()[1]
        started.set()
        self.loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                now = time.monotonic()
                self.requests += 1
                self.first = self.first or now
                self.arrivals.append(now)
                while self.arrivals[0] <= now - 1.0:
                    self.arrivals.popleft()
                self.max_per_second = max(self.max_per_second, len(self.arrivals))
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    question = json.loads(body)["messages"][-1]["content"]
                    await asyncio.sleep(self.latency)
                finally:
                    self.in_flight -= 1
                payload = json.dumps({
                    "model": "fake", "choices": [{"index": 0, "message": {
                        "role": "assistant", "content": f"About {question}: Brand is good, Rival too."}}],
                }).encode()  # fmt: skip
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(payload)).encode() + b"\r\n\r\n" + payload)  # fmt: skip
                await writer.drain()
                self.last = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def cpu_seconds(pid: int) -> float:
    if psutil is not None:
        t = psutil.Process(pid).cpu_times()
        return t.user + t.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seed(conn: psycopg.Connection, brands: int, queries: int) -> None:
    conn.execute("INSERT INTO customers (name) VALUES ('bench')")
    conn.execute("INSERT INTO brands (customer_id, name, competitors) "
                 "SELECT c.id, 'Brand ' || g, ARRAY['Rival'] FROM customers c, generate_series(1, %s) g", (brands,))  # fmt: skip
    conn.execute("INSERT INTO brand_queries (brand_id, text) SELECT b.id, 'question ' || g "
                 "FROM brands b, generate_series(1, %s) g", (queries,))  # fmt: skip
    conn.execute(
        """INSERT INTO scheduled_jobs (customer_id, brand_id, job_type, schedule_kind, interval_seconds,
                                       is_active, overlap_policy, metadata)
           SELECT b.customer_id, b.id, 'data_collection', 'interval', 3600, false, 'allow',
                  '{"collectors": ["fake"]}'::jsonb FROM brands b"""
    )


def start_workers(dsn: str, procs: int, profile: str | None = None) -> list[subprocess.Popen]:
    """``procs`` workers at default settings; with ``profile``, under cProfile (``profiled_worker.py``),
    worker i's stats written to ``<profile>.<i>``."""
    env = {**os.environ, "DATABASE_URL": dsn, "CRONKEEPER_AUTO_MIGRATE": "off", "CRONKEEPER_LOG_LEVEL": "WARNING",
           "CRONKEEPER_DATA_DIR": "/tmp"}  # fmt: skip
    if profile is None:
        return [subprocess.Popen([CRONKEEPER, "worker"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL) for _ in range(procs)]  # fmt: skip
    script = str(Path(__file__).with_name("profiled_worker.py"))
    return [subprocess.Popen([sys.executable, script], env={**env, "CRONKEEPER_BENCH_PROFILE": f"{profile}.{i}"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(procs)]  # fmt: skip


def wait_ready(conn: psycopg.Connection, workers: list[subprocess.Popen], timeout: float = 300) -> None:
    """Until every worker has written its heartbeat (a loaded machine may take a while to start four)."""
    deadline = time.monotonic() + timeout
    sql = "SELECT count(*) FROM processes WHERE kind = 'worker' AND stopped_at IS NULL"
    while conn.execute(sql).fetchone()[0] < len(workers):
        exited = [w.returncode for w in workers if w.poll() is not None]
        if exited or time.monotonic() > deadline:
            raise RuntimeError(f"the workers did not start (exit codes {exited})")
        time.sleep(0.1)
    time.sleep(0.5)


def one_round(dsn: str, engine: FakeEngine, procs: int, calls: int, profile: str | None = None) -> dict:
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute("TRUNCATE job_runs CASCADE")
    conn.execute("DELETE FROM processes")
    workers = start_workers(dsn, procs, profile)
    try:
        wait_ready(conn, workers)
        cpu0 = sum(cpu_seconds(w.pid) for w in workers)
        engine.reset()
        conn.execute(
            """INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, scheduled_for, run_after)
               SELECT id, customer_id, brand_id, job_type, 'manual', now(), now() FROM scheduled_jobs;
               NOTIFY cronkeeper_runs"""
        )
        deadline = time.monotonic() + 600
        while conn.execute("SELECT count(*) FROM job_runs WHERE status IN ('pending', 'processing')").fetchone()[0]:
            if time.monotonic() > deadline:
                raise RuntimeError("runs did not finish in 600 s")
            time.sleep(0.05)
        cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu0
        bad = conn.execute("SELECT status, error_message FROM job_runs WHERE status <> 'completed' LIMIT 3").fetchall()
        if bad or engine.requests != calls:
            raise RuntimeError(f"{engine.requests} of {calls} calls; not completed: {bad}")
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(30)
        conn.close()
    seconds = engine.last - engine.first
    return {"calls_s": calls / seconds, "cpu_ms": cpu * 1000 / calls, "max_in_flight": engine.max_in_flight,
            "max_per_s": engine.max_per_second, "connections": engine.connections}  # fmt: skip


def spread(values: list[float], fmt: str) -> str:
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=40)
    parser.add_argument("--queries", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--max-concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=None, help="the collector's rate_per_second")
    parser.add_argument("--procs", default="1,2,4")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", default=None, help="run the workers under cProfile; stats to PROFILE.<i> "
                        "(the last round's; figures are then slower than without)")
    args = parser.parse_args()
    procs = [int(p) for p in args.procs.split(",")]
    calls = args.brands * args.queries
    engine = FakeEngine(args.latency)
    config = {"base_url": f"http://127.0.0.1:{engine.port}/v1", "model": "fake", "max_concurrency": args.max_concurrency}
    if args.rate:
        config["rate_per_second"] = args.rate
    results: dict[int, list[dict]] = {p: [] for p in procs}
    with server() as srv, fresh_database(srv) as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            seed(conn, args.brands, args.queries)
            upsert_collector(conn, "fake", "openai_chat", config)
        for round_ in range(args.repeat):
            for p in procs:
                r = one_round(dsn, engine, p, calls, args.profile)
                print(f"  round {round_ + 1}, {p} proc: {r}", flush=True)
                results[p].append(r)
    rows = []
    for p in procs:
        rs = results[p]
        in_flight = min(args.max_concurrency, p * 4 * args.queries)
        bound = in_flight / args.latency
        if args.rate:
            bound = min(bound, args.rate)
        rates = [r["calls_s"] for r in rs]
        rows.append([p, f"{calls:,}", spread(rates, ".0f"), f"{bound:.0f}",
                     f"{statistics.median(rates) / bound:.0%}", spread([r["cpu_ms"] for r in rs], ".2f"),
                     f"{max(r['max_in_flight'] for r in rs)} / {args.max_concurrency}",
                     f"{max(r['max_per_s'] for r in rs)} / {args.rate + 1:g}" if args.rate else f"{max(r['max_per_s'] for r in rs)}",
                     f"{max(r['connections'] for r in rs)}"])  # fmt: skip
    if args.profile:  # profiled figures are not the record's
        print(f"profiles in {args.profile}.<i>; not recorded: {rows}")
        return
    limits = f"max_concurrency {args.max_concurrency}" + (f", rate_per_second {args.rate:g}" if args.rate else "")
    record(
        f"Collection, {args.brands} brands x {args.queries} queries, {args.latency * 1000:.0f} ms latency, {limits}",
        ["worker processes", "calls", "calls/s median (min-max)", "bound", "of bound", "worker CPU ms/call",
         "max in flight / limit", "max requests in 1 s (/ rate + burst)", "connections"],
        rows,
        f"median of {args.repeat} interleaved rounds; workers at default settings (concurrency 4); "
        f"bound = min(max_concurrency, processes x 4 runs x {args.queries} calls) / latency"
        + (", capped by the rate" if args.rate else ""),
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
