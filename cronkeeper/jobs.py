"""Creating, changing, pausing and triggering jobs: the one implementation
the API, the CLI and the Python API all call. Each function takes a
connection and runs in one transaction of its own.

``customer_id=`` (keyword) on these functions limits them to one customer's
jobs, as an API token bound to a customer is; ``None`` sees every job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import audit, fields, limits, pause_fields, schedule_versions
from cronkeeper.calendars import check_job_calendar
from cronkeeper.collectors import validate_job_metadata
from cronkeeper.errors import InvalidSchedule, NotFound, ValidationError
from cronkeeper.exports import validate_output_metadata
from cronkeeper.job_bounds import (
    BOUND_FIELDS,
    bounds_changed,
    first_slot,
    paused_runs,
    resumed_next_slot,
    validate_bounds,
)
from cronkeeper.job_types import collector_warnings, known_collectors
from cronkeeper.models import Brand, JobRun, JobType, MisfirePolicy, OverlapPolicy, ScheduledJob
from cronkeeper.repo import brands as brands_repo
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import NewRun
from cronkeeper.schedule import Schedule

SCHEDULE_FIELDS = ("cron_expression", "timezone", "interval_seconds", "jitter_seconds", "run_at")
EDITABLE = (
    "name", "job_type", "is_active", "metadata", "max_retries", "retry_delay", "timeout_seconds",
    "overlap_policy", "misfire_policy", *SCHEDULE_FIELDS, *pause_fields.AUTO_PAUSE_FIELDS, *BOUND_FIELDS,
)  # fmt: skip


def validate_fields(values: dict[str, Any], conn: psycopg.Connection | None = None) -> dict[str, Any]:
    """Check and normalise a complete set of job fields; returns them with the schedule's."""
    out = dict(values)
    out["job_type"] = str(fields.enum_value(JobType, values.get("job_type"), "job_type"))
    out["overlap_policy"] = str(fields.enum_value(OverlapPolicy, values.get("overlap_policy", "forbid"), "overlap_policy"))
    out["misfire_policy"] = str(fields.enum_value(MisfirePolicy, values.get("misfire_policy", "run_once"), "misfire_policy"))
    out["max_retries"] = fields.integer(values.get("max_retries", 3), "max_retries", 0, 100)
    out["retry_delay"] = fields.integer(values.get("retry_delay", 60), "retry_delay", 0)
    out["timeout_seconds"] = fields.integer(values.get("timeout_seconds", 3600), "timeout_seconds", 1)
    out["is_active"] = fields.boolean(values.get("is_active", True), "is_active")
    metadata = values.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValidationError("metadata must be an object", field="metadata")
    fields.json_bounded(metadata, "metadata")  # depth and size, before anything walks it
    metadata = validate_job_metadata(out["job_type"], metadata, known_collectors(conn))
    out["metadata"] = validate_output_metadata(metadata)
    out["name"] = fields.optional_text(values.get("name"), "name")
    schedule = Schedule.from_fields(**{k: values.get(k) for k in SCHEDULE_FIELDS if values.get(k) is not None})
    out.update(schedule.to_fields())
    out.update(pause_fields.auto_pause_settings(values))
    out.update(validate_bounds(values))  # calendar, starts_at, ends_at, max_runs (job_bounds.py)
    return out


