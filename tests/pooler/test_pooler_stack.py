"""The real processes through PgBouncer 1.18 in transaction mode (pooler mode on).

A scheduler, two workers and the API start at once on an empty database and
migrate it through the pooler; then second-level jobs run for half a minute
while the API is read in a loop and jobs are triggered over HTTP. Then: no
error or warning in any log, every slot exactly once and completed, each
trigger started within a second (workers LISTEN on ``CRONKEEPER_LISTEN_URL``,
a direct connection), no advisory lock left held, no process exited.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from cronkeeper.db import connect
from cronkeeper.migrate import LOCK_KEY as MIGRATION_LOCK
from cronkeeper.migrate import pending
from cronkeeper.repo import brand_queries
from cronkeeper.tokens import create_token
from tests.support.factories import make_brand, make_job
from tests.support.stack import free_port, wait_for

pytestmark = pytest.mark.timeout(180)

BIN = Path(sys.executable).parent
RUN_SECONDS = 30
JOBS = 10
INTERVAL = 1
SAMPLE = {"collectors": ["sample"]}
ALLOWED_WARNINGS = {"migration_waiting"}  # four processes migrating one empty database at once


class Process:
    def __init__(self, name: str, args: list[str], env: dict[str, str], folder: Path) -> None:
        self.name, self.log_path = name, folder / f"{name}.log"
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen([str(BIN / "cronkeeper"), *args], env=env, stdout=out,
                                         stderr=subprocess.STDOUT)  # fmt: skip

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)

    def lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()

    def events(self) -> list[dict]:
        out = []
        for line in self.lines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out


def problems(process: Process) -> list[str]:
    """Log lines that are errors, tracebacks or unexpected warnings."""
    bad = []
    for line in process.lines():
        try:
            event = json.loads(line)
        except ValueError:
            if line.strip():  # anything not JSON (a traceback, uvicorn's own output) is suspect
                bad.append(line)
            continue
        level = event.get("level")
        if level in ("error", "critical") or (level == "warning" and event.get("event") not in ALLOWED_WARNINGS):
            bad.append(line)
    return [f"{process.name}: {b}" for b in bad]


def advisory_locks(conn, dbname: str) -> list[dict]:
    return conn.execute(
        "SELECT l.classid::int8 AS classid, l.objid::int8 AS objid, l.pid, l.granted FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND d.datname = %s", (dbname,)
    ).fetchall()  # fmt: skip


def test_scheduler_workers_and_api_through_pgbouncer(bouncer, fresh_db, tmp_path):
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": bouncer.dsn(fresh_db),
        "CRONKEEPER_DB_POOLER": "transaction",
        "CRONKEEPER_LISTEN_URL": fresh_db,
        "CRONKEEPER_DATA_DIR": str(tmp_path / "data"),
        "CRONKEEPER_SCHEDULER_POLL_SECONDS": "1",
        "CRONKEEPER_WORKER_POLL_SECONDS": "5",
        "CRONKEEPER_LEASE_SECONDS": "20",
        "CRONKEEPER_SHUTDOWN_GRACE_SECONDS": "5",
        "CRONKEEPER_SAMPLE_DELAY_MS": "0",
        "CRONKEEPER_LOG_FORMAT": "json",
        "CRONKEEPER_LOG_LEVEL": "INFO",
        "CRONKEEPER_API_WORKERS": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("TEST_DATABASE_URL", None)
    procs = [
        Process("api", ["api", "--port", str(port), "--workers", "1"], env, tmp_path),
        Process("scheduler", ["scheduler"], env, tmp_path),
        Process("worker-0", ["worker"], env, tmp_path),
        Process("worker-1", ["worker"], env, tmp_path),
    ]
    conn = None
    try:
        wait_for("the schema, migrated through the pooler", lambda: _current(fresh_db), timeout=60)
        conn = connect(fresh_db, autocommit=True)
        token = create_token(conn, name="pooler", role="admin").secret
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                           timeout=10)  # fmt: skip
        wait_for("the API", lambda: _answers(api), timeout=60)
        brand = make_brand(conn)
        brand_queries.insert_query(conn, brand.id, "is it any good")
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=2)
        jobs = [make_job(conn, brand, interval_seconds=INTERVAL, next_run_at=start, overlap_policy="allow",
                         metadata=SAMPLE) for _ in range(JOBS)]  # fmt: skip
        manual = make_job(conn, brand, is_active=False, metadata=SAMPLE)

        statuses, latencies = [], []
        deadline = time.monotonic() + RUN_SECONDS
        next_trigger = time.monotonic() + 8
        while time.monotonic() < deadline:
            for path in ("/api/admin/job-runs?limit=20", "/api/admin/scheduled-jobs?limit=20",
                         f"/api/admin/scheduled-jobs/{jobs[0].id}", f"/api/admin/scheduled-jobs/{jobs[1].id}/runs",
                         "/api/admin/system"):  # fmt: skip
                statuses.append(api.get(path).status_code)
            if time.monotonic() >= next_trigger and len(latencies) < 3:
                latencies.append(_trigger(api, conn, manual.id))
                next_trigger = time.monotonic() + 6
            assert all(p.proc.poll() is None for p in procs), [p.name for p in procs if p.proc.poll() is not None]
            time.sleep(0.05)

        # the migration lock is transaction-scoped: not held, whatever the pooler kept open (other
        # passes, e.g. the alert evaluator's, hold their own transaction locks for a moment)
        held = {(lock["classid"] << 32) | lock["objid"] for lock in advisory_locks(conn, dbname)}
        assert MIGRATION_LOCK not in held

        procs[1].stop()  # the scheduler: no more slots; the workers drain what is left
        wait_for("the queue drained", lambda: conn.execute(
            "SELECT count(*) AS n FROM job_runs WHERE status IN ('pending', 'processing')"
        ).fetchone()["n"] == 0, timeout=30)  # fmt: skip
        codes = {p.name: p.stop() for p in procs}
    finally:
        for p in procs:
            p.stop()
        if conn is not None:
            conn.close()
    conn = connect(fresh_db, autocommit=True)
    try:
        codes["api"] = 0 if codes["api"] == -signal.SIGTERM else codes["api"]  # uvicorn re-raises SIGTERM once stopped
        assert codes == {"api": 0, "scheduler": 0, "worker-0": 0, "worker-1": 0}
        found = [line for p in procs for line in problems(p)]
        assert found == [], "\n".join(found[:20])
        assert len(statuses) > 200 and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
        assert len(latencies) == 3 and max(latencies) < 1.0, latencies
        slots = _slots_exactly_once(conn, [j.id for j in jobs])
        assert slots >= JOBS * (RUN_SECONDS - 8) // INTERVAL
        by_status = conn.execute("SELECT status, count(*) AS n FROM job_runs GROUP BY status").fetchall()
        assert {r["status"] for r in by_status} == {"completed"}, by_status
        assert advisory_locks(conn, dbname) == []
        starts = sum(1 for p in procs for e in p.events() if e.get("event") in ("scheduler_started", "worker_started"))
        assert starts == 3  # none restarted
        print(f"pooler stack: {slots} slots, {len(statuses)} API reads, trigger latencies {latencies}")
    finally:
        conn.close()


def _current(dsn: str) -> bool:
    try:
        return pending(dsn) == []
    except psycopg.Error:
        return False


def _answers(api: httpx.Client) -> bool:
    try:
        return api.get("/api/admin/job-runs?limit=1").status_code == 200
    except httpx.HTTPError:
        return False


def _trigger(api: httpx.Client, conn, job_id) -> float:
    """Trigger over HTTP; seconds from the run's insert to its start (the database's clock)."""
    made = api.post(f"/api/admin/scheduled-jobs/{job_id}/trigger")
    assert made.status_code == 202, made.text
    run_id = made.json()["id"]
    row = wait_for("the triggered run to start", lambda: conn.execute(
        "SELECT started_at - created_at AS waited FROM job_runs WHERE id = %s AND started_at IS NOT NULL", (run_id,)
    ).fetchone(), timeout=10)  # fmt: skip
    return row["waited"].total_seconds()


def _slots_exactly_once(conn, job_ids) -> int:
    """Each job's scheduled slots, first to ``next_run_at``, are one interval apart: none lost, none doubled."""
    step, total = dt.timedelta(seconds=INTERVAL), 0
    for job_id in job_ids:
        slots = [r["scheduled_for"] for r in conn.execute(
            "SELECT scheduled_for FROM job_runs WHERE scheduled_job_id = %s AND trigger = 'schedule' "
            "ORDER BY scheduled_for", (job_id,))]  # fmt: skip
        next_run = conn.execute("SELECT next_run_at FROM scheduled_jobs WHERE id = %s", (job_id,)).fetchone()
        assert slots, f"job {job_id} has no runs"
        gaps = [(a, b) for a, b in zip(slots, [*slots[1:], next_run["next_run_at"]], strict=True) if b - a != step]
        assert not gaps, f"job {job_id}: slots not one step apart: {gaps[:3]}"
        total += len(slots)
    return total
