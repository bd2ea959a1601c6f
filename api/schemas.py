"""Every request and response body of the admin API (msgspec structs).

Request structs reject unknown fields. Optional inputs default to ``UNSET`` so
that the defaults live in one place (``cronkeeper.jobs``), not here; ``null``
counts as "not given" except where it means "clear" (a job's ``name``).
Times go out in UTC.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType, structs

from cronkeeper.errors import CronkeeperError, ValidationError
from cronkeeper.models import (
    Brand,
    BrandQuery,
    Customer,
    JobRun,
    JobType,
    MisfirePolicy,
    OverlapPolicy,
    RunStatus,
    ScheduledJob,
    Trigger,
)
from cronkeeper.schedule import Schedule

INT32 = 2**31 - 1
Name = Annotated[str, Meta(min_length=1, max_length=200)]
QueryText = Annotated[str, Meta(min_length=1, max_length=2000)]
Expression = Annotated[str, Meta(min_length=1, max_length=200)]
Zone = Annotated[str, Meta(min_length=1, max_length=64)]
Seconds = Annotated[int, Meta(ge=1, le=INT32)]
SecondsOrZero = Annotated[int, Meta(ge=0, le=INT32)]
Retries = Annotated[int, Meta(ge=0, le=100)]
Instant = Annotated[dt.datetime, Meta(tz=True)]
Names = Annotated[list[Name], Meta(max_length=100)]


class Input(Struct, forbid_unknown_fields=True, kw_only=True):
    def given(self, *, keep_null: tuple[str, ...] = ()) -> dict[str, Any]:
        """The fields the client sent (``null`` dropped unless listed), checked for NUL bytes."""
        out = {}
        for name, value in structs.asdict(self).items():
            if value is UNSET or (value is None and name not in keep_null):
                continue
            _reject_nul(value, name)
            out[name] = value
        return out


def _reject_nul(value: Any, field: str) -> None:
    # PostgreSQL text and jsonb cannot hold U+0000; say so naming the field
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(f"{field} must not contain NUL characters", field=field)
    if isinstance(value, dict):
        for k, v in value.items():
            _reject_nul(k, field)
            _reject_nul(v, field)
    elif isinstance(value, list):
        for v in value:
            _reject_nul(v, field)


def stripped(value: str, field: str) -> str:
    """A name without surrounding blanks; an all-blank one is a 400 naming ``field``."""
    if not value.strip():
        raise ValidationError(f"{field} must not be blank", field=field)
    return value.strip()


def utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(dt.UTC) if value is not None else None


@functools.cache
def _shared_fields(cls: type[Struct], model: type) -> tuple[str, ...]:
    have = {f.name for f in dataclasses.fields(model)}
    return tuple(n for n in cls.__struct_fields__ if n in have)


def _out_values(cls: type[Struct], obj: Any) -> dict[str, Any]:
    """A model's fields that ``cls`` has, with times in UTC.

    Values are shared, not copied (``dataclasses.asdict`` deep-copied every
    run's metrics: half of a runs list's CPU): the structs are encoded and dropped.
    """
    values = {}
    for k in _shared_fields(cls, type(obj)):
        v = getattr(obj, k)
        values[k] = utc(v) if isinstance(v, dt.datetime) else v
    return values


class ErrorOut(Struct):
    error: str
    message: str
    field: str | None = None


# -- scheduled jobs ------------------------------------------------------------
class JobIn(Input):
    brand_id: UUID
    job_type: JobType
    customer_id: UUID | None | UnsetType = UNSET
    name: Name | None | UnsetType = UNSET
    cron_expression: Expression | None | UnsetType = UNSET
    interval_seconds: Seconds | None | UnsetType = UNSET
    jitter_seconds: SecondsOrZero | None | UnsetType = UNSET
    run_at: Instant | None | UnsetType = UNSET
    timezone: Zone | None | UnsetType = UNSET
    is_active: bool | None | UnsetType = UNSET
    metadata: dict[str, Any] | None | UnsetType = UNSET
    max_retries: Retries | None | UnsetType = UNSET
    retry_delay: SecondsOrZero | None | UnsetType = UNSET
    timeout_seconds: Seconds | None | UnsetType = UNSET
    overlap_policy: OverlapPolicy | None | UnsetType = UNSET
    misfire_policy: MisfirePolicy | None | UnsetType = UNSET


class JobUpdate(Input):
    """Any subset of a job's editable fields; ``name: null`` clears the name."""

    name: Name | None | UnsetType = UNSET
    job_type: JobType | None | UnsetType = UNSET
    cron_expression: Expression | None | UnsetType = UNSET
    interval_seconds: Seconds | None | UnsetType = UNSET
    jitter_seconds: SecondsOrZero | None | UnsetType = UNSET
    run_at: Instant | None | UnsetType = UNSET
    timezone: Zone | None | UnsetType = UNSET
    is_active: bool | None | UnsetType = UNSET
    metadata: dict[str, Any] | None | UnsetType = UNSET
    max_retries: Retries | None | UnsetType = UNSET
    retry_delay: SecondsOrZero | None | UnsetType = UNSET
    timeout_seconds: Seconds | None | UnsetType = UNSET
    overlap_policy: OverlapPolicy | None | UnsetType = UNSET
    misfire_policy: MisfirePolicy | None | UnsetType = UNSET


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
    brand_name: str | None = None
    customer_name: str | None = None

    @classmethod
    def of(cls, job: ScheduledJob, row: dict[str, Any] | None = None) -> JobOut:
        values = _out_values(cls, job)
        try:
            description = job.schedule.describe()
        except CronkeeperError:  # a schedule edited by hand into something invalid
            description = None
        extra = {k: row[k] for k in ("brand_name", "customer_name") if row and k in row}
        return cls(**values, schedule_description=description, **extra)


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


