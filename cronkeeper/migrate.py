"""Apply the numbered SQL files of ``sql/migrations`` in order.

The files ship inside the package (``cronkeeper.sql``, the checkout's ``sql/``
folder), so an installed wheel migrates exactly like a checkout.

Each file runs in its own transaction, under a session advisory lock so that
two migrators at once are safe (the second waits, then finds nothing to do).
Applied files are recorded in ``schema_migrations`` with a SHA-256 checksum;
if an applied file was edited afterwards, migrating refuses to run.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from cronkeeper.errors import MigrationError

MIGRATIONS_DIR = Path(
    os.environ.get("CRONKEEPER_MIGRATIONS_DIR") or str(importlib.resources.files("cronkeeper.sql") / "migrations")
)
LOCK_KEY = 0x63726F6E6B  # "cronk": one advisory lock id for all migrators
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class MigrateResult:
    applied: tuple[str, ...]
    already: int


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; odd names or gaps are errors."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"bad migration file name {path.name!r} (want NNNN_name.sql)")
        found.append(Migration(int(match.group(1)), path.name, path.read_text()))
    if not found:
        raise MigrationError(
            f"no migrations found in {directory}: the installation is incomplete "
            "(reinstall cronkeeper, or unset CRONKEEPER_MIGRATIONS_DIR)"
        )
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration {migration.name} is out of sequence (expected {expected:04d})")
    return found


_CREATE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


def migrate(dsn: str, directory: Path = MIGRATIONS_DIR) -> MigrateResult:
    """Apply the missing migrations; refuse if an applied one was edited."""
    migrations = load_migrations(directory)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET client_min_messages = warning")
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            return _apply(conn, migrations)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def _apply(conn: psycopg.Connection, migrations: list[Migration]) -> MigrateResult:
    conn.execute(_CREATE)
    rows = conn.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
    applied = {version: (name, checksum) for version, name, checksum in rows}
    known = {m.version for m in migrations}
    for version, (name, _) in applied.items():
        if version not in known:
            raise MigrationError(f"applied migration {name} is missing from {MIGRATIONS_DIR}")
    for migration in migrations:
        if migration.version in applied and applied[migration.version][1] != migration.checksum:
            raise MigrationError(
                f"migration {migration.name} was edited after it was applied "
                "(checksum differs); add a new migration instead"
            )
    done = []
    for migration in migrations:
        if migration.version in applied:
            continue
        try:
            with conn.transaction():
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
        except psycopg.Error as exc:
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
        done.append(migration.name)
    return MigrateResult(applied=tuple(done), already=len(applied))


def pending(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Names of migrations not yet applied (for health checks)."""
    migrations = load_migrations(directory)
    with psycopg.connect(dsn) as conn:
        exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
        versions = set()
        if exists:
            versions = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
    return [m.name for m in migrations if m.version not in versions]
