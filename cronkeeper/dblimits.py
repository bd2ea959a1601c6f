"""Bounded waits on the database: what every connection ``cronkeeper.db`` makes is given.

A connection that hangs without closing (a frozen peer, a paused process, a
lost network path) must cost seconds, not minutes (docs/reliability.md):

- **client side**, libpq parameters (also through a pooler): ``connect_timeout``,
  TCP keepalives (``keepalives_idle``/``keepalives_interval``/``keepalives_count``)
  and ``tcp_user_timeout``;
- **server side**: ``idle_in_transaction_session_timeout`` on every connection
  (a client stopped mid-transaction loses it, and its row locks, so others go on),
  ``statement_timeout`` per process kind (``scheduler``, ``worker``) and
  ``lock_timeout`` for those two loops. Sent as the connection's ``options``
  (``-c name=value``), after which the DSN's own ``options`` still win.
  Behind a transaction pooler nothing may be set per session (and PgBouncer
  refuses ``options``), so a pool of ``BoundedPool`` sets them with ``SET LOCAL``
  in each transaction it hands out; ``ALTER ROLE ... SET`` and PgBouncer's
  ``idle_transaction_timeout`` cover the rest (docs/reliability.md).

Values a DSN sets itself (``connect_timeout=3``, ``keepalives=0``...) are kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from cronkeeper.settings import DbTimeouts

LOCKING_KINDS = ("scheduler", "worker")  # loops that take row locks: they get lock_timeout


def _ms(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"


def client_params(t: DbTimeouts) -> dict[str, int]:
    """libpq's own bounds: they hold through a pooler too."""
    params = {
        "keepalives": 1, "keepalives_idle": round(t.keepalives_idle),
        "keepalives_interval": round(t.keepalives_interval), "keepalives_count": t.keepalives_count,
    }  # fmt: skip
    if t.connect:
        params["connect_timeout"] = max(2, round(t.connect))  # libpq treats 1 as 2
    if t.tcp_user_timeout:
        params["tcp_user_timeout"] = round(t.tcp_user_timeout * 1000)
    return params


def server_settings(t: DbTimeouts, kind: str | None, statement_timeout_ms: int | None = None) -> dict[str, str]:
    """The server settings of a connection of process ``kind``; ``statement_timeout_ms`` overrides the kind's."""
    settings: dict[str, str] = {}
    if t.idle_in_transaction:
        settings["idle_in_transaction_session_timeout"] = _ms(t.idle_in_transaction)
    if statement_timeout_ms is not None:
        settings["statement_timeout"] = f"{int(statement_timeout_ms)}ms"
    elif t.statement(kind):
        settings["statement_timeout"] = _ms(t.statement(kind))
    if kind in LOCKING_KINDS and t.lock:
        settings["lock_timeout"] = _ms(t.lock)
    return settings


def connect_params(
    dsn: str, t: DbTimeouts | None, kind: str | None, *, pooled: bool, statement_timeout_ms: int | None = None
) -> dict[str, object]:
    """Keyword arguments for ``psycopg.connect`` that bound every wait; the DSN's own values win."""
    t = t if t is not None else DbTimeouts.from_env()
    try:
        given = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        given = {}
    params: dict[str, object] = {k: v for k, v in client_params(t).items() if k not in given}
    if given.get("keepalives") in ("0", 0):  # keepalives turned off on purpose: leave them off
        for k in ("keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count"):
            params.pop(k, None)
    if not pooled:
        settings = server_settings(t, kind, statement_timeout_ms)
        own = " ".join(f"-c {name}={value}" for name, value in settings.items())
        theirs = given.get("options") or os.environ.get("PGOPTIONS") or ""
        if own:
            params["options"] = f"{own} {theirs}".strip()
    return params


def set_local(conn: psycopg.Connection, settings: Mapping[str, str]) -> None:
    """``SET LOCAL`` each setting in the current transaction (behind a pooler: nothing per session)."""
    if settings:  # one round trip for all
        call = sql.SQL("set_config({}, {}, true)")
        calls = sql.SQL(", ").join(call.format(sql.Placeholder(), sql.Placeholder()) for _ in settings)
        conn.execute(sql.SQL("SELECT {}").format(calls), [x for item in settings.items() for x in item])


class BoundedPool(ConnectionPool):
    """A pool whose every transaction sets ``local_settings`` first (``SET LOCAL``): behind a pooler.

    ``connection()`` of a connection not in autocommit opens its transaction with
    the settings; they end with it (a ``commit()`` inside the block ends them too).
    """

    local_settings: Mapping[str, str] = {}

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        with super().connection(timeout) as conn:
            if self.local_settings and not conn.autocommit:
                set_local(conn, self.local_settings)
            yield conn
