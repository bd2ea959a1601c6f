"""Scheduled job requests and responses, and the bulk action on many jobs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType, field

from cronkeeper.api.schemas.common import (
    Input,
    Instant,
    Name,
    Retries,
    ScheduleFields,
    Seconds,
    SecondsOrZero,
    out_values,
)
from cronkeeper.api.schemas.runs import RunOut
from cronkeeper.errors import CronkeeperError
from cronkeeper.job_states import JobState, state_of
from cronkeeper.models import JobType, MisfirePolicy, OverlapPolicy, ScheduledJob
from cronkeeper.schedule import Schedule
from cronkeeper.schedule.bounds import finished_reason


class JobSettings(ScheduleFields):
    """A job's editable fields but its type, the same for create and update."""

    name: Name | None | UnsetType = UNSET
    is_active: bool | None | UnsetType = UNSET
    metadata: dict[str, Any] | None | UnsetType = UNSET
    max_retries: Retries | None | UnsetType = UNSET
    retry_delay: SecondsOrZero | None | UnsetType = UNSET
    timeout_seconds: Seconds | None | UnsetType = UNSET
    overlap_policy: OverlapPolicy | None | UnsetType = UNSET
    misfire_policy: MisfirePolicy | None | UnsetType = UNSET
    auto_pause_after_failures: Annotated[int | None | UnsetType, Meta(description=(
        "Pause the job by itself after this many failed slots in a row (2 to 1000; null: off)."))] = UNSET
    auto_pause_trial_after_seconds: Annotated[int | None | UnsetType, Meta(description=(
        "After an auto-pause, one trial run this many seconds later; the job resumes if it completes."))] = UNSET
    # calendar and bounds (cronkeeper/job_bounds.py, docs/schedules.md)
    calendar_id: Annotated[UUID | None | UnsetType, Meta(description=(
        "A calendar of the job's customer: slots on its dates are skipped (null: none)."))] = UNSET
    starts_at: Annotated[Instant | None | UnsetType, Meta(description="No slot before this instant.")] = UNSET
    ends_at: Annotated[Instant | None | UnsetType, Meta(description=(
        "No slot after this instant; the job then finishes."))] = UNSET
    max_runs: Annotated[int | None | UnsetType, Meta(description=(
        "At most this many scheduled runs (1 to 1000000); the job then finishes."))] = UNSET


class JobIn(JobSettings, kw_only=True):
    brand_id: UUID
    job_type: JobType
    customer_id: UUID | None | UnsetType = UNSET
    auto_start: Annotated[
        bool | UnsetType,
        Meta(description="Run once now when saved: queue a manual run with the job (not stored on it)."),
    ] = UNSET


class JobUpdate(JobSettings):
    """Any subset of a job's editable fields; ``name: null`` clears the name."""

    job_type: JobType | None | UnsetType = UNSET


class JobOut(Struct, kw_only=True):
    id: UUID
    customer_id: UUID
    brand_id: UUID
    name: str | None
    job_type: JobType
    schedule_kind: str
    cron_expression: str | None
    timezone: str
    interval_seconds: int | None
    jitter_seconds: int
    run_at: dt.datetime | None
    is_active: bool
    state: JobState
    metadata: dict[str, Any]
    max_retries: int
    retry_delay: int
    timeout_seconds: int
    overlap_policy: OverlapPolicy
    misfire_policy: MisfirePolicy
    next_run_at: dt.datetime | None
    last_run_at: dt.datetime | None
    schedule_description: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    # pause with a reason, skips, auto-pause (cronkeeper/pausing.py)
    paused_reason: str | None = None
    paused_by: str | None = None
    paused_at: dt.datetime | None = None
    paused_until: dt.datetime | None = None
    paused_automatically: bool = False
    resumed_by: str | None = None
    resumed_at: dt.datetime | None = None
    skip_next_runs: int = 0
    auto_pause_after_failures: int | None = None
    auto_pause_trial_after_seconds: int | None = None
    # calendar and bounds; finished_reason: why a finished job has no next run ("reached its 10 runs")
    calendar_id: UUID | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    max_runs: int | None = None
    scheduled_run_count: int = 0
    finished_reason: str | None = None
    brand_name: str | None = None
    customer_name: str | None = None

    @classmethod
    def of(cls, job: ScheduledJob, row: dict[str, Any] | None = None, *, state: JobState | None = None) -> JobOut:
        """The job's object; ``state`` from ``job_states.state`` (left out: the job's fields'
        state as if no run of it were processing)."""
        values = out_values(cls, job)
        values["state"] = state or state_of(job.is_active, job.next_run_at, running=False)
        values["finished_reason"] = finished_reason(job)
        try:
            description = job.schedule.describe()
        except CronkeeperError:  # a schedule edited by hand into something invalid
            description = None
        extra = {k: row[k] for k in ("brand_name", "customer_name") if row and k in row}
        return cls(**values, schedule_description=description, **extra)


class JobSaved(JobOut, kw_only=True):
    """A job just created or changed, with ``warnings`` about what will not work as it
    stands (a named collector whose key is not set); the job is saved either way.
    ``started_run_id``: the run a create with ``auto_start`` queued."""

    warnings: list[str] = field(default_factory=list)
    started_run_id: Annotated[
        int | None, Meta(description="The run queued by ``auto_start`` (null when none was asked).")
    ] = None

    @classmethod
    def saved(
        cls, job: ScheduledJob, warnings: list[str], *, state: JobState | None = None, started_run_id: int | None = None
    ) -> JobSaved:
        out = cls.of(job, state=state)
        out.warnings = list(warnings)
        out.started_run_id = started_run_id
        return out


def describe_schedule(kind: str, cron: str | None, zone: str, interval: int | None, jitter: int | None,
                      run_at: dt.datetime | None) -> str | None:  # fmt: skip
    """A schedule's description from its columns (the jobs list keeps them by schedule: ``api.pages``)."""
    try:
        return Schedule.from_fields(
            schedule_kind=kind, cron_expression=cron, timezone=zone, interval_seconds=interval,
            jitter_seconds=jitter or 0, run_at=run_at,
        ).describe()  # fmt: skip
    except CronkeeperError:  # a schedule edited by hand into something invalid
        return None


class JobPage(Struct):
    data: list[JobOut]
    next_cursor: str | None


class BulkAction(StrEnum):
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    TRIGGER = "trigger"
    DELETE = "delete"


class BulkIn(Input):
    ids: Annotated[list[UUID], Meta(min_length=1, max_length=500)]
    action: BulkAction
    # deactivate only: pause each job with this reason (and end), as POST .../pause does
    reason: Annotated[str | None, Meta(description=(
        "deactivate only: why the jobs are paused (at most 500 characters), as POST .../pause."))] = None
    until: Annotated[dt.datetime | None, Meta(description=(
        "deactivate only: resume them by themselves at this time (in the future)."))] = None


class BulkResult(Struct, kw_only=True):
    id: UUID
    ok: bool
    status: int
    error: str | None = None
    message: str | None = None
    job: JobOut | None = None
    run: RunOut | None = None


class BulkOut(Struct):
    action: BulkAction
    succeeded: int
    failed: int
    results: list[BulkResult]
