"""``cronkeeper health worker|scheduler``: the exec probe reads the process's own heartbeat."""

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from cronkeeper.clock import utcnow
from cronkeeper.repo import processes


def beat(conn, kind: str, seconds_ago: float, process_id: str | None = None) -> str:
    """A heartbeat row of this host, written ``seconds_ago`` (the probe reads the wall clock)."""
    process_id = process_id or processes.new_process_id(kind)
    processes.heartbeat(conn, process_id, kind, utcnow() - dt.timedelta(seconds=seconds_ago))
    return process_id


@pytest.mark.parametrize("kind", ["worker", "scheduler"])
def test_a_fresh_heartbeat_on_this_host_is_healthy(ck, conn, kind):
    pid = beat(conn, kind, 2)
    done = ck("health", kind)
    assert done.returncode == 0
    assert done.stdout.startswith(f"healthy: {kind} {pid} beat ")


def test_a_stale_heartbeat_is_unhealthy_and_max_age_decides(ck, conn):
    beat(conn, "worker", 45)
    stale = ck("health", "worker", ok=False)
    assert stale.returncode == 1
    assert "unhealthy: worker" in stale.stderr and "(max 30 s)" in stale.stderr
    assert ck("health", "worker", "--max-age", "60").returncode == 0


def test_no_heartbeat_a_stopped_process_or_another_kind_is_unhealthy(ck, conn):
    assert ck("health", "worker", ok=False).returncode == 1
    pid = beat(conn, "scheduler", 1)  # another kind does not count
    done = ck("health", "worker", ok=False)
    assert done.returncode == 1 and "no running worker has beaten on host" in done.stderr
    worker = beat(conn, "worker", 1)
    processes.mark_stopped(conn, worker, utcnow())
    assert ck("health", "worker", ok=False).returncode == 1
    assert ck("health", "scheduler", "--process-id", pid).returncode == 0


def test_another_hosts_process_counts_only_when_asked(ck, conn):
    processes.heartbeat(conn, "worker-elsewhere-1", "worker", utcnow())
    conn.execute("UPDATE processes SET hostname = 'elsewhere' WHERE id = 'worker-elsewhere-1'")
    assert ck("health", "worker", ok=False).returncode == 1
    assert ck("health", "worker", "--hostname", "elsewhere").returncode == 0
    assert ck("health", "worker", "--hostname", "").returncode == 0  # any host
    assert ck("health", "worker", "--process-id", "worker-elsewhere-1").returncode == 0
    assert ck("health", "worker", "--process-id", "worker-nope", ok=False).returncode == 1


def test_the_newest_of_this_hosts_processes_counts(ck, conn):
    beat(conn, "worker", 600)  # a process killed before this one started: never marked stopped
    fresh = beat(conn, "worker", 3)
    verdict = json.loads(ck("health", "worker", "--json").stdout)
    assert verdict["healthy"] is True and fresh in verdict["message"]
    assert 2 <= verdict["age_seconds"] < 30 and verdict["max_age_seconds"] == 30


def test_an_unreachable_database_is_unhealthy_not_an_error(ck, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    done = ck("health", "scheduler", ok=False)
    assert done.returncode == 1 and done.stderr.startswith("unhealthy: cannot read heartbeats")


def test_bad_max_age_is_a_usage_error(ck):
    assert ck("health", "worker", "--max-age", "0", ok=False).returncode == 2
    assert ck("health", "worker", "--max-age", "soon", ok=False).returncode == 2
    assert ck("health", "robot", ok=False).returncode == 2


@pytest.mark.slow  # a few seconds: the full suite only
def test_the_lean_probe_module_gives_the_same_verdicts_in_a_subprocess(dsn, conn):
    """``python -m cronkeeper.health``: what the manifests' exec probes run."""
    env = {**os.environ, "DATABASE_URL": dsn}

    def probe(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cronkeeper.health", *args], env=env, capture_output=True,
                              text=True, timeout=60)  # fmt: skip

    absent = probe("scheduler")
    assert absent.returncode == 1 and "no running scheduler" in absent.stderr
    beat(conn, "scheduler", 5)
    fresh = probe("scheduler", "--max-age", "60")
    assert fresh.returncode == 0 and fresh.stdout.startswith("healthy: scheduler")
    assert probe("scheduler", "--max-age", "1").returncode == 1
    assert probe("nothing").returncode == 2
