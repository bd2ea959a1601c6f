"""What the API does for speed: cached tokens, rows straight to JSON, several worker processes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import msgspec
import psycopg
import pytest

from cronkeeper import tokens
from cronkeeper.api.auth import TokenCache
from cronkeeper.api.pages import job_json
from cronkeeper.api.schemas.jobs import JobOut
from cronkeeper.api.schemas.runs import RunOut
from cronkeeper.db import make_pool, reading
from cronkeeper.models import JobRun, ScheduledJob
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import pages
from cronkeeper.repo import runs as runs_repo
from tests.support.api import api_client
from tests.support.factories import make_brand, make_job, make_run
from tests.support.stack import _alive

JOBS = "/api/admin/scheduled-jobs"
NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


# -- token cache ------------------------------------------------------------------
def test_token_cache_keeps_a_token_for_its_ttl_only(conn):
    clock = FakeMonotonic()
    cache = TokenCache(5, clock=clock)
    made = tokens.create_token(conn, name="t")
    assert cache.get(made.secret) is None
    cache.put(made.secret, made.token)
    assert cache.get(made.secret) == made.token
    assert cache.get(made.secret + "x") is None
    clock.t += 5
    assert cache.get(made.secret) is None


def test_token_cache_is_bounded():
    clock = FakeMonotonic()
    cache = TokenCache(5, max_size=3, clock=clock)
    for i in range(10):
        cache.put(f"ck_{i}", object())  # type: ignore[arg-type]
    assert len(cache._tokens) <= 3 and cache.get("ck_9") is not None


def test_a_revoked_token_is_refused_once_the_cache_expires(dsn, conn):
    clock = FakeMonotonic()
    with api_client(dsn) as api:
        api.client.app.state.token_cache = TokenCache(5, clock=clock)
        headers = api.token("admin")
        assert api.get(JOBS, headers=headers).status_code == 200
        token_id = conn.execute("SELECT max(id) AS id FROM api_tokens").fetchone()["id"]
        tokens.revoke_token(conn, token_id, NOW)
        clock.t += 4.9
        assert api.get(JOBS, headers=headers).status_code == 200  # the documented window
        clock.t += 0.2
        assert api.get(JOBS, headers=headers).status_code == 401
        # failures are not cached: a token made now works at once
        assert api.get(JOBS, headers=api.token("viewer")).status_code == 200


def test_cached_tokens_keep_their_role_and_customer(dsn, conn):
    mine = make_job(conn)
    other = make_job(conn)
    with api_client(dsn) as api:
        api.client.app.state.token_cache = TokenCache(60)
        bound = api.token("viewer", customer_id=mine.customer_id)
        for _ in range(2):  # second time from the cache
            ids = [j["id"] for j in api.get(JOBS, headers=bound).json()["data"]]
            assert ids == [str(mine.id)]
            assert api.get(f"{JOBS}/{other.id}", headers=bound).status_code == 404
            assert api.post(f"{JOBS}/{mine.id}/trigger", headers=bound).status_code == 403


# -- pages written by PostgreSQL -----------------------------------------------------
def test_list_pages_encode_exactly_like_the_structs(dsn, conn):
    """The JSON PostgreSQL writes for a list equals what the single-object routes encode."""
    brand = make_brand(conn)
    jobs = [
        make_job(conn, brand),
        make_job(conn, brand, interval_seconds=90, jitter_seconds=10, metadata={"collectors": ["chatgpt"], "n": 1.5}),
        make_job(conn, brand, run_at=NOW + dt.timedelta(days=1, microseconds=250000), timezone="Europe/Berlin"),
        make_job(conn, brand, cron_expression="61 * * * *"),  # edited by hand: no description
        # finished by its bounds: the reason is written by SQL here and by Python for one job
        make_job(conn, brand, max_runs=1, next_run_at=None),
        make_job(conn, brand, ends_at=NOW + dt.timedelta(hours=1, microseconds=5), next_run_at=None,
                 starts_at=NOW - dt.timedelta(days=1)),
    ]
    conn.execute("UPDATE scheduled_jobs SET scheduled_run_count = 1 WHERE id = %s", (jobs[4].id,))  # its one run
    odd = NOW + dt.timedelta(seconds=3, microseconds=120)
    for job in jobs:
        make_run(conn, job, now=NOW)
        make_run(conn, job, now=NOW, status="completed", started_at=NOW, finished_at=odd,
                 worker_id="w", metrics={"answers": 3, "ratio": 0.1, "nested": {"a": [1, 2], "s": "é\"\\n"}})  # fmt: skip
        make_run(conn, job, now=NOW, status="skipped", skip_reason="overlap", finished_at=NOW)
    with make_pool(dsn, max_size=1) as pool, reading(pool) as c:
        c.execute("SET TimeZone = 'America/New_York'")  # times must still go out in UTC
        job_rows = pages.jobs_page(c, limit=10)
        run_rows = pages.runs_page(c, limit=20)
        model_jobs = {r["id"]: r for r in jobs_repo.list_jobs(c, limit=10)}
        model_runs = {r["id"]: r for r in runs_repo.list_runs(c, limit=20)}
    assert len(job_rows) == 6 and len(run_rows) == 18
    enc = msgspec.json.encode
    for row in job_rows:
        ours = json.loads(job_json(row))
        expected = json.loads(enc(JobOut.of(ScheduledJob.from_row(model_jobs[row.id]), model_jobs[row.id])))
        assert ours == expected and list(ours) != [] and set(ours) == set(JobOut.__struct_fields__)
    reasons = sorted(filter(None, (json.loads(job_json(row))["finished_reason"] for row in job_rows)))
    assert reasons == [f"ended at {(NOW + dt.timedelta(hours=1)).isoformat()}", "reached its 1 run"]
    for row in run_rows:
        ours = json.loads(row.json)
        expected = json.loads(enc(RunOut.of(JobRun.from_row(model_runs[row.id]), model_runs[row.id])))
        assert ours == expected
        assert list(ours) == list(RunOut.__struct_fields__)  # same keys, same order
    described = {j["cron_expression"]: j["schedule_description"] for j in map(json.loads, map(job_json, job_rows))}
    assert described["61 * * * *"] is None and described["* * * * *"] == "Every minute"
    times = [json.loads(r.json)["finished_at"] for r in run_rows]
    assert "2027-01-04T09:00:03.000120Z" in times and "2027-01-04T09:00:00Z" in times


def test_each_schedule_gets_its_own_description_from_the_shared_cache(dsn, conn):
    brand = make_brand(conn)
    made = [
        make_job(conn, brand, cron_expression="0 9 * * *"),
        make_job(conn, brand, cron_expression="0 9 * * *", timezone="Europe/Berlin"),
        make_job(conn, brand, cron_expression="0 9 * * *"),  # the same schedule as the first: one key
        make_job(conn, brand, interval_seconds=90, jitter_seconds=10),
        make_job(conn, brand, interval_seconds=90, jitter_seconds=20),
        make_job(conn, brand, run_at=NOW + dt.timedelta(days=1)),
        make_job(conn, brand, run_at=NOW + dt.timedelta(days=2)),
    ]
    with make_pool(dsn, max_size=1) as pool, reading(pool) as c:
        rows = pages.jobs_page(c, limit=20)
        again = pages.jobs_page(c, limit=20)  # served from the cache this time
    expected = {str(j.id): JobOut.of(j).schedule_description for j in made}
    assert len(set(expected.values())) == 6 and None not in expected.values()
    for page_rows in (rows, again):
        got = {d["id"]: d["schedule_description"] for d in (json.loads(job_json(r)) for r in page_rows)}
        assert got == expected
    assert len({r.schedule_key for r in rows}) == 6
    newest_first = [r["id"] for r in conn.execute("SELECT id FROM scheduled_jobs ORDER BY created_at DESC, id DESC")]
    assert [r.id for r in rows] == newest_first


def test_a_pool_can_bound_its_statements(dsn):
    with make_pool(dsn, max_size=1, statement_timeout_ms=200, plans="generic") as pool, pool.connection() as c:
        assert c.execute("SHOW statement_timeout").fetchone()["statement_timeout"] == "200ms"
        assert c.execute("SHOW plan_cache_mode").fetchone()["plan_cache_mode"] == "force_generic_plan"
        with pytest.raises(psycopg.errors.QueryCanceled):
            c.execute("SELECT pg_sleep(2)")


def test_hot_reads_use_their_own_bounded_pools(dsn):
    """The hot reads (api.app, PAGE_POOLS): their pools are theirs alone, with short waits."""
    from cronkeeper.api import app as app_module

    with api_client(dsn) as api:
        state = api.client.app.state
        loop_pools = (state.page_pools.custom, state.page_pools.generic)
        assert state.pool not in loop_pools
        for pool in loop_pools:
            assert pool.timeout == app_module.PAGE_POOL_TIMEOUT_SECONDS
            with pool.connection() as c:
                assert c.execute("SHOW statement_timeout").fetchone()["statement_timeout"] == "5s"
        assert api.client.get(JOBS).status_code == 200
        assert api.client.get("/api/admin/job-runs").status_code == 200


def test_list_pages_filter_on_what_is_given_only(dsn, conn):
    brand, other = make_brand(conn), make_brand(conn)
    job = make_job(conn, brand)
    make_job(conn, other, is_active=False)
    runs = [make_run(conn, job, now=NOW), make_run(conn, job, now=NOW, status="skipped", skip_reason="overlap", finished_at=NOW),
            make_run(conn, job, now=NOW, status="completed", started_at=NOW, finished_at=NOW, worker_id="w")]  # fmt: skip
    with make_pool(dsn, max_size=1) as pool, reading(pool) as c:
        assert [r.id for r in pages.runs_page(c, status="skipped")] == [runs[1].id]
        assert [r.id for r in pages.runs_page(c, job_id=job.id, before_id=runs[2].id)] == [runs[1].id, runs[0].id]
        assert pages.runs_page(c, brand_id=other.id) == []
        assert [r.id for r in pages.jobs_page(c, is_active=True)] == [job.id]
        assert [r.id for r in pages.jobs_page(c, customer_id=other.customer_id)] != [job.id]
        assert len(pages.runs_page(c, limit=2)) == 2


def test_reading_gives_autocommit_and_returns_the_connection_as_it_was(dsn):
    with make_pool(dsn, min_size=1, max_size=1) as pool:
        with reading(pool) as conn:
            assert conn.autocommit
            conn.execute("SELECT 1")
            assert conn.info.transaction_status.name == "IDLE"  # no BEGIN was sent
        with pool.connection() as conn:
            assert not conn.autocommit
        with pytest.raises(ZeroDivisionError), reading(pool) as conn:
            raise ZeroDivisionError
        with pool.connection() as conn:
            assert not conn.autocommit


# -- cronkeeper api --workers ------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(dsn, tmp_path, *args: str, **env: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    full_env = {**os.environ, "DATABASE_URL": dsn, "CRONKEEPER_DATA_DIR": str(tmp_path), **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cronkeeper.cli", "api", "--port", str(port), *args],
        env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    return proc, f"http://127.0.0.1:{port}"


def _api_pids(conn, n: int, timeout: float = 30) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = conn.execute("SELECT pid FROM processes WHERE kind = 'api' AND stopped_at IS NULL").fetchall()
        if len(rows) >= n:
            return {r["pid"] for r in rows}
        time.sleep(0.1)
    raise AssertionError(f"{n} api processes did not register within {timeout} s")


def test_workers_share_the_port_and_stop_on_sigterm(dsn, conn, tmp_path):
    proc, base = _start(dsn, tmp_path, "--workers", "2")
    try:
        pids = _api_pids(conn, 2)
        assert proc.pid not in pids and len(pids) == 2  # two worker processes under one parent
        token = tokens.create_token(conn, name="w").secret
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
            assert client.get(JOBS).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode in (0, -signal.SIGTERM), stderr
    stopped = conn.execute("SELECT count(*) AS n FROM processes WHERE kind = 'api' AND stopped_at IS NOT NULL")
    assert stopped.fetchone()["n"] == 2
    assert not any(_alive(p) for p in pids)


def test_workers_stop_when_their_parent_is_killed(dsn, conn, tmp_path):
    proc, _ = _start(dsn, tmp_path, "--workers", "2")
    pids: set[int] = set()
    try:
        pids = _api_pids(conn, 2)
        proc.kill()
        proc.wait(10)
        deadline = time.monotonic() + 15
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(p) for p in pids), "orphaned workers kept running"
    finally:
        for p in pids:
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        proc.communicate(timeout=10)


def _server_pid(port: int, client_port: int, pids: set[int]) -> int | None:
    """Which of ``pids`` holds the server side of the connection from ``client_port`` (from /proc)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(f.rsplit(":", 1)[1], 16) for f in fields[1:3])
            if local == port and remote == client_port and fields[3] == "01":  # ESTABLISHED
                inode = f"socket:[{fields[9]}]"
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == inode:
                    return pid
            except FileNotFoundError:  # closed while we looked
                continue
    return None


