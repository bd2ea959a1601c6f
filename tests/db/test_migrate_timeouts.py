"""Migrations set their own timeouts: a provider's 2 s ``statement_timeout`` neither kills a
migration nor makes a migrator waiting for another exit with ``QueryCanceled``."""

from __future__ import annotations

import logging
import shutil
import threading
import time

import psycopg
import pytest

from cronkeeper.migrate import LOCK_KEY, MIGRATIONS_DIR, load_migrations, migrate, pending

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def strict_db(fresh_db):
    """A database whose default ``statement_timeout`` is 2 s, as some providers set it."""
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute(f'ALTER DATABASE "{dbname}" SET statement_timeout = \'2s\'')
    with psycopg.connect(fresh_db) as c:
        assert c.execute("SHOW statement_timeout").fetchone()[0] == "2s"
    return fresh_db


def hold_the_lock(dsn: str, seconds: float, holding: threading.Event) -> threading.Thread:
    def run():
        with psycopg.connect(dsn) as c:
            c.execute("SET statement_timeout = 0")
            c.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            holding.set()
            time.sleep(seconds)
            c.rollback()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert holding.wait(10)
    return t


@pytest.mark.slow  # a few seconds: the full suite only
def test_a_slow_migration_outlives_the_providers_statement_timeout(strict_db, tmp_path):
    for m in load_migrations():
        shutil.copy(MIGRATIONS_DIR / m.name, tmp_path / m.name)
    n = len(load_migrations())
    (tmp_path / f"{n + 1:04d}_slow.sql").write_text("SELECT pg_sleep(2.5); CREATE TABLE slow_done (id int);")
    result = migrate(strict_db, tmp_path)
    assert result.applied[-1] == f"{n + 1:04d}_slow.sql"
    with psycopg.connect(strict_db) as c:
        assert c.execute("SELECT to_regclass('slow_done') IS NOT NULL").fetchone()[0]


@pytest.mark.slow  # a few seconds: the full suite only
def test_a_migrator_waits_for_another_past_the_timeouts_then_finds_its_work(strict_db, caplog):
    caplog.set_level(logging.WARNING, logger="cronkeeper.migrate")
    holder = hold_the_lock(strict_db, 6.5, threading.Event())  # longer than statement_timeout and lock_timeout
    started = time.monotonic()
    result = migrate(strict_db)
    waited = time.monotonic() - started
    holder.join()
    assert 6.0 < waited < 12.0
    assert len(result.applied) == len(load_migrations()) and pending(strict_db) == []
    waits = [r for r in caplog.records if r.getMessage() == "migration_waiting"]
    assert len(waits) == 1 and "lock timeout" in waits[0].error


@pytest.mark.slow  # a few seconds: the full suite only
def test_a_migrator_gives_up_with_a_message_after_its_wait(strict_db):
    holder = hold_the_lock(strict_db, 8, threading.Event())
    with pytest.raises(Exception, match=r"gave up after 1 s waiting for the migration lock") as caught:
        migrate(strict_db, wait_seconds=1)
    holder.join()
    assert type(caught.value).__name__ == "MigrationError"
    assert pending(strict_db) == [m.name for m in load_migrations()]  # nothing half-done
