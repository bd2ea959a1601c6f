"""Rolling upgrades: may this code run on a database that a newer cronkeeper has migrated?

Every migration declares whether code that predates it keeps working once it
is applied:

- ``additive``: new tables, nullable columns or columns with defaults, new
  indexes, functions and views, looser constraints. Older code never reads or
  writes what it does not know, and what it writes stays valid.
- ``breaking``: anything else (a dropped or renamed column, a tighter
  constraint, a changed meaning). Older code must not run on it.

A migration declares it in its first comment lines (``-- compatible: additive``
or ``-- compatible: breaking``); ``DECLARED`` holds the verdicts of the files
written before that line existed. The migrator records each verdict in
``schema_migrations.compatibility`` as it applies the file, because a service
of version N never has the files of N+1: all it can read is what the database
says about them.

At start-up (``cronkeeper.migrate.ensure_current``) a service whose code knows
migrations up to K, on a database at K+m, starts when all m are recorded
``additive`` (logging ``schema_ahead``), and otherwise raises
``SchemaIncompatible`` naming the first migration that is not; long-running
services then wait rather than exit (``cronkeeper.db.service_dsn``), so no
process manager restart-loops them (docs/reliability.md, "Rolling upgrades").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from cronkeeper.errors import MigrationError

ADDITIVE = "additive"
BREAKING = "breaking"
VERDICTS = (ADDITIVE, BREAKING)
log = logging.getLogger("cronkeeper.migrate")

# The files written before migrations declared themselves. 0001 creates the schema:
# no code older than it exists. The others add tables, columns with defaults or
# nullable, indexes, functions and views, or loosen a constraint (0018, 0019).
DECLARED: dict[int, str] = {1: BREAKING, **{v: ADDITIVE for v in range(2, 22)}}

_HEADER = re.compile(r"^--\s*compatible\s*:\s*([a-z]+)\s*$", re.MULTILINE | re.IGNORECASE)
HEADER_LINES = 10  # the declaration must be among a file's first lines


def declared(version: int, sql: str) -> str | None:
    """The migration's verdict: its header's, else ``DECLARED``'s, else None (undeclared: treated as breaking).

    Raises ``MigrationError`` for a header that names neither verdict."""
    head = "\n".join(sql.splitlines()[:HEADER_LINES])
    match = _HEADER.search(head)
    if match:
        verdict = match.group(1).lower()
        if verdict not in VERDICTS:
            raise MigrationError(
                f"migration {version:04d} declares 'compatible: {verdict}'; use 'additive' or 'breaking'"
            )
        return verdict
    return DECLARED.get(version)


class SchemaIncompatible(MigrationError):
    """The database holds a migration newer than this code that is not declared additive."""

    def __init__(self, name: str, verdict: str | None, known: int) -> None:
        self.migration, self.verdict, self.known = name, verdict, known
        why = "is declared breaking" if verdict == BREAKING else "does not declare itself additive"
        super().__init__(
            f"the database schema is newer than this cronkeeper (which knows migrations up to {known:04d}): "
            f"migration {name} {why}, so this version cannot run on it; run the release that ships "
            f"{name} (docs/reliability.md, rolling upgrades)"
        )


def has_column(conn: Any) -> bool:
    """Whether ``schema_migrations`` records verdicts (a migrator of this version has run)."""
    row = conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'schema_migrations' AND column_name = 'compatibility'"
    ).fetchone()
    return row is not None


def check_ahead(conn: Any, known: int) -> list[str]:
    """The applied migrations newer than ``known`` (this code's last), oldest first, when all are additive.

    Raises ``SchemaIncompatible`` naming the first one that is not (breaking, or
    recorded without a verdict by an older migrator). Only reads."""
    column = "compatibility" if has_column(conn) else "NULL"
    rows = conn.execute(
        f"SELECT version, name, {column} AS compatibility FROM schema_migrations WHERE version > %s ORDER BY version",
        (known,),
    ).fetchall()
    for row in rows:
        version, name, verdict = _fields(row)
        if verdict != ADDITIVE:
            raise SchemaIncompatible(name, verdict, known)
    return [_fields(row)[1] for row in rows]


def warn_ahead(names: Sequence[str], known: int) -> None:
    if names:
        log.warning("schema_ahead", extra={"known": f"{known:04d}", "newer": list(names)})


def _fields(row: Any) -> tuple[int, str, str | None]:
    if isinstance(row, dict):
        return row["version"], row["name"], row["compatibility"]
    return row[0], row[1], row[2]
