"""Soak: the whole stack under supervisor for a while, then check every slot ran exactly once.

    python bench/soak.py [--minutes 10] [--jobs 300] [--kill-every 0]

Starts ``ops/supervisord.conf`` (API, scheduler, two workers) on a fresh
database (``BENCH_DATABASE_URL`` or an embedded server), creates ``--jobs``
data-collection jobs on second-level intervals (1-5 s) plus a few per-minute
cron jobs, collecting from a local fake engine. With ``--kill-every N`` it
``kill -9``s a random program every N seconds (supervisor restarts it). At
the end it stops the scheduler, lets the workers drain, and checks: each
job's scheduled slots are one step apart from its first to its next_run_at
(none lost), no slot has two rows (none doubled), no slot completed twice,
every run is final. Not part of ``make test`` or ``make bench``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import tempfile
import time
from pathlib import Path

from common import ROOT, fresh_database, record, server  # noqa: F401  (common puts the project on sys.path)

from cronkeeper.db import connect
from cronkeeper.repo import brand_queries
from cronkeeper.repo.collectors import upsert_collector
from tests.support.factories import make_brand, make_job
from tests.support.fakes_http import FakeServer, Reply
from tests.support.stack import Stack, wait_for

PROGRAMS = ("api", "scheduler", "worker:worker-0", "worker:worker-1")


def create_jobs(conn, engine_url: str, count: int, start: dt.datetime) -> list[tuple[str, float]]:
    brand = make_brand(conn, name="Soak")
    brand_queries.insert_query(conn, brand.id, "is soak good")
    upsert_collector(conn, "soak", "http_json", {
        "url_template": engine_url + "/s?q={query}", "text_path": "result.text", "max_retries": 0,
    })  # fmt: skip
    common = {"job_type": "data_collection", "metadata": {"collectors": ["soak"]}, "overlap_policy": "allow",
              "retry_delay": 1, "max_retries": 2}  # fmt: skip
    jobs = []
    for i in range(count):
        every = 1 + i % 5
        job = make_job(conn, brand, interval_seconds=every, next_run_at=start, **common)
        jobs.append((job.id, float(every)))
    for _ in range(5):
        minute = start.replace(second=0) + dt.timedelta(minutes=1)
        job = make_job(conn, brand, cron_expression="* * * * *", next_run_at=minute, **common)
        jobs.append((job.id, 60.0))
    return jobs


def check(conn, jobs: list[tuple[str, float]]) -> dict[str, int]:
    gaps = slots = 0
    for job_id, every in jobs:
        got = [r["scheduled_for"] for r in conn.execute(
            "SELECT scheduled_for FROM job_runs WHERE scheduled_job_id = %s AND trigger = 'schedule' "
            "ORDER BY scheduled_for", (job_id,))]  # fmt: skip
        nxt = conn.execute("SELECT next_run_at FROM scheduled_jobs WHERE id = %s", (job_id,)).fetchone()["next_run_at"]
        step = dt.timedelta(seconds=every)
        gaps += sum(1 for a, b in zip(got, [*got[1:], nxt], strict=True) if b - a != step)
        slots += len(got)
    one = conn.execute(
        """SELECT
             (SELECT count(*) FROM (SELECT 1 FROM job_runs WHERE trigger = 'schedule'
                GROUP BY scheduled_job_id, scheduled_for HAVING count(*) > 1) d) AS doubled,
             (SELECT count(*) FROM (SELECT 1 FROM job_runs j
                LEFT JOIN job_runs o ON o.id = j.retry_of
                WHERE j.status = 'completed'
                GROUP BY coalesce(o.scheduled_job_id, j.scheduled_job_id), coalesce(o.scheduled_for, j.scheduled_for),
                         coalesce(o.trigger, j.trigger)
                HAVING count(*) > 1 AND min(coalesce(o.trigger, j.trigger)) = 'schedule') d) AS completed_twice,
             (SELECT count(*) FROM job_runs WHERE status IN ('pending', 'processing')) AS unfinished,
             (SELECT count(*) FROM job_runs WHERE status = 'completed') AS completed,
             (SELECT count(*) FROM job_runs WHERE status = 'skipped') AS skipped,
             (SELECT count(*) FROM job_runs WHERE status = 'failed') AS failed"""
    ).fetchone()
    return {"slots": slots, "gaps": gaps, **one}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--kill-every", type=float, default=0, help="kill -9 a random program every N seconds")
    args = ap.parse_args()
    rng = random.Random(1)
    kills = 0
    with server() as server_dsn, fresh_database(server_dsn) as dsn, FakeServer(
        lambda r: Reply(200, {"result": {"text": "Soak is fine."}})
    ) as engine:
        conn = connect(dsn, autocommit=True)
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=5)
        jobs = create_jobs(conn, engine.url, args.jobs, start)
        var = Path(tempfile.mkdtemp(prefix="cronkeeper-soak-"))
        data_dir = Path(os.environ.get("CRONKEEPER_DATA_DIR", var / "data"))
        stack = Stack(var, dsn, data_dir, CRONKEEPER_LOG_LEVEL="WARNING", CRONKEEPER_SCHEDULER_POLL_SECONDS="5",
                      CRONKEEPER_WORKER_POLL_SECONDS="5", CRONKEEPER_LEASE_SECONDS="10")  # fmt: skip
        stack.start()
        print(f"soak: {len(jobs)} jobs for {args.minutes} min; logs in {var / 'log'}", flush=True)
        t_end = time.monotonic() + args.minutes * 60
        next_kill = time.monotonic() + args.kill_every if args.kill_every else float("inf")
        try:
            while time.monotonic() < t_end:
                time.sleep(1)
                if time.monotonic() >= next_kill:
                    program = rng.choice(PROGRAMS)
                    pid = stack.pid(program)
                    if pid:
                        os.kill(pid, signal.SIGKILL)
                        kills += 1
                    next_kill += args.kill_every
            stack.ctl("stop", "scheduler")
            wait_for("the queue to drain", lambda: not conn.execute(
                "SELECT 1 FROM job_runs WHERE status IN ('pending', 'processing')").fetchone(), timeout=300)  # fmt: skip
            result = check(conn, jobs)
        finally:
            stack.shutdown()
            conn.close()
    ok = result["gaps"] == 0 and result["doubled"] == 0 and result["completed_twice"] == 0
    record(
        "Soak: every slot exactly once",
        ["minutes", "jobs", "kills", "slots", "lost (gaps)", "doubled", "completed twice", "completed", "skipped",
         "failed", "verdict"],
        [[args.minutes, len(jobs), kills, result["slots"], result["gaps"], result["doubled"], result["completed_twice"],
          result["completed"], result["skipped"], result["failed"], "ok" if ok else "FAILED"]],
    )  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
