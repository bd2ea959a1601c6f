"""Faults against the real processes under supervisor, on a real PostgreSQL of their own.

kill -9 a worker mid-run, kill -9 the scheduler between ticks and inside one,
stop and restart PostgreSQL under all of them, SIGTERM a worker mid-run. After
each: no scheduled slot lost, none doubled, no run completed twice.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time
import urllib.request

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from cronkeeper.db import connect
from cronkeeper.migrate import migrate
from cronkeeper.repo import brand_queries
from cronkeeper.repo.collectors import upsert_collector
from tests.support.factories import make_brand, make_job, make_run
from tests.support.fakes_http import FakeServer, Reply
from tests.support.stack import Database, Stack, wait_for

pytestmark = pytest.mark.timeout(240)


class SlowEngine(FakeServer):
    """An http_json engine whose next answers take ``delays`` seconds (then answer at once)."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.seen = 0
        super().__init__(self._answer)

    def _answer(self, request) -> Reply:
        self.seen += 1
        delay = self.delays.pop(0) if self.delays else 0.0
        return Reply(200, {"result": {"text": f"Acme is fine ({self.seen})"}}, delay=delay)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    db = Database(tmp_path_factory.mktemp("faults-pg"))
    yield db
    db.stop()


@pytest.fixture
def engine():
    with SlowEngine() as e:
        yield e


@pytest.fixture
def world(database, tmp_path, engine):
    """A migrated database of this test's own, a brand with one query, the stack over it."""
    name = f"faults_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(database.server_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = make_conninfo(database.server_dsn, dbname=name)
    migrate(dsn)
    conn = connect(dsn, autocommit=True)
    brand = make_brand(conn, name="Acme")
    brand_queries.insert_query(conn, brand.id, "is acme good")
    upsert_collector(conn, "slow", "http_json", {
        "url_template": engine.url + "/s?q={query}", "text_path": "result.text", "max_retries": 0,
        "timeout_seconds": 30,
    })  # fmt: skip
    stack = Stack(tmp_path / "var", dsn, database.data_dir)
    yield stack, conn, brand
    try:
        stack.shutdown()
    finally:
        conn.close()


def collect_job(conn, brand, **kw):
    values = {"job_type": "data_collection", "metadata": {"collectors": ["slow"]}, "max_retries": 3,
              "retry_delay": 1, "timeout_seconds": 60}  # fmt: skip
    values.update(kw)
    return make_job(conn, brand, **values)


def rows(conn, job_id):
    return conn.execute("SELECT * FROM job_runs WHERE scheduled_job_id = %s ORDER BY id", (job_id,)).fetchall()


def worker_program(stack: Stack, pid: int) -> str:
    for name in ("worker:worker-0", "worker:worker-1"):
        if stack.pid(name) == pid:
            return name
    raise AssertionError(f"no worker program has pid {pid}")


def pid_of(worker_id: str) -> int:
    return int(worker_id.split("-")[-2])


def processing(conn, run_id):
    row = conn.execute("SELECT status, worker_id FROM job_runs WHERE id = %s", (run_id,)).fetchone()
    return row if row["status"] == "processing" else None


def assert_slots_whole(conn, interval: float, job_ids) -> int:
    """Every scheduled slot from each job's first to its next_run_at has exactly one row."""
    step = dt.timedelta(seconds=interval)
    total = 0
    for job_id in job_ids:
        slots = [r["scheduled_for"] for r in conn.execute(
            "SELECT scheduled_for FROM job_runs WHERE scheduled_job_id = %s AND trigger = 'schedule' "
            "ORDER BY scheduled_for", (job_id,))]  # fmt: skip
        next_run = conn.execute("SELECT next_run_at FROM scheduled_jobs WHERE id = %s", (job_id,)).fetchone()
        assert slots, f"job {job_id} has no runs"
        gaps = [(a, b) for a, b in zip(slots, slots[1:] + [next_run["next_run_at"]], strict=True) if b - a != step]
        assert not gaps, f"job {job_id}: slots not one step apart: {gaps[:3]}"
        total += len(slots)
    return total


