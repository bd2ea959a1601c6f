"""Process settings, read once from the environment and validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

from cronkeeper.errors import ConfigurationError


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


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    value = _number(env, name, default, minimum)
    if value != int(value):
        raise ConfigurationError(f"{name} must be a whole number, got {env.get(name)!r}", field=name)
    return int(value)


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
    shutdown_grace_seconds: float = 30.0
    pool_max_size: int = 10
    retention_days: float = 90.0  # finished runs older than this are pruned; 0 keeps them
    retention_runs_per_job: int = 1000  # newest finished runs kept per job; 0 keeps all
    retention_batch_size: int = 500  # runs deleted per statement
    retention_interval_seconds: float = 300.0  # how often the scheduler prunes
    log_level: str = "INFO"
    log_format: str = "json"
    export_root: Path | None = None  # where auto-exports may write; None: data_dir / "exports"

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
            shutdown_grace_seconds=_number(env, "CRONKEEPER_SHUTDOWN_GRACE_SECONDS", 30.0, 0),
            pool_max_size=_int(env, "CRONKEEPER_POOL_MAX_SIZE", 10, 1),
            retention_days=_number(env, "CRONKEEPER_RETENTION_DAYS", 90.0, 0),
            retention_runs_per_job=_int(env, "CRONKEEPER_RETENTION_RUNS_PER_JOB", 1000, 0),
            retention_batch_size=_int(env, "CRONKEEPER_RETENTION_BATCH_SIZE", 500, 1),
            retention_interval_seconds=_number(env, "CRONKEEPER_RETENTION_INTERVAL_SECONDS", 300.0, 1),
            log_level=env.get("CRONKEEPER_LOG_LEVEL", "INFO").upper(),
            log_format=log_format,
            export_root=Path(export_root).expanduser() if export_root else None,
        )
