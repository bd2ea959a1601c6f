"""The API defends itself on a live uvicorn: idle, slow and surplus connections are cut
(api/protocol.py), and a hung query holds only its own request (api.app's page pools)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import psycopg
import pytest
import uvicorn

from cronkeeper.api import protocol
from cronkeeper.api.app import create_app
from cronkeeper.api.limits import ServerLimits
from cronkeeper.tokens import create_token
from tests.support.api import settings
from tests.support.stack import free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

REQUEST = b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"


@contextmanager
def serving(dsn: str, limits: ServerLimits, monkeypatch) -> Iterator[int]:
    """``create_app`` under uvicorn with ``limits`` as ``cronkeeper api`` passes them; yields the port."""
    monkeypatch.setenv("CRONKEEPER_API_REQUEST_TIMEOUT_SECONDS", str(limits.request_seconds))
    protocol.request_seconds.cache_clear()
    options = {**limits.uvicorn_options(), "backlog": 64}
    config = uvicorn.Config(
        create_app(dsn, settings()), host="127.0.0.1", port=0, log_config=None, access_log=False, **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for("uvicorn", lambda: server.started, timeout=15)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        protocol.request_seconds.cache_clear()


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.settimeout(10)
    return sock


def _closed_after(sock: socket.socket) -> tuple[float, bytes]:
    """Seconds until the server closes ``sock`` (reading what it sent), and what it sent."""
    started, got = time.monotonic(), b""
    while chunk := sock.recv(65536):
        got += chunk
    return time.monotonic() - started, got


def test_idle_and_slow_connections_are_cut(dsn, monkeypatch):
    limits = ServerLimits(keep_alive_seconds=1, request_seconds=2, max_connections=100)
    with serving(dsn, limits, monkeypatch) as port:
        # a connection that never sends a byte: closed like an idle keep-alive one
        idle = _connect(port)
        waited, got = _closed_after(idle)
        assert 0.8 < waited < 2.5 and got == b""
        # after a request, idle again: closed after the keep-alive timeout
        kept = _connect(port)
        kept.sendall(REQUEST)
        time.sleep(0.3)
        assert kept.recv(65536).startswith(b"HTTP/1.1 200")
        waited, _ = _closed_after(kept)
        assert waited < 2.0
        # slow loris: a header line every 0.3 s keeps bytes coming, and is cut at the request deadline
        slow = _connect(port)
        started = time.monotonic()
        slow.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        for i in range(40):
            try:
                slow.sendall(b"X-Slow-%d: y\r\n" % i)
            except OSError:
                break
            time.sleep(0.3)
            slow.setblocking(False)
            try:
                answer += slow.recv(65536)
            except BlockingIOError:
                pass
            finally:
                slow.setblocking(True)
            if answer:
                break
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert 1.8 < time.monotonic() - started < 3.5
        # a head larger than the limit: 431 at once
        big = _connect(port)
        big.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000)
        _, got = _closed_after(big)
        assert got.startswith(b"HTTP/1.1 431")
        # and the server serves as before
        assert httpx.get(f"http://127.0.0.1:{port}/health/live").status_code == 200


def test_a_connection_limit_per_process_answers_503_then_recovers(dsn, monkeypatch):
    limits = ServerLimits(keep_alive_seconds=2, request_seconds=5, max_connections=4)
    with serving(dsn, limits, monkeypatch) as port:
        idle = [_connect(port) for _ in range(4)]
        time.sleep(0.2)
        over = _connect(port)
        over.sendall(REQUEST)
        _, got = _closed_after(over)
        assert got.startswith(b"HTTP/1.1 503")
        # beyond twice the limit a new connection is closed unanswered, at once
        more = [_connect(port) for _ in range(4)]
        time.sleep(0.2)
        cut = _connect(port)
        waited, got = _closed_after(cut)
        assert got == b"" and waited < 1.0
        for sock in (*idle, *more):  # the idle ones go after the keep-alive timeout...
            assert _closed_after(sock)[0] < 3.0
        # ... and then the process serves again
        assert httpx.get(f"http://127.0.0.1:{port}/health/live").status_code == 200


def test_a_locked_table_holds_only_the_requests_that_read_it(dsn, conn, monkeypatch):
    """LOCK TABLE job_runs for 10 s: the liveness probe, the UI shell and another table's list answer
    at once, every runs list answers 503 at its deadline (5 s), none waits for the lock's end."""
    secret = create_token(conn, name="defend", role="admin").secret
    headers = {"Authorization": f"Bearer {secret}"}
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with psycopg.connect(dsn) as c:
            c.execute("LOCK TABLE job_runs IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(10)

    limits = ServerLimits(keep_alive_seconds=5, request_seconds=10, max_connections=100)
    with serving(dsn, limits, monkeypatch) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        assert client.get("/api/admin/brands", headers=headers).status_code == 200  # token checked, pools warm
        holder = threading.Thread(target=hold_lock)
        holder.start()
        try:
            assert locked.wait(10)
            started = time.monotonic()

            def runs_list(_: int) -> tuple[httpx.Response, float]:
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as own:
                    answer = own.get("/api/admin/job-runs", headers=headers)
                return answer, time.monotonic() - started

            with ThreadPoolExecutor(8) as pool:
                hung = [pool.submit(runs_list, i) for i in range(8)]
                time.sleep(0.5)  # the eight are waiting on the lock now
                for path, auth in (("/health/live", {}), ("/admin/scheduled-jobs", {}), ("/admin/static/app.css", {}),
                                   ("/api/admin/brands", headers)):
                    t = time.monotonic()
                    assert client.get(path, headers=auth).status_code == 200, path
                    assert time.monotonic() - t < 1.0, path
                answers = [f.result() for f in hung]
            for answer, took in answers:
                assert answer.status_code == 503, answer.text
                assert "deadline" in answer.json()["message"] or "busy" in answer.json()["message"]
                assert took < 8.0  # the deadline (5 s) or the wait for a connection (2 s), never the lock's 10 s
            assert not release.is_set()
        finally:
            release.set()
            holder.join()
        assert client.get("/api/admin/job-runs", headers=headers).status_code == 200  # and it recovers


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def test_cronkeeper_api_processes_cut_idle_connections(dsn, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": dsn, "CRONKEEPER_LOG_LEVEL": "WARNING",
           "CRONKEEPER_API_KEEP_ALIVE_SECONDS": "1", "CRONKEEPER_API_MAX_CONNECTIONS": "50"}  # fmt: skip
    log = (tmp_path / "api.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cronkeeper.cli", "api", "--port", str(port), "--workers", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for("api", lambda: _answers(f"http://127.0.0.1:{port}/health/live"), timeout=60)
        for _ in range(4):  # the kernel spreads them over both processes
            waited, got = _closed_after(_connect(port))
            assert got == b"" and waited < 2.5
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