def merge_patch(target: Any, patch: Any) -> Any:
    """``patch`` applied to ``target`` as a JSON merge patch (RFC 7386).

    Objects merge key by key, at every depth; a key whose value is ``None``
    (JSON ``null``) is removed; any other value, lists included, replaces the
    target's. Neither argument is changed.
    """
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def merge_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The merge patch that turns ``old`` into ``new`` (``None`` for each key removed).

    ``merge_patch(old, merge_diff(old, new)) == new`` whenever ``new`` holds no
    ``None`` values (a merge patch cannot store one: ``None`` removes the key).
    """
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        if key in old and old[key] == value:
            continue
        both_objects = isinstance(value, dict) and isinstance(old.get(key), dict)
        patch[key] = merge_diff(old[key], value) if both_objects else value
    return patch


def _schedule(fields_: dict[str, Any]) -> Schedule:
    return Schedule.from_fields(**{k: fields_.get(k) for k in ("schedule_kind", *SCHEDULE_FIELDS)})


def owning_brand(
    conn: psycopg.Connection, brand_id: Any, given_customer: Any = None, *, customer_id: UUID | None = None
) -> Brand:
    """The brand a new job belongs to; the job's customer is always the brand's.

    A ``given_customer`` other than the brand's is refused naming ``customer_id``;
    a brand that does not exist, or is not ``customer_id``'s, naming ``brand_id``.
    """
    if brand_id is None:
        fields.refuse("brand_id", "is required")
    ident = fields.uuid(brand_id, "brand_id")
    brand = brands_repo.get_brand(conn, ident, customer_id=customer_id)
    if brand is None:
        raise ValidationError(f"no brand {ident}", field="brand_id")
    if given_customer is not None and fields.uuid(given_customer, "customer_id") != brand.customer_id:
        fields.refuse("customer_id", f"must be the brand's customer ({brand.customer_id}) or left out")
    return brand


def create_job(
    conn: psycopg.Connection, values: dict[str, Any], now: dt.datetime, *, customer_id: UUID | None = None
) -> ScheduledJob:
    """Validate and insert a job with its first ``next_run_at``; its customer is its brand's."""
    out = validate_fields(values, conn)
    schedule = _schedule(out)
    if schedule.run_at is not None and schedule.run_at <= now:
        raise InvalidSchedule("run_at must be in the future", field="run_at")
    limits.check_min_interval(out["job_type"], schedule)
    out["next_run_at"] = None if schedule.spread else first_slot(schedule, out, now)  # H: needs the id
    with conn.transaction():
        brand = owning_brand(conn, values.get("brand_id"), values.get("customer_id"), customer_id=customer_id)
        out.update(brand_id=brand.id, customer_id=brand.customer_id)
        out["calendar_id"] = check_job_calendar(conn, out.get("calendar_id"), brand.customer_id)
        limits.check_new_job(conn, brand.customer_id, active=out["is_active"])  # locks the customer's quota row
        job = jobs_repo.insert_job(conn, out)
        if schedule.spread:
            job = jobs_repo.update_job(conn, job.id, {**out, "next_run_at": first_slot(job.schedule, out, now)})
        job = pause_fields.record_created(conn, job, now, audit.current_actor().name)  # created paused: by whom
        audit.job_saved(conn, None, job)
        schedule_versions.record(conn, None, job, now)  # version 1
        return job


def get_job(conn: psycopg.Connection, job_id: UUID, *, customer_id: UUID | None = None) -> ScheduledJob:
    return NotFound.unless(jobs_repo.get_job(conn, job_id, customer_id=customer_id), f"no scheduled job {job_id}")


def list_jobs(
    conn: psycopg.Connection,
    *,
    customer_id: UUID | None = None,
    brand_id: UUID | None = None,
    is_active: bool | None = None,
    job_type: str | None = None,
    search: str | None = None,
    limit: int = 50,
) -> list[tuple[ScheduledJob, str]]:
    """Jobs newest first, each with its brand's name (``search``: part of that name)."""
    rows = jobs_repo.list_jobs(conn, customer_id=customer_id, brand_id=brand_id, is_active=is_active,
                               job_type=job_type, search=search, limit=limit)  # fmt: skip
    return [(ScheduledJob.from_row(r), r["brand_name"]) for r in rows]


def _skip_paused_slots(conn: psycopg.Connection, job: ScheduledJob, now: dt.datetime) -> None:
    """On resume, record the slots that passed while the job was paused (within its bounds;
    ``job_bounds.paused_runs``)."""
    runs_repo.insert_runs(conn, paused_runs(conn, job, now))


