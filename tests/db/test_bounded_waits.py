"""Every connection's waits are bounded (cronkeeper.dblimits), directly and behind a pooler."""

from __future__ import annotations

import time

import psycopg
import pytest

from cronkeeper.db import connect, make_pool, reading
from cronkeeper.dblimits import connect_params, server_settings
from cronkeeper.errors import ConfigurationError
from cronkeeper.settings import DbTimeouts, Settings

SHOW = """SELECT current_setting('idle_in_transaction_session_timeout') AS idle,
    current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock"""


def test_defaults_and_environment():
    t = Settings.from_env({}).db_timeouts
    assert (t.connect, t.idle_in_transaction, t.lock, t.statement("worker"), t.statement("scheduler")) == (
        10, 10, 5, 300, 60)  # fmt: skip
    assert t.statement("api") == 0 and t.statement(None) == 0
    env = {"CRONKEEPER_DB_IDLE_IN_TX_TIMEOUT": "2.5", "CRONKEEPER_DB_STATEMENT_TIMEOUT_WORKER": "0",
           "CRONKEEPER_DB_TCP_USER_TIMEOUT": "7"}  # fmt: skip
    t = Settings.from_env(env).db_timeouts
    assert (t.idle_in_transaction, t.statement("worker"), t.tcp_user_timeout) == (2.5, 0, 7)
    with pytest.raises(ConfigurationError) as err:
        Settings.from_env({"CRONKEEPER_DB_CONNECT_TIMEOUT": "soon"})
    assert err.value.field == "CRONKEEPER_DB_CONNECT_TIMEOUT"


def test_connect_params_keep_what_the_dsn_says(monkeypatch):
    monkeypatch.delenv("PGOPTIONS", raising=False)
    t = DbTimeouts()
    p = connect_params("postgresql://u@h/db", t, "worker", pooled=False)
    assert p["connect_timeout"] == 10 and p["keepalives"] == 1 and p["tcp_user_timeout"] == 30000
    assert p["options"] == ("-c idle_in_transaction_session_timeout=10000ms -c statement_timeout=300000ms "
                            "-c lock_timeout=5000ms")  # fmt: skip
    own = connect_params("host=h connect_timeout=3 keepalives=0 options='-c work_mem=8MB'", t, None, pooled=False)
    assert "connect_timeout" not in own and "keepalives" not in own and "keepalives_idle" not in own
    assert own["options"] == "-c idle_in_transaction_session_timeout=10000ms -c work_mem=8MB"  # theirs win
    pooled = connect_params("postgresql://u@h/db", t, "worker", pooled=True)
    assert "options" not in pooled and pooled["keepalives"] == 1  # PgBouncer refuses options
    off = DbTimeouts(connect=0, tcp_user_timeout=0, idle_in_transaction=0, lock=0, statement_worker=0)
    assert "options" not in connect_params("postgresql://u@h/db", off, "worker", pooled=False)
    assert server_settings(t, "api", statement_timeout_ms=5000) == {
        "idle_in_transaction_session_timeout": "10000ms", "statement_timeout": "5000ms"}  # fmt: skip


def test_a_connection_has_its_kinds_bounds(dsn):
    with connect(dsn, kind="worker") as conn:
        assert conn.execute(SHOW).fetchone() == {"idle": "10s", "statement": "5min", "lock": "5s"}
    with connect(dsn, kind="scheduler") as conn:
        assert conn.execute(SHOW).fetchone() == {"idle": "10s", "statement": "1min", "lock": "5s"}
    with connect(dsn) as conn:  # a CLI: no statement or lock timeout, the idle one still
        assert conn.execute(SHOW).fetchone() == {"idle": "10s", "statement": "0", "lock": "0"}


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_client_that_stops_mid_transaction_loses_it_and_its_locks(dsn, conn):
    stalled = connect(dsn, kind="worker", timeouts=DbTimeouts(idle_in_transaction=0.5))
    stalled.execute("SELECT pg_advisory_xact_lock(4242)")  # a transaction holding a lock, then silence
    try_lock = "SELECT pg_try_advisory_xact_lock(4242) AS got"
    assert conn.execute(try_lock).fetchone()["got"] is False
    time.sleep(1.0)
    assert conn.execute(try_lock).fetchone()["got"] is True  # the server ended it: the lock is free
    with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):
        stalled.execute("SELECT 1")
    stalled.close()


def test_behind_a_pooler_the_bounds_are_set_per_transaction(dsn):
    t = DbTimeouts(idle_in_transaction=4, lock=2, statement_worker=9)
    pool = make_pool(dsn, pooler=True, kind="worker", timeouts=t)
    try:
        with pool.connection() as conn:
            assert conn.execute(SHOW).fetchone() == {"idle": "4s", "statement": "9s", "lock": "2s"}
            conn.commit()  # SET LOCAL: gone with its transaction, nothing left on the server connection
            assert conn.execute(SHOW).fetchone() == {"idle": "0", "statement": "0", "lock": "0"}
        with reading(pool) as conn:
            assert conn.execute(SHOW).fetchone() == {"idle": "4s", "statement": "9s", "lock": "2s"}
    finally:
        pool.close()
    pool = make_pool(dsn, pooler=True)  # no kind, no timeout asked: no extra statement per transaction
    try:
        assert pool.local_settings == {}
        with pool.connection() as conn:
            assert conn.execute(SHOW).fetchone() == {"idle": "0", "statement": "0", "lock": "0"}
    finally:
        pool.close()
    pool = make_pool(dsn, pooler=True, statement_timeout_ms=5000, timeouts=DbTimeouts(idle_in_transaction=0))
    try:  # the API's read timeout, as before
        with reading(pool) as conn:
            assert conn.execute(SHOW).fetchone()["statement"] == "5s"
    finally:
        pool.close()
