"""Soak: the whole stack under supervisor for a while, then check every slot ran exactly once.

    python bench/soak.py [--minutes 10] [--jobs 300] [--schedulers 1] [--workers 2]
                         [--kill-every 0] [--pause-every 0] [--pause-seconds 20] [--dsn URL]

Starts ``ops/supervisord.conf`` (API, ``--schedulers`` schedulers, ``--workers``
workers) on a fresh database (``--dsn``'s, migrated, or a new one on
``BENCH_DATABASE_URL``'s server or an embedded server), creates ``--jobs``
data-collection jobs on second-level intervals (1-5 s) plus a few per-minute
cron jobs, collecting from a local fake engine. With ``--kill-every N`` it
``kill -9``s a random program every N seconds (supervisor restarts it); with
``--pause-every N`` it freezes a random program with ``SIGSTOP`` every N
seconds and resumes it (``SIGCONT``) ``--pause-seconds`` later, its sockets
open and silent. At the end it resumes anything paused, stops the schedulers,
lets the workers drain, and checks, following each slot's retry chain to its
end (``retry_of``, any depth): each job's scheduled slots are one step apart
from its first to its next_run_at (none lost), no slot has two rows (none
doubled), no slot's chain completed twice, no run was retried twice, every run
is final (none stuck). Not part of ``make test`` or ``make bench``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from common import BIN, ROOT, fresh_database, record, server  # noqa: F401  (common puts the project on sys.path)

from cronkeeper.db import connect
from cronkeeper.migrate import migrate
from cronkeeper.repo import brand_queries
from cronkeeper.repo.collectors import upsert_collector
from tests.support.factories import make_brand, make_job
from tests.support.fakes_http import FakeServer, Reply
from tests.support.stack import CONF, Stack, wait_for


class SoakStack(Stack):
    """``Stack`` on a copy of ops/supervisord.conf with N schedulers and M workers."""

    def __init__(self, var: Path, dsn: str, data_dir: Path, schedulers: int, workers: int, **env: str) -> None:
        super().__init__(var, dsn, data_dir, **env)
        self.conf = var / "supervisord.conf"
        self.conf.write_text(soak_conf(CONF.read_text(), schedulers, workers))
        self.programs = ["api", *(f"scheduler:scheduler-{i}" for i in range(schedulers)),
                         *(f"worker:worker-{i}" for i in range(workers))]  # fmt: skip

    def start(self) -> SoakStack:
        subprocess.run([str(BIN / "supervisord"), "-c", str(self.conf)], env=self.env, check=True)
        wait_for("every program RUNNING", lambda: self.ctl("status").returncode == 0, timeout=120)
        return self

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "supervisorctl"), "-c", str(self.conf), *args],
                              env=self.env, capture_output=True, text=True, timeout=90)  # fmt: skip


def soak_conf(text: str, schedulers: int, workers: int) -> str:
    """The users' supervisor file with the scheduler as a group of ``schedulers`` and ``workers`` workers."""
    sched = "[program:scheduler]\ncommand=cronkeeper scheduler\n"
    assert sched in text and "numprocs=2\n" in text, "ops/supervisord.conf changed shape"
    text = text.replace(sched, sched + f"process_name=%(program_name)s-%(process_num)d\nnumprocs={schedulers}\n")
    text = text.replace("log/scheduler.log", "log/%(program_name)s-%(process_num)d.log")
    return text.replace("numprocs=2\n", f"numprocs={workers}\n")


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