# -- job runs --------------------------------------------------------------------
class RunOut(Struct, kw_only=True):
    id: int
    scheduled_job_id: UUID
    customer_id: UUID
    brand_id: UUID
    job_type: JobType
    trigger: Trigger
    status: RunStatus
    scheduled_for: dt.datetime
    run_after: dt.datetime
    attempt: int
    retry_of: int | None
    skip_reason: str | None
    worker_id: str | None
    cancel_requested: bool
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    lease_expires_at: dt.datetime | None
    duration_seconds: float | None
    metrics: dict[str, Any]
    error_message: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    brand_name: str | None = None

    @classmethod
    def of(cls, run: JobRun, row: dict[str, Any] | None = None) -> RunOut:
        values = _out_values(cls, run)
        extra = {"brand_name": row["brand_name"]} if row and "brand_name" in row else {}
        return cls(**values, duration_seconds=run.duration_seconds, **extra)


class RunPage(Struct):
    data: list[RunOut]
    next_cursor: str | None


# -- bulk ---------------------------------------------------------------------------
class BulkAction(StrEnum):
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    TRIGGER = "trigger"
    DELETE = "delete"


class BulkIn(Input):
    ids: Annotated[list[UUID], Meta(min_length=1, max_length=500)]
    action: BulkAction


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


# -- schedule preview ---------------------------------------------------------------
class PreviewIn(Input):
    cron_expression: Expression | None | UnsetType = UNSET
    interval_seconds: Seconds | None | UnsetType = UNSET
    jitter_seconds: SecondsOrZero | None | UnsetType = UNSET
    run_at: Instant | None | UnsetType = UNSET
    timezone: Zone | None | UnsetType = UNSET
    count: Annotated[int, Meta(ge=1, le=100)] = 5
    after: Instant | None | UnsetType = UNSET


class PreviewOut(Struct):
    next_runs: list[dt.datetime]
    description: str


# -- customers, brands, brand queries -------------------------------------------------
class CustomerIn(Input):
    name: Name


class CustomerOut(Struct, kw_only=True):
    id: UUID
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, c: Customer) -> CustomerOut:
        return cls(id=c.id, name=c.name, created_at=utc(c.created_at), updated_at=utc(c.updated_at))


class CustomerPage(Struct):
    data: list[CustomerOut]
    next_cursor: str | None


class BrandIn(Input):
    name: Name
    customer_id: UUID | None | UnsetType = UNSET
    aliases: Names | None | UnsetType = UNSET
    competitors: Names | None | UnsetType = UNSET


class BrandUpdate(Input):
    name: Name | None | UnsetType = UNSET
    aliases: Names | None | UnsetType = UNSET
    competitors: Names | None | UnsetType = UNSET


class BrandOut(Struct, kw_only=True):
    id: UUID
    customer_id: UUID
    name: str
    aliases: list[str]
    competitors: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, b: Brand) -> BrandOut:
        return cls(
            id=b.id, customer_id=b.customer_id, name=b.name, aliases=list(b.aliases),
            competitors=list(b.competitors), created_at=utc(b.created_at), updated_at=utc(b.updated_at),
        )  # fmt: skip


class BrandPage(Struct):
    data: list[BrandOut]
    next_cursor: str | None


class BrandQueryIn(Input):
    text: QueryText
    is_active: bool | None | UnsetType = UNSET


class BrandQueryUpdate(Input):
    text: QueryText | None | UnsetType = UNSET
    is_active: bool | None | UnsetType = UNSET


class BrandQueryOut(Struct, kw_only=True):
    id: int
    brand_id: UUID
    text: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, q: BrandQuery) -> BrandQueryOut:
        return cls(
            id=q.id, brand_id=q.brand_id, text=q.text, is_active=q.is_active,
            created_at=utc(q.created_at), updated_at=utc(q.updated_at),
        )  # fmt: skip


class BrandQueryList(Struct):
    data: list[BrandQueryOut]


# -- system and health --------------------------------------------------------------
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
