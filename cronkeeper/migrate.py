"""Apply the numbered SQL files of ``sql/migrations`` in order.

The files ship inside the package (``cronkeeper.sql``, the checkout's ``sql/``
folder), so an installed wheel migrates exactly like a checkout.

Each file runs in its own transaction, while a transaction of a second
connection holds a transaction-scoped advisory lock (``pg_advisory_xact_lock``),
so two migrators at once are safe (the second waits, then finds nothing to do)
and the lock cannot outlive its transaction, even through PgBouncer in
transaction mode. Every transaction sets its own ``statement_timeout`` (a
provider's 2 s default must not kill a migration) and ``lock_timeout`` (a
migration waiting for a busy table or for another migrator gives up after a
few seconds, rolls back and tries again until ``wait_seconds``: it never
queues every query behind it for long).
Applied files are recorded in ``schema_migrations`` with a SHA-256 checksum;
if an applied file was edited afterwards, migrating refuses to run.

``pending`` only reads (no lock, no DDL): services check it first and migrate
only when something is missing, so a role without DDL rights starts on a
current schema; ``require_current`` raises ``SchemaBehind`` naming what is missing.

Each migration declares whether older code survives it (``-- compatible:
additive`` or ``breaking``, ``cronkeeper.schema_compat``); the verdict is kept
in ``schema_migrations.compatibility`` so that an older service, which lacks
the newer files, can tell whether it may run on the newer schema.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import errors as pg_errors

from cronkeeper import schema_compat
from cronkeeper.errors import MigrationError

MIGRATIONS_DIR = Path(
    os.environ.get("CRONKEEPER_MIGRATIONS_DIR") or str(importlib.resources.files("cronkeeper.sql") / "migrations")
)
LOCK_KEY = 0x63726F6E6B  # "cronk": one advisory lock id for all migrators
LOCK_TIMEOUT = "5s"  # one wait for the migration lock or a table lock; then roll back and try again
STATEMENT_TIMEOUT = "1h"  # a migration's own bound, whatever the role's or the provider's default
WAIT_SECONDS = 600.0  # how long migrate keeps trying while another migrator or a busy table holds it up
MIGRATE_COMMAND = "cronkeeper migrate"
log = logging.getLogger("cronkeeper.migrate")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class SchemaBehind(MigrationError):
    """The database schema is older than this cronkeeper."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = list(missing)
        super().__init__(
            f"the database schema is behind: {len(missing)} migration(s) not applied "
            f"({', '.join(missing)}); run `{MIGRATE_COMMAND}` with the role that owns the schema "
            "(docs/deploy.md), or set CRONKEEPER_AUTO_MIGRATE=on to let this process apply them"
        )


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def compatibility(self) -> str | None:
        """``additive``, ``breaking`` or None (undeclared): ``cronkeeper.schema_compat``."""
        return schema_compat.declared(self.version, self.sql)


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
    applied_at  timestamptz NOT NULL DEFAULT now(),
    compatibility text
)
"""
# added by this version's migrator to a table an older one made (cronkeeper.schema_compat)
_ADD_COMPATIBILITY = "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS compatibility text"


def _connect(dsn: str, *, autocommit: bool) -> psycopg.Connection:
    # prepare_threshold=None: no server-side prepared statements (safe through any pooler)
    return psycopg.connect(dsn, autocommit=autocommit, prepare_threshold=None)


def migrate(
    dsn: str,
    directory: Path = MIGRATIONS_DIR,
    *,
    wait_seconds: float = WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> MigrateResult:
    """Apply the missing migrations, each in its own transaction; refuse if an applied one was edited.

    The advisory lock is held by a transaction of a second connection for the
    whole run (``pg_advisory_xact_lock``: released when that transaction ends,
    or the connection drops, never left behind). Waits (``lock_timeout`` per
    try, retried up to ``wait_seconds``) while another migrator runs or a table
    is busy; a role without the rights to change the schema gets a
    ``MigrationError`` saying so.
    """
    migrations = load_migrations(directory)
    deadline = time.monotonic() + wait_seconds
    with _connect(dsn, autocommit=False) as guard, _connect(dsn, autocommit=True) as conn:
        _retrying(lambda: _lock(guard), guard, deadline, sleep, wait_seconds)
        try:
            return _apply(conn, migrations, directory, lambda step: _retrying(step, None, deadline, sleep, wait_seconds))
        finally:
            guard.rollback()  # ends the transaction: the lock goes with it


def _timeouts(conn: psycopg.Connection) -> None:
    """This transaction's own limits, whatever the role's defaults (``SET LOCAL``)."""
    for name, value in (("lock_timeout", LOCK_TIMEOUT), ("statement_timeout", STATEMENT_TIMEOUT),
                        ("idle_in_transaction_session_timeout", "0"), ("client_min_messages", "warning")):  # fmt: skip
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))


def _lock(guard: psycopg.Connection) -> None:
    _timeouts(guard)
    guard.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))


def _retrying(step, conn, deadline: float, sleep: Callable[[float], None], wait_seconds: float):
    """Run ``step`` until it gets its locks (rolling ``conn`` back between tries) or ``deadline`` passes."""
    while True:
        try:
            return step()
        except pg_errors.LockNotAvailable as exc:
            if conn is not None:
                conn.rollback()
            if time.monotonic() >= deadline:
                raise MigrationError(
                    f"gave up after {wait_seconds:.0f} s waiting for the migration lock or a table lock "
                    f"(another `{MIGRATE_COMMAND}` running, or a long transaction): {str(exc).strip()}"
                ) from exc
            log.warning("migration_waiting", extra={"error": str(exc).strip(), "retry_in": 1.0})
            sleep(1.0)


def _apply(
    conn: psycopg.Connection, migrations: list[Migration], directory: Path, retrying: Callable
) -> MigrateResult:
    def in_transaction(statement: str | bytes, name: str, record: Migration | None = None) -> None:
        with conn.transaction():
            _timeouts(conn)
            _run(conn, statement, name)
            if record is not None:
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, compatibility) VALUES (%s, %s, %s, %s)",
                    (record.version, record.name, record.checksum, record.compatibility),
                )

    if not _table_exists(conn):
        retrying(lambda: in_transaction(_CREATE, "schema_migrations"))
    elif not schema_compat.has_column(conn):
        retrying(lambda: in_transaction(_ADD_COMPATIBILITY, "schema_migrations"))
    rows = conn.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
    applied = {version: (name, checksum) for version, name, checksum in rows}
    known = {m.version for m in migrations}
    last = max(known)
    for version, (name, _) in applied.items():
        if version not in known and version < last:
            raise MigrationError(f"applied migration {name} is missing from {directory}")
    schema_compat.warn_ahead(schema_compat.check_ahead(conn, last), last)  # a newer schema: additive, or refuse
    for migration in migrations:
        if migration.version in applied and applied[migration.version][1] != migration.checksum:
            raise MigrationError(
                f"migration {migration.name} was edited after it was applied "
                "(checksum differs); add a new migration instead"
            )
    done = []
    for migration in migrations:
        if migration.version not in applied:
            retrying(lambda m=migration: in_transaction(m.sql.encode(), m.name, m))
            done.append(migration.name)
    _record_verdicts(conn, [m for m in migrations if m.version in applied])
    return MigrateResult(applied=tuple(done), already=len(applied))


def _record_verdicts(conn: psycopg.Connection, migrations: list[Migration]) -> None:
    """Fill in the verdicts of migrations an older migrator applied without one (one statement)."""
    pairs = [(m.version, m.compatibility) for m in migrations if m.compatibility]
    if pairs:
        conn.execute(
            "UPDATE schema_migrations s SET compatibility = v.c FROM unnest(%s::int[], %s::text[]) AS v(n, c) "
            "WHERE s.version = v.n AND s.compatibility IS NULL",
            ([p[0] for p in pairs], [p[1] for p in pairs]),
        )


def _run(conn: psycopg.Connection, statement: str | bytes, name: str) -> None:
    try:
        conn.execute(statement)
    except pg_errors.LockNotAvailable:
        raise  # a busy table: migrate() rolls back and tries again
    except pg_errors.InsufficientPrivilege as exc:
        raise MigrationError(
            f"migration {name} failed: the role {conn.info.user!r} may not change the schema "
            f"({str(exc).strip()}); run `{MIGRATE_COMMAND}` with the role that owns the schema "
            "and start the services with CRONKEEPER_AUTO_MIGRATE=off (docs/deploy.md)"
        ) from exc
    except psycopg.Error as exc:
        raise MigrationError(f"migration {name} failed: {str(exc).strip()}") from exc


def _table_exists(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]


def pending(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Names of migrations not yet applied; only reads (health checks, start-up checks)."""
    return _pending_and_ahead(dsn, directory, check=False)[0]


