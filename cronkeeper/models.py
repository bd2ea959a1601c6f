"""Rows become frozen dataclasses at the border, with enums mirroring the schema."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any, NewType
from uuid import UUID

from cronkeeper.schedule import Schedule

JobId = NewType("JobId", UUID)
RunId = NewType("RunId", int)
CustomerId = NewType("CustomerId", UUID)
BrandId = NewType("BrandId", UUID)


class JobType(StrEnum):
    DATA_COLLECTION = "data_collection"
    SCORING = "scoring"
    DATA_COLLECTION_AND_SCORING = "data_collection_and_scoring"


class RunStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    @property
    def is_final(self) -> bool:
        return self not in (RunStatus.PENDING, RunStatus.PROCESSING)


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    RETRY = "retry"


class OverlapPolicy(StrEnum):
    FORBID = "forbid"
    ALLOW = "allow"
    REPLACE = "replace"


class MisfirePolicy(StrEnum):
    RUN_ONCE = "run_once"
    SKIP = "skip"
    RUN_ALL = "run_all"


@lru_cache(maxsize=65536)
def _schedule(kind, cron_expression, timezone, interval_seconds, jitter_seconds, run_at, spread_key=None):
    return Schedule.from_fields(
        schedule_kind=kind,
        cron_expression=cron_expression,
        timezone=timezone,
        interval_seconds=interval_seconds,
        jitter_seconds=jitter_seconds,
        run_at=run_at,
        spread_key=spread_key,
    )


@cache
def _field_names(cls) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


def _from_row(cls, row: dict[str, Any]):
    names = _field_names(cls)
    return cls(**{k: v for k, v in row.items() if k in names})


@dataclass(frozen=True)
class Customer:
    id: CustomerId
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime

    from_row = classmethod(_from_row)


@dataclass(frozen=True)
class Brand:
    id: BrandId
    customer_id: CustomerId
    name: str
    aliases: list[str]
    competitors: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime

    from_row = classmethod(_from_row)


@dataclass(frozen=True)
class BrandQuery:
    id: int
    brand_id: BrandId
    text: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    from_row = classmethod(_from_row)


@dataclass(frozen=True)
class ScheduledJob:
    id: JobId
    customer_id: CustomerId
    brand_id: BrandId
    job_type: JobType
    schedule_kind: str
    timezone: str
    is_active: bool
    metadata: dict[str, Any]
    max_retries: int
    retry_delay: int
    timeout_seconds: int
    overlap_policy: OverlapPolicy
    misfire_policy: MisfirePolicy
    created_at: dt.datetime
    updated_at: dt.datetime
    name: str | None = None
    cron_expression: str | None = None
    interval_seconds: int | None = None
    jitter_seconds: int = 0
    run_at: dt.datetime | None = None
    next_run_at: dt.datetime | None = None
    last_run_at: dt.datetime | None = None
    # calendars and bounds (cronkeeper/schedule/bounds.py)
    calendar_id: UUID | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    max_runs: int | None = None
    scheduled_run_count: int = 0
    # pause with a reason, skip next runs, auto-pause (cronkeeper/pausing.py)
    paused_reason: str | None = None
    paused_by: str | None = None
    paused_at: dt.datetime | None = None
    paused_until: dt.datetime | None = None
    paused_automatically: bool = False
    resumed_by: str | None = None
    resumed_at: dt.datetime | None = None
    skip_next_runs: int = 0
    skip_requested_by: str | None = None
    auto_pause_after_failures: int | None = None
    auto_pause_trial_after_seconds: int | None = None
    trial_due_at: dt.datetime | None = None
    trial_run_id: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ScheduledJob:
        job = _from_row(cls, row)
        object.__setattr__(job, "job_type", JobType(job.job_type))
        object.__setattr__(job, "overlap_policy", OverlapPolicy(job.overlap_policy))
        object.__setattr__(job, "misfire_policy", MisfirePolicy(job.misfire_policy))
        return job

    @property
    def schedule(self):
        """The job's validated Schedule (shared between jobs with the same fields), its ``H``
        items resolved with the job's id."""
        key = str(self.id) if self.cron_expression and "H" in self.cron_expression else None
        return _schedule(
            self.schedule_kind, self.cron_expression, self.timezone, self.interval_seconds,
            self.jitter_seconds or 0, self.run_at, key,
        )  # fmt: skip


