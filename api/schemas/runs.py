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

    @classmethod
    def of(cls, run: JobRun, row: dict[str, Any] | None = None) -> RunOut:
        values = out_values(cls, run)
        extra = {"brand_name": row["brand_name"]} if row and "brand_name" in row else {}
        return cls(**values, duration_seconds=run.duration_seconds, **extra)


class RunPage(Struct):
    data: list[RunOut]
    next_cursor: str | None
