"""Job run responses."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from msgspec import Meta, Struct

from cronkeeper.api.schemas.common import Input, out_values
from cronkeeper.models import JobRun, JobType, RunStatus, Trigger


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
    retried_by: int | None = None  # the newest run retrying this one
    failure_code: str | None = None  # a failure no retry can fix (no_active_queries, missing_api_key, ...)

    @classmethod
    def of(cls, run: JobRun, row: dict[str, Any] | None = None, *, retried_by: int | None = None) -> RunOut:
        """``row``: a listing's row, whose ``brand_name`` and ``retried_by`` are taken when there."""
        values = out_values(cls, run)
        extra = {k: row[k] for k in ("brand_name", "retried_by") if k in row} if row else {}
        extra.setdefault("retried_by", retried_by)
        return cls(**values, duration_seconds=run.duration_seconds, **extra)


class RunPage(Struct):
    data: list[RunOut]
    next_cursor: str | None


class RunBulkAction(StrEnum):
    CANCEL = "cancel"
    RETRY = "retry"


class RunBulkIn(Input):
    ids: Annotated[list[int], Meta(min_length=1, max_length=100)]


class RunBulkResult(Struct, kw_only=True):
    """One run's outcome: ``ok`` with the run (cancelled, or the new attempt of a retry), or the
    HTTP status its single route would have answered, ``error`` and a ``message`` saying why."""

    id: int
    ok: bool
    status: int
    error: str | None = None
    message: str | None = None
    run: RunOut | None = None


class RunBulkOut(Struct):
    action: RunBulkAction
    succeeded: int
    failed: int
    results: list[RunBulkResult]