@dataclass(frozen=True)
class DueJob:
    """What the scheduler's tick reads of a due job (``jobs_repo.lock_due_jobs``): the fields of a
    ``ScheduledJob`` that its plan, bounds, calendar, skips and new runs use, under the same names.
    Not the metadata or the audit fields: 100,000 due jobs are read in one tick."""

    id: JobId
    customer_id: CustomerId
    brand_id: BrandId
    job_type: JobType
    schedule_kind: str
    cron_expression: str | None
    timezone: str
    interval_seconds: int | None
    jitter_seconds: int
    run_at: dt.datetime | None
    next_run_at: dt.datetime | None
    overlap_policy: OverlapPolicy
    misfire_policy: MisfirePolicy
    calendar_id: UUID | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    max_runs: int | None
    scheduled_run_count: int
    skip_next_runs: int
    skip_requested_by: str | None

    schedule = ScheduledJob.schedule  # the same Schedule as the full job's


@dataclass(frozen=True)
class JobRun:
    id: RunId
    scheduled_job_id: JobId
    customer_id: CustomerId
    brand_id: BrandId
    job_type: JobType
    trigger: Trigger
    status: RunStatus
    scheduled_for: dt.datetime
    run_after: dt.datetime
    attempt: int
    created_at: dt.datetime
    updated_at: dt.datetime
    skip_reason: str | None = None
    retry_of: RunId | None = None
    worker_id: str | None = None
    lease_expires_at: dt.datetime | None = None
    heartbeat_at: dt.datetime | None = None
    cancel_requested: bool = False
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    error_message: str | None = None
    failure_code: str | None = None  # set on a failure a retry cannot fix (errors.NonRetryable)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> JobRun:
        if cls is JobRun and row.keys() >= _RUN_FIELDS:
            # every column is there (``r.*``): fill the instance's __dict__ at once
            # (3 us a row instead of 11 through __init__ and object.__setattr__)
            d = {k: row[k] for k in _RUN_FIELD_ORDER}
            d["job_type"] = JOB_TYPES[d["job_type"]]
            d["trigger"] = TRIGGERS[d["trigger"]]
            d["status"] = RUN_STATUSES[d["status"]]
            return new_run(d)
        run = _from_row(cls, row)
        object.__setattr__(run, "job_type", JobType(run.job_type))
        object.__setattr__(run, "trigger", Trigger(run.trigger))
        object.__setattr__(run, "status", RunStatus(run.status))
        return run

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


_RUN_FIELD_ORDER = tuple(f.name for f in fields(JobRun))
_RUN_FIELDS = frozenset(_RUN_FIELD_ORDER)
# value -> member; also member -> member, since a StrEnum member hashes and
# compares as its value (a row built by hand may hold members already)
JOB_TYPES: dict[str, JobType] = {m.value: m for m in JobType}
TRIGGERS: dict[str, Trigger] = {m.value: m for m in Trigger}
RUN_STATUSES: dict[str, RunStatus] = {m.value: m for m in RunStatus}


def new_run(d: dict[str, Any]) -> JobRun:
    """A JobRun whose __dict__ is ``d`` (every field, enums already converted).

    Same object as ``JobRun(**d)`` (equality, hash, repr and frozenness come
    from the class), without the per-field ``object.__setattr__`` of a frozen
    dataclass's ``__init__``.
    """
    run = object.__new__(JobRun)
    object.__setattr__(run, "__dict__", d)
    return run
