"""Job run responses."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from msgspec import Struct

from cronkeeper.api.schemas.common import out_values
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
