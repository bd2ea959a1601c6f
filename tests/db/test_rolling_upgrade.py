"""Rolling upgrades (issue 22, item 6): version N runs on schema N+1 when the migration is additive.

A newer release is simulated by a migrations folder holding this code's files
plus one more; migrating with it leaves the database one migration ahead of
the code under test, which plays the older service.
"""

import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cronkeeper import db as db_module
from cronkeeper.db import connect, service_dsn
from cronkeeper.migrate import MIGRATIONS_DIR, ensure_current, load_migrations, migrate
from cronkeeper.schema_compat import ADDITIVE, BREAKING, SchemaIncompatible
from cronkeeper.settings import Settings

BIN = Path(sys.executable).parent
NEXT = load_migrations()[-1].version + 1


def newer_release(tmp_path: Path, header: str, name: str = "newer_feature") -> tuple[Path, str]:
    """A migrations folder of a release one migration ahead: this code's files and ``NNNN_<name>.sql``."""
    folder = tmp_path / "newer"
    shutil.copytree(MIGRATIONS_DIR, folder)
    file_name = f"{NEXT:04d}_{name}.sql"
    (folder / file_name).write_text(f"{header}\n-- a newer release's change\nCREATE TABLE {name} (id int);\n")
    return folder, file_name


def verdicts(conn) -> dict[int, str | None]:
    return {r["version"]: r["compatibility"] for r in conn.execute("SELECT version, compatibility FROM schema_migrations")}


def test_the_migrator_records_each_migrations_verdict(dsn, conn):
    recorded = verdicts(conn)
    assert recorded[1] == BREAKING and recorded[2] == ADDITIVE and recorded[22] == ADDITIVE
    # a table an older migrator made: the column is added and the verdicts filled in
    conn.execute("ALTER TABLE schema_migrations DROP COLUMN compatibility")
    assert migrate(dsn).applied == ()
    assert verdicts(conn) == recorded


def test_a_service_starts_on_a_schema_ahead_by_an_additive_migration(dsn, conn, tmp_path, caplog):
    folder, name = newer_release(tmp_path, "-- compatible: additive")
    assert migrate(dsn, folder).applied == (name,)  # the newer release migrates first
    assert verdicts(conn)[NEXT] == ADDITIVE
    with caplog.at_level(logging.WARNING, logger="cronkeeper.migrate"):
        assert ensure_current(dsn, auto_migrate=True) is None  # the older service starts
        assert migrate(dsn).applied == ()  # and its `cronkeeper migrate` finds nothing to do
    ahead = [r for r in caplog.records if r.getMessage() == "schema_ahead"]
    assert ahead and ahead[0].newer == [name] and ahead[0].known == f"{NEXT - 1:04d}"


@pytest.mark.parametrize("header", ["-- compatible: breaking", "-- (no declaration)"])
def test_a_schema_ahead_by_a_non_additive_migration_is_refused_naming_it(dsn, tmp_path, header):
    folder, name = newer_release(tmp_path, header)
    migrate(dsn, folder)
    with pytest.raises(SchemaIncompatible) as refused:
        ensure_current(dsn, auto_migrate=True)
    assert refused.value.migration == name
    assert f"migration {name} " in str(refused.value) and f"knows migrations up to {NEXT - 1:04d}" in str(refused.value)
    with pytest.raises(SchemaIncompatible):
        migrate(dsn)  # nor may the older release's migrator run on it


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_long_running_service_waits_on_a_too_new_schema_instead_of_exiting(dsn, tmp_path, monkeypatch, caplog):
    folder, name = newer_release(tmp_path, "-- compatible: breaking")
    migrate(dsn, folder)
    monkeypatch.setattr(db_module, "SCHEMA_WAIT_SECONDS", 0.05)
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    with caplog.at_level(logging.ERROR, logger="cronkeeper.worker"):
        assert service_dsn(Settings(database_url=dsn, data_dir=tmp_path), stop, "worker") is None
    timer.cancel()
    refusals = [r for r in caplog.records if r.getMessage() == "schema_incompatible"]
    assert len(refusals) >= 2 and {r.migration for r in refusals} == {name}  # still there, checking again


@pytest.mark.slow  # a worker process
def test_a_one_shot_worker_on_a_too_new_schema_exits_2_naming_the_migration(dsn, tmp_path):
    folder, name = newer_release(tmp_path, "-- compatible: breaking")
    migrate(dsn, folder)
    env = {**os.environ, "DATABASE_URL": dsn, "CRONKEEPER_LOG_LEVEL": "WARNING"}
    env.pop("CRONKEEPER_MIGRATIONS_DIR", None)
    done = subprocess.run([str(BIN / "cronkeeper"), "worker", "--once"], env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"migration {name} is declared breaking" in done.stderr
    with connect(dsn, autocommit=True) as c:  # it changed nothing
        assert c.execute("SELECT count(*) AS n FROM processes").fetchone()["n"] == 0