def check_changes(changes: dict[str, Any]) -> None:
    """Refuse, naming the field, a change ``update_job`` cannot take before reading the job:
    a field that is not editable, or ``metadata`` that is not a bounded object."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        field = sorted(unknown)[0]
        fields.refuse(field, "cannot be changed")
    patch = changes.get("metadata")
    if patch is not None and not isinstance(patch, dict):
        raise ValidationError("metadata must be an object", field="metadata")
    if patch is not None:
        fields.json_bounded(patch, "metadata")  # before merge_patch walks it


def merged_fields(conn: psycopg.Connection, job: ScheduledJob, changes: dict[str, Any]) -> dict[str, Any]:
    """``job``'s fields with ``changes`` (checked by ``check_changes``) applied, validated as
    ``update_job`` saves them: a new cron / interval / run_at replaces the old schedule's
    defining fields and jitter; ``metadata`` is a merge patch."""
    current = {k: getattr(job, k) for k in EDITABLE}
    if any(k in changes for k in ("cron_expression", "interval_seconds", "run_at")):
        for k in ("cron_expression", "interval_seconds", "run_at", "jitter_seconds"):
            current[k] = None
    merged = {**current, **changes}
    if "metadata" in changes:
        merged["metadata"] = merge_patch(job.metadata, changes.get("metadata"))
    return validate_fields(merged, conn)


def update_job(
    conn: psycopg.Connection,
    job_id: UUID,
    changes: dict[str, Any],
    now: dt.datetime,
    *,
    customer_id: UUID | None = None,
) -> ScheduledJob:
    """Apply any subset of editable fields; recompute ``next_run_at`` when the schedule changes.

    ``metadata`` is a JSON merge patch (``merge_patch``) on the stored metadata,
    on every surface: keys given replace theirs, objects merge at every depth,
    a key set to ``None`` is removed, keys not named are kept.
    """
    check_changes(changes)
    with conn.transaction():
        job = jobs_repo.get_job(conn, job_id, customer_id=customer_id, for_update=True)
        if job is None:
            raise NotFound(f"no scheduled job {job_id}")
        out = merged_fields(conn, job, changes)
        schedule_changed = any(out.get(k) != getattr(job, k) for k in (*SCHEDULE_FIELDS, "schedule_kind"))
        schedule_changed = schedule_changed or bounds_changed(job, out)
        out["calendar_id"] = check_job_calendar(conn, out.get("calendar_id"), job.customer_id)
        if schedule_changed or out["job_type"] != job.job_type:  # a job saved before the rule keeps running
            limits.check_min_interval(out["job_type"], _schedule(out))
        resumed = out["is_active"] and not job.is_active
        if resumed:
            limits.check_activation(conn, job.customer_id)
        if schedule_changed:
            out["next_run_at"] = first_slot(_schedule(out).for_job(job.id), out, now, job.scheduled_run_count)
        elif resumed and job.next_run_at is not None and job.next_run_at <= now:
            _skip_paused_slots(conn, job, now)
            out["next_run_at"] = _first_future(job, now)
        else:
            out["next_run_at"] = job.next_run_at
        updated = jobs_repo.update_job(conn, job.id, out)
        if updated is not None:
            updated = pause_fields.record_switch(conn, job, updated, now, audit.current_actor().name)
            audit.job_saved(conn, job, updated)
            schedule_versions.record(conn, job, updated, now)
    assert updated is not None
    return updated


def warnings_for(conn: psycopg.Connection, job: ScheduledJob) -> list[str]:
    """What will not work in ``job`` as things stand, for the surface that saved it to show.

    Saving never fails for these: a collector named without its key (its variable
    unset in this process's environment, as it should be in the workers'), or no
    collector usable when none is named. Create and update return the job; every
    surface then asks this and shows the result (API ``warnings``, CLI stderr,
    Python ``CollectorWarning``).
    """
    return collector_warnings(conn, str(job.job_type), job.metadata)


def _first_future(job: ScheduledJob, now: dt.datetime) -> dt.datetime | None:
    return resumed_next_slot(job, now)


def set_active(
    conn: psycopg.Connection, job_id: UUID, active: bool, now: dt.datetime, *, customer_id: UUID | None = None
) -> ScheduledJob:
    """Pause or resume (resume records the paused slots as skipped)."""
    return update_job(conn, job_id, {"is_active": active}, now, customer_id=customer_id)


def delete_job(conn: psycopg.Connection, job_id: UUID, *, customer_id: UUID | None = None) -> None:
    with conn.transaction():
        job = jobs_repo.get_job(conn, job_id, customer_id=customer_id, for_update=True)
        if job is None or not jobs_repo.delete_job(conn, job_id, customer_id=customer_id):
            raise NotFound(f"no scheduled job {job_id}")
        audit.job_saved(conn, job, None)


def trigger_job(
    conn: psycopg.Connection, job_id: UUID, now: dt.datetime, *, customer_id: UUID | None = None,
    sync: bool = False,
) -> JobRun:
    """A manual run, due now; workers hear of it through NOTIFY. Overlap policy does not apply.

    Counted against the customer's manual-trigger rate (``RateLimited``) and, for a
    ``sync`` run (``?mode=sync``), its concurrent sync runs (``QuotaExceeded``).
    """
    with conn.transaction():
        job = get_job(conn, job_id, customer_id=customer_id)
        limits.check_trigger(conn, job.customer_id, now, sync=sync)
        rows = runs_repo.insert_runs(conn, [NewRun.manual(job, now)])
        run = runs_repo.get_run(conn, rows[0]["id"])
        assert run is not None
        audit.run_event(conn, "trigger", run, {"status": [None, str(run.status)]})
    return run


def create_and_start(
    conn: psycopg.Connection, values: dict[str, Any], now: dt.datetime, *, customer_id: UUID | None = None
) -> tuple[ScheduledJob, JobRun]:
    """A new job and a first manual run of it, due now (the seed's auto-start: "run once now
    when saved"), in one transaction: both are saved or neither. The job keeps its schedule;
    the run is one more, as ``trigger_job`` queues it (overlap policy does not apply)."""
    with conn.transaction():
        job = create_job(conn, values, now, customer_id=customer_id)
        run = trigger_job(conn, job.id, now, customer_id=customer_id)
    return job, run
