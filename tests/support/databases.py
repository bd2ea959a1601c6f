"""Per-test databases copied from a migrated template, made one test ahead.

Copying the template is the server's work (about 0.1 s of its CPU per copy)
while a test is mostly the client's, so one background thread keeps the next
test's database ready and drops finished ones: each test still gets its own
copy, but rarely waits for it.
"""

from __future__ import annotations

import itertools
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo


def with_db(dsn: str, dbname: str) -> str:
    return make_conninfo(dsn, dbname=dbname)


def create_database(server_dsn: str, name: str, template: str | None = None) -> None:
    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(query)


def drop_database(server_dsn: str, name: str) -> None:
    # FORCE: a test may leave a pool or a server thread connected
    query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(query)


class DatabaseSupply:
    """Hands out fresh copies of ``template``, creating the next one in the background."""

    def __init__(self, server_dsn: str, template: str, prefix: str) -> None:
        self.server_dsn = server_dsn
        self.template = template
        self._names = (f"{prefix}_{n}" for n in itertools.count())
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
        self._next: Future[str] | None = None

    def _create(self) -> str:
        name = next(self._names)
        create_database(self.server_dsn, name, self.template)
        return name

    def take(self) -> str:
        """The name of a new copy of the template; the caller gives it back when done."""
        ready = self._next or self._thread.submit(self._create)
        self._next = self._thread.submit(self._create)
        return ready.result()

    def give_back(self, name: str) -> None:
        self._thread.submit(drop_database, self.server_dsn, name)

    def close(self) -> None:
        """Drop the spare copy and wait until every dropped copy is gone."""
        if self._next is not None:
            self.give_back(self._next.result())
        self._thread.shutdown(wait=True)