CHAINS = """
WITH RECURSIVE chain AS (
    SELECT id AS root, id, status FROM job_runs WHERE trigger = 'schedule'
    UNION ALL
    SELECT c.root, n.id, n.status FROM job_runs n JOIN chain c ON n.retry_of = c.id
)
SELECT
    (SELECT count(*) FROM (SELECT 1 FROM chain WHERE status = 'completed' GROUP BY root HAVING count(*) > 1) t)
        AS completed_twice,
    (SELECT count(*) FROM (SELECT 1 FROM job_runs WHERE retry_of IS NOT NULL GROUP BY retry_of HAVING count(*) > 1) t)
        AS retried_twice,
    (SELECT max(depth) FROM (SELECT count(*) AS depth FROM chain GROUP BY root) t) AS longest_chain,
    (SELECT count(*) FROM (SELECT root FROM chain GROUP BY root
        HAVING bool_or(status = 'completed') IS NOT TRUE AND bool_or(status = 'failed')) t) AS chains_failed
"""


def check(conn, jobs: list[tuple[str, float]]) -> dict[str, int]:
    """Lost slots (gaps), doubled slots, retry chains (any depth) completed twice or forked, stuck runs."""
    gaps = slots = 0
    for job_id, every in jobs:
        got = [r["scheduled_for"] for r in conn.execute(
            "SELECT scheduled_for FROM job_runs WHERE scheduled_job_id = %s AND trigger = 'schedule' "
            "ORDER BY scheduled_for", (job_id,))]  # fmt: skip
        nxt = conn.execute("SELECT next_run_at FROM scheduled_jobs WHERE id = %s", (job_id,)).fetchone()["next_run_at"]
        step = dt.timedelta(seconds=every)
        if not got:
            continue
        gaps += sum(1 for a, b in zip(got, [*got[1:], nxt], strict=True) if b - a != step)
        slots += len(got)
    one = conn.execute(
        """SELECT
             (SELECT count(*) FROM (SELECT 1 FROM job_runs WHERE trigger = 'schedule'
                GROUP BY scheduled_job_id, scheduled_for HAVING count(*) > 1) d) AS doubled,
             (SELECT count(*) FROM job_runs WHERE status IN ('pending', 'processing')) AS stuck,
             (SELECT count(*) FROM job_runs WHERE status = 'completed') AS completed,
             (SELECT count(*) FROM job_runs WHERE status = 'skipped') AS skipped,
             (SELECT count(*) FROM job_runs WHERE status = 'failed') AS failed,
             (SELECT count(*) FROM job_runs WHERE trigger = 'retry') AS retries"""
    ).fetchone()
    return {"slots": slots, "gaps": gaps, **one, **conn.execute(CHAINS).fetchone()}


class Faults:
    """kill -9 and SIGSTOP/SIGCONT pauses of random programs on a timetable."""

    def __init__(self, stack: SoakStack, kill_every: float, pause_every: float, pause_seconds: float) -> None:
        self.stack, self.rng = stack, random.Random(1)
        self.kill_every, self.pause_every, self.pause_seconds = kill_every, pause_every, pause_seconds
        now = time.monotonic()
        self.next_kill = now + kill_every if kill_every else float("inf")
        self.next_pause = now + pause_every if pause_every else float("inf")
        self.paused: dict[int, float] = {}  # pid -> when to resume
        self.kills = self.pauses = 0

    def step(self) -> None:
        now = time.monotonic()
        for pid, until in list(self.paused.items()):
            if now >= until:
                self._signal(pid, signal.SIGCONT)
                del self.paused[pid]
        if now >= self.next_kill:
            pid = self.stack.pid(self.rng.choice(self.stack.programs))
            if pid and pid not in self.paused and self._signal(pid, signal.SIGKILL):
                self.kills += 1
            self.next_kill += self.kill_every
        if now >= self.next_pause:
            pid = self.stack.pid(self.rng.choice(self.stack.programs))
            if pid and pid not in self.paused and self._signal(pid, signal.SIGSTOP):
                self.paused[pid] = time.monotonic() + self.pause_seconds  # after the (slow) pid lookup
                self.pauses += 1
            self.next_pause += self.pause_every

    def resume_all(self) -> None:
        for pid in self.paused:
            self._signal(pid, signal.SIGCONT)
        self.paused.clear()

    @staticmethod
    def _signal(pid: int, sig: signal.Signals) -> bool:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return False
        print(f"soak: {time.strftime('%H:%M:%S')} {sig.name} {pid}", flush=True)
        return True


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--schedulers", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kill-every", type=float, default=0, help="kill -9 a random program every N seconds")
    ap.add_argument("--pause-every", type=float, default=0, help="SIGSTOP a random program every N seconds")
    ap.add_argument("--pause-seconds", type=float, default=20, help="how long a paused program stays stopped")
    ap.add_argument("--drain-timeout", type=float, default=600, help="seconds to wait for the queue to empty")
    ap.add_argument("--dsn", help="an empty database to use (migrated here) instead of a fresh one")
    return ap.parse_args()


