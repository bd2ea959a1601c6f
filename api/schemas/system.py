"""The system overview and the health check."""

from __future__ import annotations

import datetime as dt
from typing import Any

from msgspec import Struct


class ProcessOut(Struct, kw_only=True):
    id: str
    kind: str
    hostname: str
    pid: int
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    seconds_since_heartbeat: float
    info: dict[str, Any]


class SystemOut(Struct, kw_only=True):
    now: dt.datetime
    processes: list[ProcessOut]
    queue_depth: dict[str, int]
    oldest_pending_run_at: dt.datetime | None
    oldest_pending_age_seconds: float | None
    due_jobs: int
    oldest_due_next_run_at: dt.datetime | None
    scheduler_lag_seconds: float | None


class HealthOut(Struct, kw_only=True):
    status: str
    database: bool
    scheduler_last_seen: dt.datetime | None
    scheduler_recent: bool
    checked_at: dt.datetime
