"""`make run` (cronkeeper.devrun) stops everything it started however it is told to stop.

SIGTERM (``kill``, ``timeout``, a service manager) and SIGHUP (the terminal closed) reach
only the devrun process, not supervisord's process group as Ctrl-C does: before, devrun
died and left supervisord, the API, the scheduler, two workers and the embedded
PostgreSQL running (and the next ``make run`` found port 8000 taken).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cronkeeper.db import connect, embedded_running, stop_embedded
from tests.support.stack import FAST, ROOT, free_port, wait_for


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie has exited (no init reaps it in a container)


def _serves(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow  # an embedded PostgreSQL and the whole stack: ~15 s
def test_sigterm_stops_the_stack_and_the_embedded_database_make_run_started(tmp_path):
    out, data_dir, survivors = _run_and_signal(tmp_path, signal.SIGTERM, {})
    assert "stopped the embedded PostgreSQL" in out
    assert survivors == []
    assert not embedded_running(data_dir)


@pytest.mark.slow  # the whole stack: ~10 s
def test_sighup_stops_the_stack_and_leaves_a_database_of_its_own_running(tmp_path, dsn):
    out, data_dir, survivors = _run_and_signal(tmp_path, signal.SIGHUP, {"DATABASE_URL": dsn})
    assert "stopped the embedded PostgreSQL" not in out
    assert survivors == []
    with connect(dsn, autocommit=True) as conn:
        assert conn.execute("SELECT 1 AS up").fetchone() == {"up": 1}


def _run_and_signal(tmp_path: Path, signum: int, extra: dict[str, str]) -> tuple[str, Path, list[str]]:
    """Start devrun, wait for the API, send ``signum``; its output, data folder and what still runs."""
    port, var, data_dir = free_port(), tmp_path / "var", tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(FAST, CRONKEEPER_VAR=str(var), CRONKEEPER_DATA_DIR=str(data_dir), CRONKEEPER_DEMO="0",
               CRONKEEPER_API_PORT=str(port), **extra)  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "cronkeeper.devrun"], env=env, cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    pidfile = var / "supervisord.pid"
    try:
        wait_for("supervisord's pid file", pidfile.exists, timeout=60)
        supervisord = int(wait_for("supervisord's pid", lambda: pidfile.read_text().strip(), timeout=10))
        wait_for("the API to listen", lambda: _serves(port), timeout=60)
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=90)
        survivors = [what for what, up in (("supervisord", _alive(supervisord)), ("api", _serves(port))) if up]
        return out, data_dir, survivors
    finally:  # never leave a stack behind, whatever failed
        if proc.poll() is None:
            proc.kill()
        if pidfile.exists() and _alive(pid := int(pidfile.read_text().strip() or 0)):
            os.kill(pid, signal.SIGTERM)
            wait_for("supervisord to stop", lambda: not _alive(pid), timeout=60)
        if "DATABASE_URL" not in extra and embedded_running(data_dir):
            stop_embedded(data_dir)
