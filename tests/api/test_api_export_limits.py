"""Exports cannot starve the API: paged reads, slots per customer and process, slow readers cut off.

Real uvicorn servers (a pool of four connections) and raw sockets that stop reading.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from cronkeeper.api.app import create_app
from cronkeeper.api.controllers import exports as export_routes
from cronkeeper.tokens import create_token
from tests.db.test_exports import seed
from tests.support.api import live_server, settings
from tests.support.factories import make_brand, make_job

BIG = "z" * 3000  # 4,000 rows of this: about 13 MB, far more than the sockets buffer


@pytest.fixture
def server(dsn) -> Iterator[str]:
    with live_server(create_app(dsn, settings())) as url:
        yield url


@pytest.fixture
def tight_server(dsn) -> Iterator[str]:
    """A server whose connections have small send buffers, so a stalled client stalls it within ~100 KB."""
    config = uvicorn.Config(create_app(dsn, settings()), host="127.0.0.1", port=0, log_config=None,
                            access_log=False, lifespan="on")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert _wait(lambda: server.started), "uvicorn did not start"
    listener = server.servers[0].sockets[0]
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)  # accepted sockets inherit it
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def _open_download(base: str, token: str, run_id: int) -> tuple[socket.socket, bytes]:
    """A download whose client reads the status line and then nothing more."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(
        f"GET /api/admin/job-runs/{run_id}/export?format=jsonl HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    return sock, sock.recv(12)


@contextmanager
def _downloads(base: str, token: str, run_id: int, n: int) -> Iterator[list[bytes]]:
    opened = [_open_download(base, token, run_id) for _ in range(n)]
    try:
        yield [status for _, status in opened]
    finally:
        for sock, _ in opened:
            sock.close()


def _wait(predicate, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _long_transactions(conn) -> int:
    """Backends of this database in a transaction opened more than half a second ago."""
    return conn.execute(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
        " AND xact_start < now() - interval '0.5 s' AND pid <> pg_backend_pid()"
    ).fetchone()["n"]


@pytest.mark.slow  # a few seconds: the full suite only
def test_twelve_unread_downloads_leave_the_api_answering_at_once(server, conn, monkeypatch):
    monkeypatch.setenv("CRONKEEPER_EXPORTS_PER_CUSTOMER", "12")
    monkeypatch.setenv("CRONKEEPER_EXPORTS_PER_PROCESS", "12")
    run = seed(conn, 4000, text=BIG)
    token = create_token(conn, name="export").secret
    with _downloads(server, token, run.id, 12) as statuses, httpx.Client(base_url=server, timeout=30) as http:
        assert statuses == [b"HTTP/1.1 200"] * 12
        assert _wait(lambda: export_routes.SLOTS.in_use == 12)
        time.sleep(1.0)  # let every download fill its socket buffers and stall
        assert _long_transactions(conn) == 0  # no export keeps a transaction (or a connection) open
        took = []
        for _ in range(7):
            started = time.monotonic()
            r = http.get(f"/api/admin/job-runs/{run.id}", headers={"Authorization": f"Bearer {token}"})
            took.append(time.monotonic() - started)
            assert r.status_code == 200, r.text
        assert statistics.median(took) < 0.1 and max(took) < 1.0, took
        r = http.get(f"/api/admin/job-runs/{run.id}/export", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 429 and r.headers["retry-after"] == "10"  # the 13th: over the process's limit
        assert r.json()["error"] == "RateLimited"
    assert _wait(lambda: export_routes.SLOTS.in_use == 0)  # clients gone: every slot given back


@pytest.mark.slow  # a few seconds: the full suite only
def test_at_most_n_exports_per_customer_then_429_with_retry_after(server, conn, monkeypatch):
    monkeypatch.setenv("CRONKEEPER_EXPORTS_PER_CUSTOMER", "2")
    monkeypatch.setenv("CRONKEEPER_EXPORTS_PER_PROCESS", "3")
    mine = seed(conn, 4000, text=BIG)
    other = seed(conn, 4000, text=BIG, job=make_job(conn, make_brand(conn), name="other"))
    token = create_token(conn, name="export").secret
    auth = {"Authorization": f"Bearer {token}"}
    with _downloads(server, token, mine.id, 2) as statuses, httpx.Client(base_url=server, timeout=30) as http:
        assert statuses == [b"HTTP/1.1 200"] * 2
        r = http.get(f"/api/admin/job-runs/{mine.id}/export", headers=auth)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert "at most 2 per customer" in r.json()["message"]
        with _downloads(server, token, other.id, 1) as other_status:  # another customer still gets one
            assert other_status == [b"HTTP/1.1 200"]
            r = http.get(f"/api/admin/job-runs/{other.id}/export", headers=auth)
            assert r.status_code == 429  # but the process holds 3: its limit
    assert _wait(lambda: export_routes.SLOTS.in_use == 0)


@pytest.mark.slow  # a few seconds: the full suite only
def test_a_reader_that_stops_is_cut_off_after_the_idle_timeout(tight_server, conn, monkeypatch):
    monkeypatch.setenv("CRONKEEPER_EXPORT_IDLE_SECONDS", "1")
    run = seed(conn, 4000, text=BIG)
    token = create_token(conn, name="export").secret
    sock, status = _open_download(tight_server, token, run.id)
    with sock:
        assert status == b"HTTP/1.1 200"
        assert _wait(lambda: export_routes.SLOTS.in_use == 1, 5)
        assert _wait(lambda: export_routes.SLOTS.in_use == 0, 10)  # cut off: its slot is free again
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        body, started = b"", time.monotonic()
        while chunk := sock.recv(1 << 20):  # what was buffered, then the server's close
            body += chunk
            assert time.monotonic() - started < 30, len(body)
    assert len(body) < 4000 * 3000 and not body.endswith(b"0\r\n\r\n")  # closed on an unfinished export
