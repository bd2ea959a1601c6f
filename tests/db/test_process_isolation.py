"""``--isolation process``: a handler that kills its process fails only its own run (issue 22, item 4).

Handlers are registered as in tests/db/test_hostile_handlers.py; the worker
forks a child per run (services/worker/isolation.py).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cronkeeper.errors import ConfigurationError
from cronkeeper.handlers import Registry
from cronkeeper.repo import brand_queries
from cronkeeper.services.worker.isolation import DIED
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job, make_run, runs_of
from tests.support.stack import serve_worker as serve

BIN = Path(sys.executable).parent

def settings(**kw) -> Settings:
    kw.setdefault("worker_poll_seconds", 0.2)
    return Settings(database_url=None, data_dir=".", worker_isolation="process", **kw)


def crashy(ctx):
    what = ctx.job_metadata["do"]
    if what == "ok":
        return {"fine": True, "pid": os.getpid()}
    if what == "slow_ok":  # an innocent run beside the crashes
        time.sleep(1.0)
        ctx.progress(step=1)  # its own connection, in the child
        ctx.checkpoint(force=True)
        return {"fine": True, "pid": os.getpid()}
    if what == "stopped":  # the group's SIGTERM (supervisor, systemd) is the worker's to handle
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)
        return {"fine": True, "pid": os.getpid()}
    if what == "abort":
        os.abort()
    if what == "segfault":
        ctypes.string_at(0)
    if what == "exit":
        os._exit(3)
    if what == "hang":
        with open(ctx.job_metadata["pid_file"], "w") as f:
            f.write(str(os.getpid()))
        time.sleep(60)  # ignores its 1 s timeout and every checkpoint
        return {"late": True}
    raise AssertionError(what)


@pytest.fixture
def registry():
    reg = Registry()
    reg.register("data_collection", crashy)
    return reg


def wait_finished(conn, ids, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = conn.execute("SELECT * FROM job_runs WHERE id = ANY(%s) ORDER BY id", (ids,)).fetchall()
        if all(r["status"] not in ("pending", "processing") for r in rows):
            return {r["id"]: r for r in rows}
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the runs to finish")


@pytest.mark.slow  # forks a child per run: ~1.5 s
def test_a_crashing_handler_fails_only_its_run_and_the_runs_beside_it_complete(dsn, conn, registry):
    kinds = ["slow_ok", "abort", "slow_ok", "segfault", "exit", "ok", "slow_ok", "stopped"]
    jobs = {k: make_job(conn, max_retries=0 if k != "abort" else 1, metadata={"do": k}) for k in set(kinds)}
    runs = [(make_run(conn, jobs[k]).id, k) for k in kinds]
    worker = Worker(dsn, settings(), registry=registry, concurrency=3)
    stop, t = serve(worker)
    try:
        rows = wait_finished(conn, [i for i, _ in runs])
    finally:
        stop.set()
        t.join(30)
        worker.close()
    died = {k: rows[i] for i, k in runs if k in ("abort", "segfault", "exit")}
    assert (died["abort"]["status"], died["abort"]["error_message"]) == ("failed", f"{DIED} (signal SIGABRT)")
    assert died["segfault"]["error_message"] == f"{DIED} (signal SIGSEGV)"
    assert died["exit"]["error_message"] == f"{DIED} (exit code 3)"
    innocent = [rows[i] for i, k in runs if k in ("ok", "slow_ok", "stopped")]
    assert [r["status"] for r in innocent] == ["completed"] * 5
    assert all(r["metrics"]["fine"] and r["metrics"]["pid"] != os.getpid() for r in innocent)  # each in a child
    assert sum(1 for r in innocent if r["metrics"].get("step") == 1) == 3  # progress written from the child
    # the culprit's retry is a new attempt; no innocent run was retried
    assert [r["trigger"] for r in runs_of(conn, jobs["abort"].id)] == ["manual", "retry"]
    assert all(len(runs_of(conn, jobs[k].id)) == kinds.count(k) for k in ("ok", "slow_ok"))
    assert worker.exit_code == 0 and worker.guard.reason is None  # nothing to recycle


@pytest.mark.slow  # waits out a 1 s timeout
def test_a_handler_that_ignores_its_timeout_has_its_process_killed(dsn, conn, registry, tmp_path):
    pid_file = tmp_path / "hang.pid"
    hang = make_job(conn, max_retries=0, timeout_seconds=1, metadata={"do": "hang", "pid_file": str(pid_file)})
    run = make_run(conn, hang)
    worker = Worker(dsn, settings(lease_seconds=3, handler_grace_seconds=2), registry=registry, concurrency=1)
    started = time.monotonic()
    stop, t = serve(worker)
    try:
        row = wait_finished(conn, [run.id])[run.id]
        took = time.monotonic() - started
        after = make_run(conn, make_job(conn, max_retries=0, metadata={"do": "ok"}))
        later = wait_finished(conn, [after.id])[after.id]  # the one executor is free again
    finally:
        stop.set()
        t.join(30)
        worker.close()
    assert (row["status"], row["error_message"]) == ("failed", "timed out after 1 s, handler did not stop "
                                                               "(its process was killed)")  # fmt: skip
    assert took < 1 + 1 + 3  # timeout + margin (half the grace) + slack
    child = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # killed and reaped
    assert later["status"] == "completed"
    assert worker.exit_code == 0 and worker.guard.abandoned == 0 and worker.guard.reason is None


def test_the_isolation_setting_is_validated_naming_the_variable():
    assert Settings.from_env({}).worker_isolation == "thread"
    assert Settings.from_env({"CRONKEEPER_WORKER_ISOLATION": "Process"}).worker_isolation == "process"
    with pytest.raises(ConfigurationError, match="CRONKEEPER_WORKER_ISOLATION must be 'thread' or 'process'"):
        Settings.from_env({"CRONKEEPER_WORKER_ISOLATION": "container"})


@pytest.mark.slow  # a worker process
def test_the_cli_worker_runs_built_in_jobs_in_child_processes(dsn, conn):
    brand = make_brand(conn, name="Nike")
    brand_queries.insert_query(conn, brand.id, "best shoes")
    job = make_job(conn, brand, job_type="data_collection_and_scoring", max_retries=0,
                   metadata={"collectors": ["sample"]})  # fmt: skip
    run = make_run(conn, job)
    env = {**os.environ, "DATABASE_URL": dsn, "CRONKEEPER_LOG_LEVEL": "WARNING"}
    done = subprocess.run([str(BIN / "cronkeeper"), "worker", "--once", "--isolation", "process"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["completed"] == 1
    row = conn.execute("SELECT * FROM job_runs WHERE id = %s", (run.id,)).fetchone()
    assert row["status"] == "completed", row["error_message"]
    written = conn.execute("SELECT written_by FROM collected_answers WHERE run_id = %s", (run.id,)).fetchall()
    assert written and {w["written_by"] for w in written} == {row["worker_id"]}  # fenced writes, from the child
