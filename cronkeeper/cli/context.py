"""What every command runs with: a connection to a current database, the
time, and service errors named by the option the user typed.

Commands that change data apply missing migrations first when
``CRONKEEPER_AUTO_MIGRATE`` is on (the default); read-only commands
(``read_only=True``: lists, shows, exports) never migrate, and a behind
schema is a one-line error naming the missing migrations either way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import psycopg

from cronkeeper.clock import utcnow
from cronkeeper.db import connect, current_dsn, prepared_dsn
from cronkeeper.errors import CronkeeperError, DatabaseUnavailable
from cronkeeper.settings import Settings


@contextmanager
def database(settings: Settings, *, read_only: bool = False) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a current database (the services open transactions)."""
    try:
        conn = connect(current_dsn(settings) if read_only else prepared_dsn(settings), autocommit=True)
    except (psycopg.OperationalError, DatabaseUnavailable) as exc:
        raise DatabaseUnavailable(" ".join(f"cannot use the database: {exc}".split())) from exc
    with conn:
        yield conn


@contextmanager
def options_named(option_of: Mapping[str, str]) -> Iterator[None]:
    """Name the option in a service error (``--interval``, not ``interval_seconds``)."""
    try:
        yield
    except CronkeeperError as exc:
        option = option_of.get((exc.field or "").split(".")[0])
        if option:
            exc.field = option
        raise


def now() -> dt.datetime:
    return utcnow()
