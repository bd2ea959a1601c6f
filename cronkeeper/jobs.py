"""Creating, changing, pausing and triggering jobs: the one implementation
the API, the CLI and the Python API all call. Each function takes a
connection and runs in one transaction of its own."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper.errors import Conflict, InvalidSchedule, NotFound, ValidationError
from cronkeeper.models import JobRun, JobType, MisfirePolicy, OverlapPolicy, RunStatus, ScheduledJob
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import NewRun
from cronkeeper.schedule import Schedule
from cronkeeper.services.scheduler.tick import MAX_ENUMERATED_SLOTS

SCHEDULE_FIELDS = ("cron_expression", "timezone", "interval_seconds", "jitter_seconds", "run_at")
EDITABLE = (
    "name", "job_type", "is_active", "metadata", "max_retries", "retry_delay", "timeout_seconds",
    "overlap_policy", "misfire_policy", *SCHEDULE_FIELDS,
)  # fmt: skip

def _enum(cls, value: Any, field: str):
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise ValidationError(f"{field} must be one of {allowed}; got {value!r}", field=field) from None


def _int(value: Any, field: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field} must be an integer", field=field)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ValidationError(f"{field} must be {bound}; got {value}", field=field)
    return value


def validate_fields(values: dict[str, Any], conn: psycopg.Connection | None = None) -> dict[str, Any]:
    """Check and normalise a complete set of job fields; returns them with the schedule's."""
    out = dict(values)
    out["job_type"] = str(_enum(JobType, values.get("job_type"), "job_type"))
    out["overlap_policy"] = str(_enum(OverlapPolicy, values.get("overlap_policy", "forbid"), "overlap_policy"))
    out["misfire_policy"] = str(_enum(MisfirePolicy, values.get("misfire_policy", "run_once"), "misfire_policy"))
    out["max_retries"] = _int(values.get("max_retries", 3), "max_retries", 0, 100)
    out["retry_delay"] = _int(values.get("retry_delay", 60), "retry_delay", 0)
    out["timeout_seconds"] = _int(values.get("timeout_seconds", 3600), "timeout_seconds", 1)
    if not isinstance(values.get("is_active", True), bool):
        raise ValidationError("is_active must be true or false", field="is_active")
    out["is_active"] = values.get("is_active", True)
    metadata = values.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValidationError("metadata must be an object", field="metadata")
    from cronkeeper.collectors import validate_job_metadata
    from cronkeeper.exports import validate_output_metadata
    from cronkeeper.job_types import known_collectors

    out["metadata"] = validate_output_metadata(validate_job_metadata(out["job_type"], metadata, known_collectors(conn)))
    name = values.get("name")
    if name is not None and not isinstance(name, str):
        raise ValidationError("name must be a string", field="name")
    schedule = Schedule.from_fields(**{k: values.get(k) for k in SCHEDULE_FIELDS if values.get(k) is not None})
    out.update(schedule.to_fields())
    return out


def create_job(conn: psycopg.Connection, values: dict[str, Any], now: dt.datetime) -> ScheduledJob:
    """Validate and insert a job with its first ``next_run_at``."""
    fields = validate_fields(values, conn)
    schedule = Schedule.from_fields(**{k: fields.get(k) for k in ("schedule_kind", *SCHEDULE_FIELDS)})
    if schedule.run_at is not None and schedule.run_at <= now:
        raise InvalidSchedule("run_at must be in the future", field="run_at")
    for key in ("customer_id", "brand_id"):
        if not values.get(key):
            raise ValidationError(f"{key} is required", field=key)
        fields[key] = _uuid(values[key], key)
    fields["next_run_at"] = schedule.first_run(now)
    with conn.transaction():
        return jobs_repo.insert_job(conn, fields)


