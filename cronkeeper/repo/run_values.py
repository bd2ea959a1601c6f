"""What the ``job_runs`` queries (``cronkeeper.repo.runs``) take and give beside rows:
a run to insert and a run a worker has claimed."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cronkeeper.models import JobRun, ScheduledJob


@dataclass(frozen=True)
class NewRun:
    """A run to insert (the scheduler's, a manual trigger's or a retry's)."""

    scheduled_job_id: UUID
    customer_id: UUID
    brand_id: UUID
    job_type: str
    trigger: str
    scheduled_for: dt.datetime
    run_after: dt.datetime
    status: str = "pending"
    skip_reason: str | None = None
    attempt: int = 1
    retry_of: int | None = None
    finished_at: dt.datetime | None = None
    error_message: str | None = None

    @classmethod
    def for_slot(
        cls, job: ScheduledJob, scheduled_for: dt.datetime, run_after: dt.datetime, now: dt.datetime,
        *, trigger: str = "schedule", skip_reason: str | None = None,
    ) -> NewRun:
        """A run of ``job`` for one slot: pending, or recorded skipped (finished ``now``) with its reason."""
        skipped = skip_reason is not None
        return cls(
            scheduled_job_id=job.id, customer_id=job.customer_id, brand_id=job.brand_id,
            job_type=str(job.job_type), trigger=trigger, scheduled_for=scheduled_for, run_after=run_after,
            status="skipped" if skipped else "pending", skip_reason=skip_reason,
            finished_at=now if skipped else None,
        )  # fmt: skip

    @classmethod
    def manual(cls, job: ScheduledJob, now: dt.datetime) -> NewRun:
        """A run of ``job`` asked for now (trigger, run now, sync mode); overlap policy does not apply."""
        return cls.for_slot(job, now, now, now, trigger="manual")

    @classmethod
    def retry(cls, run: JobRun, run_after: dt.datetime) -> NewRun:
        """The next attempt of ``run``, for the same slot, due at ``run_after``."""
        return cls(
            scheduled_job_id=run.scheduled_job_id, customer_id=run.customer_id, brand_id=run.brand_id,
            job_type=str(run.job_type), trigger="retry", scheduled_for=run.scheduled_for,
            run_after=run_after, attempt=run.attempt + 1, retry_of=run.id,
        )  # fmt: skip


@dataclass(frozen=True)
class ClaimedRun:
    """A run this worker now holds, with what it needs from its job.

    The job's metadata as of the claim comes as JSON text and is decoded on
    first use of ``job_metadata``: every claimed run gets a dict of its own (a
    handler that changes it changes no other run's), and a run whose handler
    never reads it does not pay for decoding it.
    """

    run: JobRun
    timeout_seconds: int
    max_retries: int
    retry_delay: int
    job_metadata_json: str = "{}"

    @property
    def job_metadata(self) -> dict[str, Any]:
        try:
            return self.__dict__["_job_metadata"]
        except KeyError:
            meta = json.loads(self.job_metadata_json)
            object.__setattr__(self, "_job_metadata", meta)  # a cache, not a field
            return meta

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ClaimedRun:
        """A claimed run from a row of ``job_runs`` joined with its job's settings."""
        return cls(
            run=JobRun.from_row(row),
            timeout_seconds=row["timeout_seconds"],
            max_retries=row["max_retries"],
            retry_delay=row["retry_delay"],
            job_metadata_json=row["job_metadata_json"],
        )
