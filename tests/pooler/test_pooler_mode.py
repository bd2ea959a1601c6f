"""Pooler mode through PgBouncer 1.18 in transaction mode, in this process.

No prepared statement reaches the pooler, a pool's statement timeout is set
per transaction and never leaks to other clients, migrating takes no lock that
outlives its transaction, and without a LISTEN URL the worker polls (and says so once).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import psycopg
import pytest

from cronkeeper import jobs
from cronkeeper.db import connect, make_pool, reading
from cronkeeper.migrate import load_migrations, migrate, pending
from cronkeeper.repo import brand_queries
from cronkeeper.services.scheduler.loop import SchedulerLoop
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job
from tests.support.stack import wait_for

pytestmark = pytest.mark.timeout(120)


def pooled_settings(**kw) -> Settings:
    return Settings(database_url=None, data_dir=".", db_pooler="transaction", worker_poll_seconds=30,
                    scheduler_poll_seconds=30, **kw)  # fmt: skip


def advisory_locks(conn, dsn) -> int:
    dbname = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    return conn.execute(
        "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND d.datname = %s", (dbname,)
    ).fetchone()["n"]  # fmt: skip


def test_repeated_statements_on_many_clients_never_prepare(bouncer, dsn):
    """With psycopg's default (prepare after 5 uses) this fails: DuplicatePreparedStatement "_pg3_0"."""
    pooled = bouncer.dsn(dsn)
    pools = [make_pool(pooled, min_size=2, max_size=2, pooler=True) for _ in range(3)]
    try:
        for _ in range(12):  # psycopg would prepare after the 5th use
            for pool in pools:
                with pool.connection() as c:
                    assert c.execute("SELECT count(*) AS n FROM job_runs WHERE id > %s", (0,)).fetchone()["n"] == 0
                with reading(pool) as c:
                    assert c.execute("SELECT %s::int + 1 AS n", (1,)).fetchone()["n"] == 2
    finally:
        for pool in pools:
            pool.close()


def test_a_pools_statement_timeout_is_per_transaction_and_never_leaks(bouncer, dsn):
    pooled = bouncer.dsn(dsn)
    timed = make_pool(pooled, min_size=1, max_size=2, statement_timeout_ms=200, pooler=True)
    plain = make_pool(pooled, min_size=4, max_size=4, pooler=True)
    try:
        with pytest.raises(psycopg.errors.QueryCanceled), reading(timed) as c:
            c.execute("SELECT pg_sleep(1)")
        with reading(timed) as c:
            assert c.execute("SHOW statement_timeout").fetchone()["statement_timeout"] == "200ms"
        seen = set()
        for _ in range(20):  # whichever server connection each lands on
            with plain.connection() as c:
                seen.add(c.execute("SHOW statement_timeout").fetchone()["statement_timeout"])
                seen.add(c.execute("SHOW plan_cache_mode").fetchone()["plan_cache_mode"])
        assert seen == {"0", "auto"}
    finally:
        timed.close()
        plain.close()


def test_concurrent_migrations_through_the_pooler_leave_no_lock(bouncer, fresh_db):
    results, errors = [], []

    def run():
        try:
            results.append(migrate(bouncer.dsn(fresh_db)))
        except Exception as exc:  # pragma: no cover - the assertion shows it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(len(r.applied) for r in results) == [0, 0, len(load_migrations())]
    assert pending(bouncer.dsn(fresh_db)) == []
    with connect(fresh_db, autocommit=True) as direct:
        assert advisory_locks(direct, fresh_db) == 0


def test_without_a_listen_url_the_worker_polls_and_says_so_once(bouncer, dsn, caplog):
    conn = connect(dsn, autocommit=True)
    brand = make_brand(conn)
    brand_queries.insert_query(conn, brand.id, "is it good")
    job = make_job(conn, brand, is_active=False, metadata={"collectors": ["sample"]})
    worker = Worker(bouncer.dsn(dsn), pooled_settings(), concurrency=2)
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger="cronkeeper.worker")
    thread = threading.Thread(target=worker.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(1.5)  # settled into its sleep (a 30 s poll interval)
        latencies = []
        for _ in range(3):
            run = jobs.trigger_job(conn, job.id, dt.datetime.now(dt.UTC))
            started = wait_for("the run to start", lambda run=run: conn.execute(
                "SELECT started_at - created_at AS waited FROM job_runs WHERE id = %s AND started_at IS NOT NULL",
                (run.id,)).fetchone(), timeout=10)  # fmt: skip
            latencies.append(started["waited"].total_seconds())
        assert max(latencies) < 2.0, latencies  # the 1 s fallback poll, not the 30 s interval
    finally:
        stop.set()
        thread.join(30)
        worker.close()
        conn.close()
    events = [r.getMessage() for r in caplog.records if r.name == "cronkeeper.worker"]
    assert events.count("notifications_off") == 1
    assert "reconnecting" not in events and "loop_error" not in events


def test_without_a_listen_url_the_scheduler_looks_every_second(bouncer, dsn):
    scheduler = SchedulerLoop(bouncer.dsn(dsn), pooled_settings())
    stop = threading.Event()
    try:
        started = time.monotonic()
        scheduler.wait(30.0, stop)
        assert 0.9 <= time.monotonic() - started < 1.5
        assert scheduler.run_once().jobs == 0  # and ticks through the pooler
    finally:
        scheduler.close()


def test_with_a_listen_url_the_scheduler_wakes_on_a_job_change(bouncer, dsn):
    settings = pooled_settings(listen_url=dsn)
    scheduler = SchedulerLoop(bouncer.dsn(dsn), settings)
    stop = threading.Event()
    conn = connect(dsn, autocommit=True)
    try:
        scheduler.run_once()
        scheduler._listening()  # LISTEN before the change
        timer = threading.Timer(0.3, lambda: make_job(conn))
        timer.start()
        started = time.monotonic()
        scheduler.wait(10.0, stop)
        assert time.monotonic() - started < 2.0
    finally:
        scheduler.close()
        conn.close()