def _uuid(value: Any, field: str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise ValidationError(f"{field} must be a UUID", field=field) from None


def get_job(conn: psycopg.Connection, job_id: UUID, *, customer_id: UUID | None = None) -> ScheduledJob:
    job = jobs_repo.get_job(conn, job_id, customer_id=customer_id)
    if job is None:
        raise NotFound(f"no scheduled job {job_id}")
    return job


def _skip_paused_slots(conn: psycopg.Connection, job: ScheduledJob, now: dt.datetime) -> None:
    """On resume, record the slots that passed while the job was paused."""
    schedule, slot, rows = job.schedule, job.next_run_at, []
    while slot is not None and slot <= now and len(rows) < MAX_ENUMERATED_SLOTS:
        rows.append(NewRun.for_slot(job, slot, slot, now, skip_reason="job paused"))
        slot = schedule.next_after(slot)
    runs_repo.insert_runs(conn, rows)


def update_job(
    conn: psycopg.Connection,
    job_id: UUID,
    changes: dict[str, Any],
    now: dt.datetime,
    *,
    customer_id: UUID | None = None,
) -> ScheduledJob:
    """Apply any subset of editable fields; recompute ``next_run_at`` when the schedule changes."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationError(f"{field} cannot be changed", field=field)
    with conn.transaction():
        job = jobs_repo.get_job(conn, job_id, customer_id=customer_id, for_update=True)
        if job is None:
            raise NotFound(f"no scheduled job {job_id}")
        current = {k: getattr(job, k) for k in EDITABLE}
        if any(k in changes for k in ("cron_expression", "interval_seconds", "run_at")):
            for k in ("cron_expression", "interval_seconds", "run_at", "jitter_seconds"):
                current[k] = None
        merged = {**current, **changes}
        fields = validate_fields(merged, conn)
        schedule_changed = any(fields.get(k) != getattr(job, k) for k in (*SCHEDULE_FIELDS, "schedule_kind"))
        resumed = fields["is_active"] and not job.is_active
        if schedule_changed:
            fields["next_run_at"] = Schedule.from_fields(
                **{k: fields.get(k) for k in ("schedule_kind", *SCHEDULE_FIELDS)}
            ).first_run(now)
        else:
            if resumed and job.next_run_at is not None and job.next_run_at <= now:
                _skip_paused_slots(conn, job, now)
                fields["next_run_at"] = _first_future(job, now)
            else:
                fields["next_run_at"] = job.next_run_at
        updated = jobs_repo.update_job(conn, job.id, fields)
    assert updated is not None
    return updated


def _first_future(job: ScheduledJob, now: dt.datetime) -> dt.datetime | None:
    schedule = job.schedule
    if schedule.interval_seconds and job.next_run_at:
        step = schedule.interval_seconds
        n = int((now - job.next_run_at).total_seconds() // step) + 1
        return job.next_run_at + dt.timedelta(seconds=n * step)
    if schedule.run_at is not None:
        return None
    return schedule.next_after(now)


def set_active(
    conn: psycopg.Connection, job_id: UUID, active: bool, now: dt.datetime, *, customer_id: UUID | None = None
) -> ScheduledJob:
    """Pause or resume (resume records the paused slots as skipped)."""
    return update_job(conn, job_id, {"is_active": active}, now, customer_id=customer_id)


def delete_job(conn: psycopg.Connection, job_id: UUID, *, customer_id: UUID | None = None) -> None:
    with conn.transaction():
        if not jobs_repo.delete_job(conn, job_id, customer_id=customer_id):
            raise NotFound(f"no scheduled job {job_id}")


def trigger_job(
    conn: psycopg.Connection, job_id: UUID, now: dt.datetime, *, customer_id: UUID | None = None
) -> JobRun:
    """A manual run, due now; workers hear of it through NOTIFY. Overlap policy does not apply."""
    with conn.transaction():
        job = get_job(conn, job_id, customer_id=customer_id)
        rows = runs_repo.insert_runs(conn, [NewRun.manual(job, now)])
        run = runs_repo.get_run(conn, rows[0]["id"])
    assert run is not None
    return run


def get_run(conn: psycopg.Connection, run_id: int, *, customer_id: UUID | None = None) -> JobRun:
    run = runs_repo.get_run(conn, run_id, customer_id=customer_id)
    if run is None:
        raise NotFound(f"no job run {run_id}")
    return run


def cancel_run(
    conn: psycopg.Connection, run_id: int, now: dt.datetime, *, customer_id: UUID | None = None
) -> JobRun:
    """Cancel a pending run now; a processing one stops at its next checkpoint."""
    with conn.transaction():
        run = get_run(conn, run_id, customer_id=customer_id)
        if RunStatus(run.status).is_final:
            raise Conflict(f"run {run_id} is already {run.status}")
        cancelled = runs_repo.cancel_run(conn, run_id, now)
    if cancelled is None:
        raise Conflict(f"run {run_id} finished meanwhile")
    return cancelled


def retry_run(
    conn: psycopg.Connection, run_id: int, now: dt.datetime, *, customer_id: UUID | None = None
) -> JobRun:
    """A new attempt of a finished run that did not succeed, due now."""
    with conn.transaction():
        run = get_run(conn, run_id, customer_id=customer_id)
        if run.status not in (RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.PARTIAL, RunStatus.SKIPPED):
            raise Conflict(f"only failed, partial, cancelled or skipped runs can be retried; run {run_id} is {run.status}")
        rows = runs_repo.insert_runs(conn, [NewRun.retry(run, now)])
        new = runs_repo.get_run(conn, rows[0]["id"])
    assert new is not None
    return new
