"""Process settings, read once from the environment and validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

from cronkeeper.errors import ConfigurationError

POOLER_MODES = ("none", "transaction")
# one of POOLER_MODES: "transaction" when the DSN goes through PgBouncer (or any
# pooler) in transaction mode; read here and by every connection cronkeeper.db makes
POOLER_VAR = "CRONKEEPER_DB_POOLER"
_TRUE, _FALSE = ("1", "on", "yes", "true"), ("0", "off", "no", "false")


def pooler_mode(env: Mapping[str, str] | None = None) -> str:
    """``CRONKEEPER_DB_POOLER``: ``none`` (default) or ``transaction``; anything else is an error."""
    env = os.environ if env is None else env
    mode = (env.get(POOLER_VAR) or "none").strip().lower()
    if mode not in POOLER_MODES:
        raise ConfigurationError(
            f"{POOLER_VAR} must be one of {', '.join(POOLER_MODES)}, got {env.get(POOLER_VAR)!r}", field=POOLER_VAR
        )
    return mode


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be on or off (1/0, true/false), got {env.get(name)!r}", field=name)


def _default_data_dir() -> Path:
    return Path(user_data_dir("cronkeeper", appauthor=False))


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}", field=name) from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {raw!r}", field=name)
    return value


def _isolation(env: Mapping[str, str]) -> str:
    value = env.get("CRONKEEPER_WORKER_ISOLATION", "thread").strip().lower() or "thread"
    if value not in ("thread", "process"):
        raise ConfigurationError(
            f"CRONKEEPER_WORKER_ISOLATION must be 'thread' or 'process', got {value!r}",
            field="CRONKEEPER_WORKER_ISOLATION",
        )
    return value


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    value = _number(env, name, default, minimum)
    if value != int(value):
        raise ConfigurationError(f"{name} must be a whole number, got {env.get(name)!r}", field=name)
    return int(value)


@dataclass(frozen=True)
class DbTimeouts:
    """Bounds on every wait on the database (docs/reliability.md). Seconds; 0 turns one off.

    Client side (libpq, also through a pooler): ``connect`` (connect_timeout),
    TCP keepalives (``keepalives_idle``/``_interval``/``_count``: a peer that
    vanished is noticed after idle + interval * count) and ``tcp_user_timeout``
    (data unacknowledged that long drops the connection). Server side (options
    of each connection, or ``SET LOCAL`` per transaction behind a pooler):
    ``idle_in_transaction`` (a client that stops mid-transaction loses it and
    its locks), ``statement`` per process kind, ``lock`` (a wait for a row or
    table lock) for the scheduler and the workers.
    """

    connect: float = 10.0
    keepalives_idle: float = 30.0
    keepalives_interval: float = 10.0
    keepalives_count: int = 3
    tcp_user_timeout: float = 30.0
    idle_in_transaction: float = 10.0
    lock: float = 5.0
    statement_scheduler: float = 60.0
    statement_worker: float = 300.0

    def statement(self, kind: str | None) -> float:
        """The statement timeout of a process ``kind`` (``scheduler``, ``worker``); 0 (none) for others."""
        return {"scheduler": self.statement_scheduler, "worker": self.statement_worker}.get(kind or "", 0.0)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DbTimeouts:
        env = os.environ if env is None else env
        return cls(
            connect=_number(env, "CRONKEEPER_DB_CONNECT_TIMEOUT", 10.0, 0),
            keepalives_idle=_number(env, "CRONKEEPER_DB_KEEPALIVES_IDLE", 30.0, 1),
            keepalives_interval=_number(env, "CRONKEEPER_DB_KEEPALIVES_INTERVAL", 10.0, 1),
            keepalives_count=_int(env, "CRONKEEPER_DB_KEEPALIVES_COUNT", 3, 1),
            tcp_user_timeout=_number(env, "CRONKEEPER_DB_TCP_USER_TIMEOUT", 30.0, 0),
            idle_in_transaction=_number(env, "CRONKEEPER_DB_IDLE_IN_TX_TIMEOUT", 10.0, 0),
            lock=_number(env, "CRONKEEPER_DB_LOCK_TIMEOUT", 5.0, 0),
            statement_scheduler=_number(env, "CRONKEEPER_DB_STATEMENT_TIMEOUT_SCHEDULER", 60.0, 0),
            statement_worker=_number(env, "CRONKEEPER_DB_STATEMENT_TIMEOUT_WORKER", 300.0, 0),
        )


@dataclass(frozen=True)
class Settings:
    """Everything a cronkeeper process reads from its environment."""

    database_url: str | None
    data_dir: Path
    scheduler_poll_seconds: float = 60.0
    scheduler_batch_size: int = 1000
    misfire_grace_seconds: float = 120.0
    max_catchup_runs: int = 100
    worker_poll_seconds: float = 30.0
    worker_concurrency: int = 4
    lease_seconds: float = 60.0
    shutdown_grace_seconds: float = 25.0  # below Kubernetes' default 30 s termination period
    pool_max_size: int = 10
    retention_days: float = 90.0  # finished runs older than this are pruned; 0 keeps them
    retention_runs_per_job: int = 1000  # newest finished runs kept per job; 0 keeps all
    retention_batch_size: int = 500  # runs deleted per statement
    retention_interval_seconds: float = 300.0  # how often the scheduler prunes
    log_level: str = "INFO"
    log_format: str = "json"
    export_root: Path | None = None  # where auto-exports may write; None: data_dir / "exports"
    db_pooler: str = "none"  # "transaction": the DSN goes through PgBouncer in transaction mode (docs/deploy.md)
    listen_url: str | None = None  # a direct DSN for LISTEN (needed behind a pooler for instant wake-ups)
    auto_migrate: bool = True  # services apply missing migrations at start (off: they refuse a behind schema)
    db_timeouts: DbTimeouts = DbTimeouts()  # bounded waits on the database (docs/reliability.md)
    max_clock_skew_seconds: float = 2.0  # a process clock further from the database's is logged (clock_skew)
    handler_grace_seconds: float = 10.0  # past its timeout + this, a handler that did not stop is abandoned
    worker_max_rss_mb: float = 0.0  # the worker recycles itself (exit 75) above this resident size; 0: never
    worker_max_runs: int = 0  # ... or after this many runs; 0: never
    worker_isolation: str = "thread"  # "process": each run's handler in a child process (services/worker/isolation.py)

    @property
    def pooled(self) -> bool:
        """True when connections go through a pooler in transaction mode."""
        return self.db_pooler == "transaction"

    @property
    def exports_dir(self) -> Path:
        """The directory auto-exports are confined to (relative output paths start here)."""
        return self.export_root if self.export_root is not None else self.data_dir / "exports"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate settings; errors name the variable at fault."""
        env = os.environ if env is None else env
        data_dir = env.get("CRONKEEPER_DATA_DIR")
        export_root = env.get("CRONKEEPER_EXPORT_ROOT")
        log_format = env.get("CRONKEEPER_LOG_FORMAT", "json")
        if log_format not in ("json", "text"):
            raise ConfigurationError(
                f"CRONKEEPER_LOG_FORMAT must be 'json' or 'text', got {log_format!r}",
                field="CRONKEEPER_LOG_FORMAT",
            )
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(data_dir).expanduser() if data_dir else _default_data_dir(),
            scheduler_poll_seconds=_number(env, "CRONKEEPER_SCHEDULER_POLL_SECONDS", 60.0, 0.05),
            scheduler_batch_size=_int(env, "CRONKEEPER_SCHEDULER_BATCH_SIZE", 1000, 1),
            misfire_grace_seconds=_number(env, "CRONKEEPER_MISFIRE_GRACE_SECONDS", 120.0, 0),
            max_catchup_runs=_int(env, "CRONKEEPER_MAX_CATCHUP_RUNS", 100, 1),
            worker_poll_seconds=_number(env, "CRONKEEPER_WORKER_POLL_SECONDS", 30.0, 0.05),
            worker_concurrency=_int(env, "CRONKEEPER_WORKER_CONCURRENCY", 4, 1),
            lease_seconds=_number(env, "CRONKEEPER_LEASE_SECONDS", 60.0, 1),
            shutdown_grace_seconds=_number(env, "CRONKEEPER_SHUTDOWN_GRACE_SECONDS", 25.0, 0),
            pool_max_size=_int(env, "CRONKEEPER_POOL_MAX_SIZE", 10, 1),
            retention_days=_number(env, "CRONKEEPER_RETENTION_DAYS", 90.0, 0),
            retention_runs_per_job=_int(env, "CRONKEEPER_RETENTION_RUNS_PER_JOB", 1000, 0),
            retention_batch_size=_int(env, "CRONKEEPER_RETENTION_BATCH_SIZE", 500, 1),
            retention_interval_seconds=_number(env, "CRONKEEPER_RETENTION_INTERVAL_SECONDS", 300.0, 1),
            log_level=env.get("CRONKEEPER_LOG_LEVEL", "INFO").upper(),
            log_format=log_format,
            export_root=Path(export_root).expanduser() if export_root else None,
            db_pooler=pooler_mode(env),
            listen_url=env.get("CRONKEEPER_LISTEN_URL") or None,
            auto_migrate=_flag(env, "CRONKEEPER_AUTO_MIGRATE", True),
            db_timeouts=DbTimeouts.from_env(env),
            max_clock_skew_seconds=_number(env, "CRONKEEPER_MAX_CLOCK_SKEW_SECONDS", 2.0, 0),
            handler_grace_seconds=_number(env, "CRONKEEPER_HANDLER_GRACE_SECONDS", 10.0, 0),
            worker_max_rss_mb=_number(env, "CRONKEEPER_WORKER_MAX_RSS_MB", 0.0, 0),
            worker_max_runs=_int(env, "CRONKEEPER_WORKER_MAX_RUNS", 0, 0),
            worker_isolation=_isolation(env),
        )