def _served_by(port: int, pids: set[int]) -> int | None:
    """Open a new connection, get one answer on it, and say which process accepted it."""
    request = "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, f"connection closed before an answer: {head!r}"
            head += chunk
        assert head.startswith(b"HTTP/1.1 "), head
        # still open: the server keeps it alive, so its socket is in the accepting process's fds
        return _server_pid(port, sock.getsockname()[1], pids)


# How many new connections are sent, and the share each of the two processes must take.
# The kernel picks a SO_REUSEPORT listener by a hash of the connection's addresses, not by
# how busy a process is, so each new connection goes to either process with probability
# 1/2 whatever the machine's load: a fair split of 120 falls under 30 on one side with
# probability ~1e-8, while the fault this guards against (one process taking all or nearly
# all, as uvicorn's shared socket does) fails at once. Each connection is attributed to its
# process right after its own answer, while the server still keeps it alive: counting many
# keep-alive connections only at the end can miss those the server has closed meanwhile
# (its keep-alive timeout can pass on a loaded machine).
SPREAD_CONNECTIONS = 120
SPREAD_FLOOR = 0.25


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT balances on Linux only")
def test_workers_each_take_a_share_of_new_connections(dsn, conn, tmp_path):
    """Every process accepts a fair share of new connections (uvicorn's shared socket gave one process nearly all)."""
    proc, base = _start(dsn, tmp_path, "--workers", "2")
    try:
        pids = _api_pids(conn, 2)
        port = int(base.rsplit(":", 1)[1])
        served = [_served_by(port, pids) for _ in range(SPREAD_CONNECTIONS)]
        counts = {pid: served.count(pid) for pid in pids}
        assert None not in served, f"{served.count(None)} connections held by no API process"
        assert min(counts.values()) >= SPREAD_FLOOR * SPREAD_CONNECTIONS, counts
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def test_a_worker_that_dies_is_replaced(dsn, conn, tmp_path):
    proc, base = _start(dsn, tmp_path, "--workers", "2")
    try:
        first = _api_pids(conn, 2)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            alive = {p for p in _api_pids(conn, 2) if _alive(p)}
            if len(alive) == 2 and victim not in alive:
                break
            time.sleep(0.2)
        assert victim not in alive and len(alive) == 2, alive
        token = tokens.create_token(conn, name="after").secret
        for _ in range(4):  # new connections, whichever process takes them
            assert httpx.get(base + JOBS, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert '"api_process_exited"' in stderr and f'"pid": {victim}' in stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_fails_at_once_with_a_message(dsn, tmp_path, workers):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "cronkeeper.cli", "api", "--port", str(port), "--workers", workers],
            env={**os.environ, "DATABASE_URL": dsn, "CRONKEEPER_DATA_DIR": str(tmp_path)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "address already in use" in stderr.lower(), stderr


def test_processes_that_keep_failing_at_start_end_the_server(monkeypatch):
    from cronkeeper.api import processes

    monkeypatch.setattr(processes, "RESTART_DELAY_SECONDS", 0.01)
    config = {"app": "tests.no_such_module:app", "log_config": None}
    supervisor = processes.Supervisor(2, "127.0.0.1", _free_port(), config)
    started = time.monotonic()
    assert supervisor.run() == 1
    assert time.monotonic() - started < 60
    assert not any(p.is_alive() for p, _ in supervisor._procs)


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (("--workers", "0"), {}, "--workers"),
        (("--workers", "many"), {}, "--workers"),
        ((), {"CRONKEEPER_API_WORKERS": "x"}, "--workers"),
        ((), {"CRONKEEPER_API_TOKEN_CACHE_SECONDS": "-1"}, "CRONKEEPER_API_TOKEN_CACHE_SECONDS"),
    ],
)
def test_bad_worker_or_cache_settings_exit_2_naming_them(dsn, tmp_path, args, env, named):
    proc, _ = _start(dsn, tmp_path, *args, **env)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 2 and named in stderr, stderr