def test_kill_9_worker_mid_run_is_taken_back_and_completes_once(world, engine):
    stack, conn, brand = world
    engine.delays = [30.0]  # the first call hangs: the run is mid-flight when its worker dies
    stack.start()
    job = collect_job(conn, brand, is_active=False)
    run = make_run(conn, job, trigger="manual")
    held = wait_for("the run to be processing", lambda: processing(conn, run.id), timeout=30)
    wait_for("its request to reach the engine", lambda: engine.seen >= 1, timeout=30)
    victim = pid_of(held["worker_id"])
    program = worker_program(stack, victim)
    os.kill(victim, signal.SIGKILL)

    wait_for("supervisor to restart the worker", lambda: stack.pid(program) not in (0, victim), timeout=20)
    wait_for("a completed attempt", lambda: any(r["status"] == "completed" for r in rows(conn, job.id)), timeout=40)
    time.sleep(2)  # nothing more may happen after that
    got = rows(conn, job.id)
    assert [r["status"] for r in got] == ["failed", "completed"]
    first, retry = got
    assert "lease expired" in first["error_message"] and first["worker_id"] == held["worker_id"]
    assert retry["retry_of"] == first["id"] and retry["trigger"] == "retry" and retry["attempt"] == 2
    assert retry["worker_id"] != held["worker_id"]
    expired = [e for w in ("worker-0", "worker-1") for e in stack.events(w) if e["event"] == "lease_expired"]
    assert [(e["run_id"], e["job_id"]) for e in expired] == [(first["id"], str(job.id))]
    assert re.search(rf"exited: {program.split(':')[1]} \(terminated by SIGKILL", stack.supervisor_log())


def test_kill_9_scheduler_between_and_inside_ticks_loses_and_doubles_no_slot(world, engine):
    stack, conn, brand = world
    interval = 2
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=2)
    jobs = [
        collect_job(conn, brand, interval_seconds=interval, next_run_at=start, overlap_policy="allow")
        for _ in range(200)
    ]
    stack.env["CRONKEEPER_SCHEDULER_BATCH_SIZE"] = "50"  # a tick is several transactions
    stack.start()
    assert stack.ctl("stop", "worker:*").returncode == 0  # runs stay pending; only slots matter here
    wait_for("the first slots", lambda: len(rows(conn, jobs[0].id)) >= 2, timeout=30)

    # between ticks: the scheduler sleeps until the next slot
    victim = stack.pid("scheduler")
    os.kill(victim, signal.SIGKILL)
    wait_for("a new scheduler", lambda: stack.pid("scheduler") not in (0, victim), timeout=20)
    wait_for("the new scheduler to tick", lambda: len(rows(conn, jobs[0].id)) >= 4, timeout=30)

    # inside a tick: hold inserts into job_runs so the tick stops half-way, kill it there
    with connect(stack.env["DATABASE_URL"]) as blocker:
        blocker.execute("LOCK TABLE job_runs IN SHARE MODE")
        wait_for("a tick blocked on its insert", lambda: conn.execute(
            "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%%INSERT INTO job_runs%%'"
        ).fetchone(), timeout=30)  # fmt: skip  (the tick's insert reads its staged runs: WITH staged AS ...)
        victim = stack.pid("scheduler")
        os.kill(victim, signal.SIGKILL)
        time.sleep(0.5)
        blocker.rollback()
    wait_for("a new scheduler", lambda: stack.pid("scheduler") not in (0, victim), timeout=20)
    seen = len(rows(conn, jobs[0].id))
    wait_for("ticks after the restart", lambda: len(rows(conn, jobs[0].id)) >= seen + 3, timeout=30)
    assert stack.ctl("stop", "scheduler").returncode == 0

    assert stack.supervisor_log().count("spawned: 'scheduler'") == 3, "restarted only after our two kills"
    slots = assert_slots_whole(conn, interval, [j.id for j in jobs])
    assert slots >= 200 * 6
    doubled = conn.execute(
        "SELECT count(*) AS n FROM (SELECT 1 FROM job_runs WHERE trigger = 'schedule' "
        "GROUP BY scheduled_job_id, scheduled_for HAVING count(*) > 1) d"
    ).fetchone()
    assert doubled["n"] == 0


