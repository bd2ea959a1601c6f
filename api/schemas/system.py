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
    due_jobs: int  # at most count_cap: then due_jobs_capped (there are more)
    oldest_due_next_run_at: dt.datetime | None
    scheduler_lag_seconds: float | None
    # the newest heartbeat of each kind of process, stopped ones included (whether one is missing)
    last_seen: dict[str, dt.datetime] = {}
    # due_jobs and each queue_depth count at most this many (their cost stays bounded under a backlog)
    count_cap: int = 10_000
    due_jobs_capped: bool = False
    queue_depth_capped: list[str] = []  # the statuses of queue_depth that have more than count_cap runs


class CollectorStatOut(Struct, kw_only=True):
    collector: str
    ok: int  # calls answered
    failed: int  # calls that failed
    success_rate: float | None  # ok / (ok + failed); None without calls
    runs: int  # runs that called it
    answers: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None


class CollectorStatsOut(Struct, kw_only=True):
    now: dt.datetime
    since: dt.datetime
    runs_read: int  # runs finished since ``since`` that were read (the newest, at most ``runs_max``)
    runs_max: int
    collectors: list[CollectorStatOut]


class HealthOut(Struct, kw_only=True):
    status: str
    database: bool
    scheduler_last_seen: dt.datetime | None
    scheduler_recent: bool
    checked_at: dt.datetime


class LiveOut(Struct, kw_only=True):
    status: str  # always "ok": the process answers


class ReadyOut(Struct, kw_only=True):
    status: str  # "ready" or "not_ready"
    database: bool
    migrations_current: bool | None  # None when the database could not be asked
    missing_migrations: list[str]
    reason: str | None
    checked_at: dt.datetime


class TickRunOut(Struct, kw_only=True):
    id: int
    job_id: str
    scheduled_for: dt.datetime
    run_after: dt.datetime
    status: str  # pending, or skipped (with skip_reason)
    skip_reason: str | None


class TickOut(Struct, kw_only=True):
    at: dt.datetime
    jobs: int
    runs_created: int
    runs_skipped: int
    runs_replaced: int
    duplicates: int
    errors: list[str]
    runs: list[TickRunOut]
    runs_truncated: bool


class SchedulerProcessOut(Struct, kw_only=True):
    id: str
    hostname: str
    pid: int
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    seconds_since_heartbeat: float
    last_tick_at: dt.datetime | None
    alive: bool


class SchedulerStatusOut(Struct, kw_only=True):
    now: dt.datetime
    alive: bool
    schedulers: list[SchedulerProcessOut]
    last_tick_at: dt.datetime | None
    due_jobs: int  # at most count_cap: then due_jobs_capped (there are more)
    oldest_due_next_run_at: dt.datetime | None
    lag_seconds: float
    count_cap: int = 10_000
    due_jobs_capped: bool = False


class QueueTypeOut(Struct, kw_only=True):
    job_type: str
    pending: int
    processing: int
    oldest_pending_run_at: dt.datetime | None
    oldest_pending_age_seconds: float | None


class QueueStatusOut(Struct, kw_only=True):
    now: dt.datetime
    depth: dict[str, int]
    oldest_pending_run_at: dt.datetime | None
    oldest_pending_age_seconds: float | None
    by_job_type: list[QueueTypeOut]