def test_token_revoke_says_how_long_apis_may_accept_it(dsn, conn, capsys, monkeypatch):
    from cronkeeper.cli import main

    monkeypatch.setenv("DATABASE_URL", dsn)
    made = tokens.create_token(conn, name="r")
    assert main(["token", "revoke", str(made.token.id)]) == 0
    assert "within 5 s" in capsys.readouterr().out


def test_history_of_a_job_without_runs_is_empty_and_of_no_job_404(dsn, conn):
    job = make_job(conn)
    other = make_job(conn)
    make_run(conn, other)
    with api_client(dsn) as api:
        assert api.get(f"{JOBS}/{job.id}/runs").json() == {"data": [], "next_cursor": None}
        assert api.get(f"{JOBS}/{job.id}/runs", params={"status": "failed"}).status_code == 200
        bound = api.token("admin", customer_id=job.customer_id)
        assert api.get(f"{JOBS}/{other.id}/runs", headers=bound).status_code == 404  # has runs, not in scope
        assert api.get(f"{JOBS}/{other.id}/runs").json()["data"][0]["scheduled_job_id"] == str(other.id)


def test_the_api_processes_jsonb_decoder_matches_json_loads():
    from cronkeeper.api.process_app import _fast_json_loads

    loads = _fast_json_loads()
    for text in ('{"a": [1, 2.5, null, true], "b": {"c": "\\u00e9"}}', "12345678901234567890123", "1e400", "[]"):
        assert loads(text) == json.loads(text) and loads(text.encode()) == json.loads(text)


def test_ck_json_time_writes_times_as_msgspec_does(conn):
    """The pages' times (PostgreSQL) and the single objects' times (msgspec) are the same text."""
    utc = dt.UTC
    times = [
        dt.datetime(2027, 1, 4, 9, 0, tzinfo=utc),  # whole second: no fraction
        dt.datetime(2027, 1, 4, 9, 0, 0, 250000, tzinfo=utc),  # trailing zeros kept
        dt.datetime(2027, 1, 4, 9, 0, 0, 1, tzinfo=utc),
        dt.datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=utc),
        dt.datetime(2026, 10, 25, 3, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),  # another offset
    ]
    conn.execute("SET TimeZone = 'America/New_York'")  # the session's zone must not matter
    for t in times:
        written = conn.execute("SELECT ck_json_time(%s::timestamptz) AS t", (t,)).fetchone()["t"]
        assert written == msgspec.json.encode(t.astimezone(utc)).decode().strip('"'), t
    assert conn.execute("SELECT ck_json_time(NULL) AS t").fetchone()["t"] is None