@contextmanager
def database(dsn: str | None):
    if dsn:
        migrate(dsn)
        yield dsn
        return
    with server() as server_dsn, fresh_database(server_dsn) as fresh:
        yield fresh


def soak(args: argparse.Namespace, dsn: str, engine_url: str) -> tuple[dict[str, int], Faults]:
    conn = connect(dsn, autocommit=True)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=5)
    jobs = create_jobs(conn, engine_url, args.jobs, start)
    var = Path(tempfile.mkdtemp(prefix="cronkeeper-soak-"))
    data_dir = Path(os.environ.get("CRONKEEPER_DATA_DIR", var / "data"))
    stack = SoakStack(var, dsn, data_dir, args.schedulers, args.workers, CRONKEEPER_LOG_LEVEL="WARNING",
                      CRONKEEPER_SCHEDULER_POLL_SECONDS="5", CRONKEEPER_WORKER_POLL_SECONDS="5",
                      CRONKEEPER_LEASE_SECONDS="10")  # fmt: skip
    stack.start()
    print(f"soak: {len(jobs)} jobs for {args.minutes} min, {args.schedulers} schedulers, {args.workers} workers; "
          f"logs in {var / 'log'}", flush=True)  # fmt: skip
    faults = Faults(stack, args.kill_every, args.pause_every, args.pause_seconds)
    t_end = time.monotonic() + args.minutes * 60
    try:
        while time.monotonic() < t_end:
            time.sleep(0.5)
            faults.step()
        faults.resume_all()
        stack.ctl("stop", "scheduler:*")
        print(f"soak: {time.strftime('%H:%M:%S')} schedulers stopped, draining", flush=True)
        try:
            wait_for("the queue to drain", lambda: not conn.execute(
                "SELECT 1 FROM job_runs WHERE status IN ('pending', 'processing')").fetchone(),
                timeout=args.drain_timeout, every=1)  # fmt: skip
        except AssertionError as e:
            print(f"soak: {e}", flush=True)
        return check(conn, jobs), faults
    finally:
        faults.resume_all()
        stack.shutdown()
        conn.close()


def main() -> int:
    args = parse_args()
    with database(args.dsn) as dsn, FakeServer(lambda r: Reply(200, {"result": {"text": "Soak is fine."}})) as engine:
        result, faults = soak(args, dsn, engine.url)
    bad = ("gaps", "doubled", "completed_twice", "retried_twice", "stuck")
    ok = not any(result[k] for k in bad)
    record(
        "Soak: every slot exactly once",
        ["minutes", "jobs", "schedulers", "workers", "kills", "pauses", "slots", "lost (gaps)", "doubled",
         "completed twice", "retried twice", "stuck", "completed", "skipped", "failed", "retries", "longest chain",
         "chains failed", "verdict"],
        [[args.minutes, args.jobs + 5, args.schedulers, args.workers, faults.kills, faults.pauses, result["slots"],
          result["gaps"], result["doubled"], result["completed_twice"], result["retried_twice"], result["stuck"],
          result["completed"], result["skipped"], result["failed"], result["retries"], result["longest_chain"],
          result["chains_failed"], "ok" if ok else "FAILED"]],
        notes=f"pauses: SIGSTOP for {args.pause_seconds:.0f} s" if args.pause_every else "",
    )  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