def test_postgres_restart_under_everything_recovers_in_seconds(world, engine, database):
    stack, conn, brand = world
    interval = 2
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=2)
    jobs = [collect_job(conn, brand, interval_seconds=interval, next_run_at=start) for _ in range(5)]
    stack.start()
    token = _token(conn)
    wait_for("runs completing", lambda: conn.execute(
        "SELECT count(*) AS n FROM job_runs WHERE status = 'completed'").fetchone()["n"] >= 10, timeout=40)  # fmt: skip
    pids = {name: stack.pid(name) for name in ("api", "scheduler", "worker:worker-0", "worker:worker-1")}
    conn.close()

    database.stop()
    time.sleep(5)  # slots fall due while the database is away
    database.start()
    back = time.monotonic()
    conn = connect(stack.env["DATABASE_URL"], autocommit=True)
    restarted = dt.datetime.now(dt.UTC)

    def recovered():
        fresh = conn.execute(
            "SELECT count(*) AS n FROM job_runs WHERE status = 'completed' AND created_at > %s", (restarted,)
        ).fetchone()["n"]
        return fresh >= len(jobs) and _get(stack.url + "/api/admin/scheduled-jobs?limit=1", token) == 200

    wait_for("the stack to recover", recovered, timeout=30, every=0.2)
    recovery = time.monotonic() - back
    assert recovery < 15, f"took {recovery:.1f} s after the database came back"
    assert {name: stack.pid(name) for name in pids} == pids, "a process restarted: no crash loop expected"
    assert stack.ctl("stop", "scheduler").returncode == 0
    wait_for("the queue to drain", lambda: not conn.execute(
        "SELECT 1 FROM job_runs WHERE status IN ('pending', 'processing')").fetchone(), timeout=30)  # fmt: skip
    assert_slots_whole(conn, interval, [j.id for j in jobs])
    misfired = conn.execute(
        "SELECT count(*) AS n FROM job_runs WHERE status = 'skipped' AND skip_reason LIKE 'misfire%%'"
    ).fetchone()["n"]
    assert misfired >= len(jobs), "slots due during the outage are coalesced by the run_once misfire policy"
    completed_twice = conn.execute(
        "SELECT count(*) AS n FROM (SELECT 1 FROM job_runs WHERE status = 'completed' AND trigger = 'schedule' "
        "GROUP BY scheduled_job_id, scheduled_for HAVING count(*) > 1) d"
    ).fetchone()["n"]
    assert completed_twice == 0
    # The scheduler's tick always meets the outage. A worker may not: when its pool is
    # waiting for a connection through the outage, it gets one afterwards and has nothing
    # to report (seen once in a full run); that it recovered without a restart is checked above.
    assert any(e["event"] == "reconnecting" for e in stack.events("scheduler")), "scheduler logged no reconnect"
    conn.close()


def test_sigterm_worker_mid_run_finishes_or_releases_within_grace_and_exits_0(world, engine):
    stack, conn, brand = world
    stack.start()
    job = collect_job(conn, brand, is_active=False)

    # a run shorter than the grace period (4 s) is finished by the stopping worker
    engine.delays = [2.0]
    short = make_run(conn, job, trigger="manual")
    held = wait_for("the short run to be processing", lambda: processing(conn, short.id), timeout=30)
    victim = pid_of(held["worker_id"])
    program = worker_program(stack, victim)
    os.kill(victim, signal.SIGTERM)
    wait_for("the worker to exit", lambda: stack.pid(program) != victim, timeout=20)
    row = conn.execute("SELECT status, worker_id FROM job_runs WHERE id = %s", (short.id,)).fetchone()
    assert row == {"status": "completed", "worker_id": held["worker_id"]}

    # a run longer than the grace period is released back to the queue and done by another worker
    wait_for("both workers running", lambda: all(s == "RUNNING" for s in stack.status().values()), timeout=20)
    engine.delays = [30.0]
    seen_before = engine.seen
    long = make_run(conn, job, trigger="manual")
    held = wait_for("the long run to be processing", lambda: processing(conn, long.id), timeout=30)
    wait_for("its request to reach the engine", lambda: engine.seen >= seen_before + 1, timeout=30)
    victim2 = pid_of(held["worker_id"])
    program2 = worker_program(stack, victim2)
    stopped_at = time.monotonic()
    os.kill(victim2, signal.SIGTERM)
    wait_for("the worker to exit", lambda: stack.pid(program2) != victim2, timeout=20)
    assert time.monotonic() - stopped_at < 4 + 3, "exited within the grace period (4 s) and a little"
    wait_for("the released run to complete", lambda: conn.execute(
        "SELECT status = 'completed' AS ok FROM job_runs WHERE id = %s", (long.id,)).fetchone()["ok"], timeout=30)  # fmt: skip
    assert [r["id"] for r in rows(conn, job.id)] == [short.id, long.id]  # released, not failed and retried
    log = stack.supervisor_log()
    for name in (program, program2):
        assert re.search(rf"exited: {name.split(':')[1]} \(exit status 0", log), log[-2000:]
    released = [e for w in ("worker-0", "worker-1") for e in stack.events(w) if e["event"] == "run_released"]
    assert [e["run_id"] for e in released] == [long.id]


def _token(conn) -> str:
    from cronkeeper.tokens import create_token

    return create_token(conn, name="faults", role="admin").secret


def _get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status
    except Exception:
        return 0