def _pending_and_ahead(dsn: str, directory: Path, *, check: bool) -> tuple[list[str], list[str]]:
    """Migrations not applied, and (``check``) applied ones newer than this code: all additive, or
    ``SchemaIncompatible``. One connection, reads only."""
    migrations = load_migrations(directory)
    ahead: list[str] = []
    with _connect(dsn, autocommit=True) as conn:
        versions = set()
        if _table_exists(conn):
            versions = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            if check and versions and max(versions) > migrations[-1].version:
                ahead = schema_compat.check_ahead(conn, migrations[-1].version)
                schema_compat.warn_ahead(ahead, migrations[-1].version)
    return [m.name for m in migrations if m.version not in versions], ahead


def require_current(dsn: str, directory: Path = MIGRATIONS_DIR) -> None:
    """Raise ``SchemaBehind`` naming the missing migrations, if any (never changes anything)."""
    missing = pending(dsn, directory)
    if missing:
        raise SchemaBehind(missing)


def ensure_current(dsn: str, *, auto_migrate: bool, directory: Path = MIGRATIONS_DIR) -> MigrateResult | None:
    """At start-up: nothing when the schema is current; else migrate (``auto_migrate``) or raise ``SchemaBehind``.

    Checks first without a lock, so a current schema costs one read and no DDL
    right is needed; migrating re-checks under the lock. A schema newer than this
    code (a rolling upgrade) is fine when every newer migration is recorded
    additive (``schema_ahead`` is logged), else ``SchemaIncompatible`` names the
    first that is not (``cronkeeper.schema_compat``).
    """
    missing, _ = _pending_and_ahead(dsn, directory, check=True)
    if not missing:
        return None
    if not auto_migrate:
        raise SchemaBehind(missing)
    return migrate(dsn, directory)
