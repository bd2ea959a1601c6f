"""Per-test databases: a migrated copy of the template, emptied and reused when it is safe.

Copying the template costs the server about 0.5 s per test; emptying a database
a test has finished with (DELETE from every table, sequences restarted) about
0.01 s, where TRUNCATE of its ~40 tables took 0.2 s. So a database given back is reused when, after its sessions are ended,
it is again what a fresh copy would be: the same schema, migrations and
settings, and no planner statistics from an ``ANALYZE`` (compared by a
fingerprint of the catalogs). Otherwise it is dropped and a new copy is made.
One background thread does this work while the next test runs.
"""

from __future__ import annotations

import itertools
import queue
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

# What must match the template's for a database to count as fresh once its rows are gone.
FINGERPRINT = """
SELECT md5(concat_ws('|',
    (SELECT string_agg(format('%s:%s:%s', c.relname, c.relkind, a.attname || ' ' || a.atttypid::regtype
                       || coalesce(' ' || pg_get_expr(d.adbin, d.adrelid), '')), ',' ORDER BY c.relname, a.attnum)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'),
    (SELECT string_agg(pg_get_indexdef(indexrelid), ',' ORDER BY indexrelid::regclass::text) FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public'),
    (SELECT string_agg(pg_get_constraintdef(oid) || conname, ',' ORDER BY conname, oid::text) FROM pg_constraint
      WHERE connamespace = 'public'::regnamespace),
    (SELECT string_agg(p.proname || md5(p.prosrc), ',' ORDER BY p.proname, p.oid::text) FROM pg_proc p
      WHERE p.pronamespace = 'public'::regnamespace),
    (SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal),
    (SELECT string_agg(version || checksum, ',' ORDER BY version) FROM schema_migrations),
    (SELECT string_agg(array_to_string(setconfig, ';'), ',') FROM pg_db_role_setting
      WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())),
    (SELECT count(*) FROM pg_statistic s JOIN pg_class c ON c.oid = s.starelid
      WHERE c.relnamespace = 'public'::regnamespace)
))
"""


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


def fingerprint(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(FINGERPRINT).fetchone()[0]


class DatabaseSupply:
    """Hands out databases equal to a fresh copy of ``template``, reusing emptied ones."""

    def __init__(self, server_dsn: str, template: str, prefix: str) -> None:
        self.server_dsn = server_dsn
        self.template = template
        self._names = (f"{prefix}_{n}" for n in itertools.count())
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
        self._clean: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._next: Future[str] | None = None
        self._expected = fingerprint(with_db(server_dsn, template))
        self.created = self.reused = 0

    def _create(self) -> str:
        name = next(self._names)
        create_database(self.server_dsn, name, self.template)
        self.created += 1
        return name

    def _ready(self) -> str:
        try:
            name = self._clean.get_nowait()
        except queue.Empty:
            return self._create()
        self.reused += 1
        return name

    def take(self) -> str:
        """The name of a database as fresh as a new copy; the caller gives it back when done."""
        ready = self._next or self._thread.submit(self._ready)
        self._next = self._thread.submit(self._ready)
        return ready.result()

    def give_back(self, name: str) -> None:
        self._thread.submit(self._reset_or_drop, name)

    def _reset_or_drop(self, name: str) -> None:
        try:
            self._reset(name)
        except psycopg.Error:
            drop_database(self.server_dsn, name)
            return
        self._clean.put(name)

    def _reset(self, name: str) -> None:
        """End every session on ``name``, check it is still the template's shape, empty it; raise if not."""
        with psycopg.connect(self.server_dsn, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        dsn = with_db(self.server_dsn, name)
        if fingerprint(dsn) != self._expected:
            raise psycopg.DataError(f"{name} differs from the template")
        with psycopg.connect(dsn, autocommit=True) as conn:
            tables = [sql.Identifier(r[0]) for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            )]  # fmt: skip
            # DELETE, not TRUNCATE: on a test's few rows it is ~20x cheaper (TRUNCATE makes new files
            # for every table). Replica role: no foreign-key or other triggers, so any order works.
            conn.execute("SET session_replication_role = replica")
            conn.execute(sql.SQL(" ").join(sql.SQL("DELETE FROM {};").format(t) for t in tables))
            conn.execute(
                "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) FROM pg_sequences"
                " WHERE schemaname = 'public' AND last_value IS NOT NULL"
            )
            left = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                                (name,)).fetchone()[0]  # fmt: skip
            if left:  # a session came back while we emptied it (a pool reconnecting): not safe to reuse
                raise psycopg.DataError(f"{name} still has {left} sessions")

    def close(self) -> None:
        """Drop every database this supply made and wait until they are gone."""
        if self._next is not None:
            self.give_back(self._next.result())
        self._thread.shutdown(wait=True)
        while not self._clean.empty():
            drop_database(self.server_dsn, self._clean.get_nowait())
