"""The real stack under supervisor, on an embedded PostgreSQL of its own, for fault tests.

``Stack`` starts ``supervisord -c ops/supervisord.conf`` (the file users run)
with ``CRONKEEPER_VAR`` in a temporary folder and short poll, lease and grace
settings, and offers what the tests need: program pids, signals, restarting
the database, and the JSON log events each program wrote.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cronkeeper.db import start_embedded, stop_embedded

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "ops" / "supervisord.conf"
BIN = Path(sys.executable).parent

FAST = {
    "CRONKEEPER_SCHEDULER_POLL_SECONDS": "1",
    "CRONKEEPER_WORKER_POLL_SECONDS": "1",
    "CRONKEEPER_LEASE_SECONDS": "3",
    "CRONKEEPER_SHUTDOWN_GRACE_SECONDS": "4",
    "CRONKEEPER_LOG_LEVEL": "INFO",
    "CRONKEEPER_LOG_FORMAT": "json",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0, every: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class Database:
    """An embedded server in a folder of its own that tests may stop and start."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.server_dsn = start_embedded(data_dir)

    def stop(self) -> None:
        stop_embedded(self.data_dir)

    def start(self) -> None:
        start_embedded(self.data_dir)


class Stack:
    def __init__(self, var: Path, dsn: str, data_dir: Path, **env: str) -> None:
        self.var = var
        self.port = free_port()
        self.env = {
            **os.environ,
            **FAST,
            **env,
            "DATABASE_URL": dsn,
            "CRONKEEPER_DATA_DIR": str(data_dir),
            "CRONKEEPER_VAR": str(var),
            "CRONKEEPER_API_HOST": "127.0.0.1",
            "CRONKEEPER_API_PORT": str(self.port),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        (var / "log").mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Stack:
        subprocess.run([str(BIN / "supervisord"), "-c", str(CONF)], env=self.env, check=True)
        wait_for("every program RUNNING", lambda: self.ctl("status").returncode == 0, timeout=60)
        return self

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "supervisorctl"), "-c", str(CONF), *args],
            env=self.env, capture_output=True, text=True, timeout=90,
        )  # fmt: skip

    def shutdown(self) -> None:
        pidfile = self.var / "supervisord.pid"
        if not pidfile.exists():
            return
        pid = int(pidfile.read_text())
        os.kill(pid, signal.SIGTERM)
        wait_for("supervisord to exit", lambda: not _alive(pid), timeout=90)

    def pid(self, program: str) -> int:
        out = self.ctl("pid", program).stdout.strip()
        return int(out) if out.isdigit() else 0

    def status(self) -> dict[str, str]:
        states = {}
        for line in self.ctl("status").stdout.splitlines():
            name, state, *_ = line.split()
            states[name] = state
        return states

    def events(self, log_name: str) -> list[dict[str, Any]]:
        """The JSON events in one program's log file (lines that are not JSON are skipped)."""
        path = self.var / "log" / f"{log_name}.log"
        out = []
        for line in path.read_text().splitlines() if path.exists() else []:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def supervisor_log(self) -> str:
        return (self.var / "log" / "supervisord.log").read_text()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def serve_worker(worker: Any) -> tuple[threading.Event, threading.Thread]:
    """``worker.serve`` on a daemon thread of this process; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.serve, args=(stop,), daemon=True)
    thread.start()
    return stop, thread
