"""``Job``: a scheduled job as plain, editable fields, bound to the ``JobManager`` it came from."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from cronkeeper import backfill as backfills
from cronkeeper import fields, jobs, pausing, schedule_edits
from cronkeeper.client.convert import iso, schedule_from, webhook, when
from cronkeeper.errors import CronkeeperError, ValidationError
from cronkeeper.job_states import state_of
from cronkeeper.models import JobRun, RunStatus, ScheduledJob
from cronkeeper.schedule import Schedule
from cronkeeper.schedule.bounds import finished_reason
from cronkeeper.schedule_versions import ScheduleVersion

if TYPE_CHECKING:  # the manager imports this module
    from cronkeeper.client.manager import JobManager

JobSchedule = Schedule  # the seed's name: once, hourly, daily, weekly, monthly, custom, every
_SETTINGS = ("name", "job_type", "is_active", "metadata", "max_retries", "retry_delay",
             "timeout_seconds", "overlap_policy", "misfire_policy",
             "auto_pause_after_failures", "auto_pause_trial_after_seconds",
             "calendar_id", "starts_at", "ends_at", "max_runs")  # fmt: skip
_TIMES = ("next_run_at", "last_run_at", "created_at", "updated_at", "last_run", "paused_at", "paused_until",
          "resumed_at", "starts_at", "ends_at")  # fmt: skip
_BOUND_FIELDS = ("calendar_id", "starts_at", "ends_at", "max_runs", "scheduled_run_count")  # job_bounds.py
_PAUSE_FIELDS = ("paused_reason", "paused_by", "paused_at", "paused_until", "paused_automatically",
                 "resumed_by", "resumed_at", "skip_next_runs", "auto_pause_after_failures",
                 "auto_pause_trial_after_seconds")  # fmt: skip


def _metadata_key(key: str) -> property:
    """A property over ``Job.metadata[key]`` (a new dict on set, so changes are seen)."""

    def set_(self: Job, value: Any) -> None:
        self.metadata = {**self.metadata, key: webhook(value) if key.startswith("on_") else value}

    return property(lambda self: self.metadata.get(key), set_)


@dataclass
class Job:
    """A scheduled job as plain, editable fields; save changes with ``JobManager.update_job``.

    ``status`` is the status of the job's latest run that was not a skipped slot
    (``None`` when it never ran); ``last_run`` is when that run started (or is due).
    ``state`` is the job's state as every surface names it (``cronkeeper.job_states``:
    scheduled, paused, running, finished), as of when the job was read.
    The seed's names are properties over ours: ``enabled`` (``is_active``),
    ``description`` (``name``), ``next_run`` (``next_run_at``) and
    ``output_format``, ``output_path``, ``on_success``, ``on_failure`` (``metadata`` keys).
    """

    id: UUID | None
    customer_id: UUID
    brand_id: UUID
    job_type: str
    schedule: Schedule
    name: str | None
    metadata: dict[str, Any]
    is_active: bool
    max_retries: int
    retry_delay: int
    timeout_seconds: int
    overlap_policy: str
    misfire_policy: str
    next_run_at: dt.datetime | None = None
    last_run_at: dt.datetime | None = None  # the last slot the scheduler enqueued
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    status: str | None = None
    last_run_id: int | None = None
    last_run: dt.datetime | None = None
    # pause with a reason, skips, auto-pause (cronkeeper/pausing.py); auto_pause_* are editable
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
    # a calendar of the customer's (its dates are skipped) and bounds; all editable but the count
    calendar_id: UUID | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    max_runs: int | None = None
    scheduled_run_count: int = 0  # scheduled runs made so far (against max_runs)
    _manager: JobManager | None = field(default=None, init=False, repr=False, compare=False)
    _stored: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    # -- the seed's names --------------------------------------------------------------
    enabled = property(lambda self: self.is_active, lambda self, v: setattr(self, "is_active", v))
    description = property(lambda self: self.name, lambda self, v: setattr(self, "name", v))
    next_run = property(lambda self: self.next_run_at)

    @property
    def state(self) -> str:
        """scheduled, paused, running or finished (``cronkeeper.job_states``); running when
        the latest run read with the job is processing."""
        return str(state_of(self.is_active, self.next_run_at, running=self.status == RunStatus.PROCESSING))

    @property
    def finished_reason(self) -> str | None:
        """Why the job finished by its bounds ("reached its 10 runs", "ended at ..."), else None."""
        return finished_reason(self)

    output_format = _metadata_key("output_format")
    output_path = _metadata_key("output_path")
    on_success = _metadata_key("on_success")
    on_failure = _metadata_key("on_failure")

    # -- actions -------------------------------------------------------------------------
    def run(self) -> bool:
        """Run the job now in this process, recorded in ``job_runs`` as a worker would;
        True when the run completed. A failure with retries left leaves its retry to workers."""
        run = self._bound().run_job(self.id)
        self.status, self.last_run_id, self.last_run = str(run.status), run.id, run.started_at
        return run.status is RunStatus.COMPLETED

    def enable(self) -> None:
        """Resume the job (slots missed while paused are recorded as skipped); reloads its fields."""
        self._refresh(self._bound().enable_job(self.id))

    def disable(self) -> None:
        """Pause the job; reloads its fields."""
        self._refresh(self._bound().disable_job(self.id))

    def backfill(
        self, start: dt.datetime, end: dt.datetime, *, dry_run: bool = False, max_runs: int = 1000
    ) -> backfills.BackfillResult:
        """Runs for this job's slots from ``start`` to ``end`` (aware, not in the future) that have
        none at all; ``dry_run`` lists them only. More than ``max_runs`` missing slots is a
        ``ValidationError`` naming ``max_runs``, with nothing created (``cronkeeper.backfill``)."""
        manager = self._bound()
        with manager._session() as conn:
            return backfills.backfill(conn, self.id, start, end, manager.clock.now(), dry_run=dry_run,
                                      max_runs=max_runs)  # fmt: skip

    def pause(self, reason: str | None = None, until: dt.datetime | str | None = None) -> None:
        """Pause with ``reason`` (at most 500 characters) until ``until`` (aware, in the future: the
        scheduler resumes it then; None: until resumed); reloads its fields (``paused_*``)."""
        manager = self._bound()
        with manager._session() as conn:
            pausing.pause_job(conn, self.id, manager.clock.now(), reason=reason, until=until)
        self._refresh(manager.get_job(self.id))

    def resume(self) -> None:
        """Resume (slots missed while paused are recorded as skipped; ``resumed_by``/``resumed_at``
        kept); reloads its fields."""
        manager = self._bound()
        with manager._session() as conn:
            pausing.resume_job(conn, self.id, manager.clock.now())
        self._refresh(manager.get_job(self.id))

    def skip(self, count: int) -> None:
        """Skip the next ``count`` (1 to 1000) runs the scheduler would make (recorded skipped,
        "skipped on request by python"); reloads its fields (``skip_next_runs``)."""
        manager = self._bound()
        with manager._session() as conn:
            pausing.skip_runs(conn, self.id, count)
        self._refresh(manager.get_job(self.id))

    def versions(self, limit: int = 50) -> list[ScheduleVersion]:
        """This job's schedule versions, newest first (who, when, the fields before and after)."""
        manager = self._bound()
        with manager._session() as conn:
            return schedule_edits.versions(conn, self.id, limit=limit)

    def revert(self, version: int) -> ScheduleVersion | None:
        """Apply schedule version ``version`` as a new version and reload this job's fields;
        the version written (None when the job already had those fields)."""
        manager = self._bound()
        with manager._session() as conn:
            _, written = schedule_edits.revert(conn, self.id, version, manager.clock.now())
        self._refresh(manager.get_job(self.id))
        return written

    def schedule_diff(self, count: int = 10, **changes: Any) -> schedule_edits.ScheduleDiff:
        """The next ``count`` runs as the job is stored and with ``changes`` (field names as the
        service's: ``cron_expression=``, ``timezone=`` ..., or ``schedule=`` a ``JobSchedule``),
        compared: ``.slots.moved``, ``.added``, ``.removed``, ``.dst_notes``. Nothing is saved."""
        schedule = changes.pop("schedule", None)
        if schedule is not None:
            if not isinstance(schedule, Schedule):
                raise ValidationError("schedule must be a JobSchedule", field="schedule")
            changes = {**{k: v for k, v in schedule.to_fields().items() if k != "schedule_kind"}, **changes}
        manager = self._bound()
        with manager._session() as conn:
            return schedule_edits.schedule_diff(conn, self.id, changes, manager.clock.now(), count=count)

    def _bound(self) -> JobManager:
        if self._manager is None or self.id is None:
            raise CronkeeperError("this job is not bound to a JobManager; get it from one first")
        return self._manager

    def _refresh(self, other: Job) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(other, f.name))  # with the snapshot and the manager

    def _editable(self) -> dict[str, Any]:
        if not isinstance(self.schedule, Schedule):
            raise ValidationError("schedule must be a JobSchedule", field="schedule")
        fields = {k: v for k, v in self.schedule.to_fields().items() if k != "schedule_kind"}
        return {**{k: getattr(self, k) for k in (*_SETTINGS, "customer_id", "brand_id")}, **fields}

    def _changes(self) -> dict[str, Any]:
        """What differs from the stored job; the whole schedule when any part of it does, and
    for ``metadata`` a merge patch (a key deleted from ``metadata`` is sent as ``None``)."""
        now = self._editable()
        if not self._stored:  # not read from the database (from_dict): every editable field
            return {k: v for k, v in now.items() if k not in ("customer_id", "brand_id")}
        changed = {k: v for k, v in now.items() if self._stored[k] != v}
        if set(changed) & set(jobs.SCHEDULE_FIELDS):
            changed.update({k: now[k] for k in jobs.SCHEDULE_FIELDS})
        if "metadata" in changed and isinstance(changed["metadata"], dict):
            # the service merges metadata: send the keys that changed, None for those removed
            changed["metadata"] = jobs.merge_diff(self._stored["metadata"], changed["metadata"])
        return changed

    # -- dictionaries ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields; ``Job.from_dict`` reads them back."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        schedule = self.schedule.to_fields()
        out["schedule"] = {**schedule, "run_at": iso(schedule["run_at"])}
        out["metadata"] = copy.deepcopy(self.metadata)
        for key in ("id", "customer_id", "brand_id", "calendar_id"):
            out[key] = str(out[key]) if out[key] is not None else None
        return {**out, **{k: iso(out[k]) for k in _TIMES}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], manager: JobManager | None = None) -> Job:
        """A job from ``to_dict``'s fields (ISO strings or datetimes, str or UUID ids)."""
        names = [f.name for f in dataclasses.fields(cls) if f.init]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValidationError(f"{unknown[0]} is not a job field", field=unknown[0])
        required = [f.name for f in dataclasses.fields(cls) if f.init and f.name != "id"
                    and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        missing = [n for n in required if n not in data]
        if missing:
            raise ValidationError(f"{missing[0]} is required", field=missing[0])
        values = dict(data)
        values["id"] = fields.uuid(data["id"], "id") if data.get("id") is not None else None
        values.update({k: fields.uuid(data[k], k) for k in ("customer_id", "brand_id")})
        if data.get("calendar_id") is not None:
            values["calendar_id"] = fields.uuid(data["calendar_id"], "calendar_id")
        values.update({k: when(data.get(k), k) for k in _TIMES})
        values["schedule"] = schedule_from(data["schedule"])
        values["metadata"] = copy.deepcopy(dict(data["metadata"] or {}))
        job = cls(**values)
        job._manager = manager
        return job


def bound_job(row: ScheduledJob, latest: JobRun | None, manager: JobManager) -> Job:
    """The ``Job`` of a stored row and its latest run, bound to ``manager``."""
    job = Job(
        id=row.id, customer_id=row.customer_id, brand_id=row.brand_id, job_type=str(row.job_type),
        schedule=row.schedule, name=row.name, metadata=copy.deepcopy(row.metadata),
        is_active=row.is_active, max_retries=row.max_retries, retry_delay=row.retry_delay,
        timeout_seconds=row.timeout_seconds, overlap_policy=str(row.overlap_policy),
        misfire_policy=str(row.misfire_policy), next_run_at=row.next_run_at,
        last_run_at=row.last_run_at, created_at=row.created_at, updated_at=row.updated_at,
        status=str(latest.status) if latest else None, last_run_id=latest.id if latest else None,
        last_run=(latest.started_at or latest.run_after) if latest else None,
        **{k: getattr(row, k) for k in _PAUSE_FIELDS},
        **{k: getattr(row, k) for k in _BOUND_FIELDS},
    )  # fmt: skip
    job._manager = manager
    job._stored = copy.deepcopy(job._editable())
    return job
