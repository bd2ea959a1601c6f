"""``JobManager``: the Python API's jobs and runs in one database.

A thin layer over the one implementation the API and the services use: jobs
are created, changed, paused and triggered through ``cronkeeper.jobs``, read
through the repositories, and run at once through the worker's inline runner
(``cronkeeper.services.worker.inline``). Bad input raises ``ValidationError``
naming the field, and nothing is written. See docs/python-api.md for how the
seed's names map to ours.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import warnings
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from cronkeeper import audit, fields, jobs, runs
from cronkeeper.client.calendars import Calendars
from cronkeeper.client.convert import choice, maybe_uuid, merge_metadata
from cronkeeper.client.job import Job, bound_job
from cronkeeper.clock import Clock, SystemClock
from cronkeeper.db import make_pool, prepared_dsn
from cronkeeper.errors import CollectorWarning, NotFound, ValidationError
from cronkeeper.handlers import Registry
from cronkeeper.job_types import registry as default_registry
from cronkeeper.models import JobRun, JobType, RunStatus, ScheduledJob
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.schedule import Schedule
from cronkeeper.services.worker import inline
from cronkeeper.settings import Settings

PAGE_SIZE = 500  # jobs read per statement by list_jobs / filter_jobs
_SEED_METADATA = ("output_format", "output_path", "on_success", "on_failure")


def _warn(messages: list[str]) -> None:
    """The job was saved; what will not work as it stands, as ``CollectorWarning``s at the caller."""
    for message in messages:
        warnings.warn(message, CollectorWarning, stacklevel=3)


class JobManager:
    """Jobs in one database: ``database_url``, or (None) ``DATABASE_URL`` / the embedded server.

    Migrations are applied on construction. ``settings``, ``clock`` and the handler
    ``registry`` may be injected (tests); close the manager, or use it as a context manager.
    """

    def __init__(
        self,
        database_url: str | None = None,
        *,
        settings: Settings | None = None,
        clock: Clock | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        if database_url is not None:
            self.settings = dataclasses.replace(self.settings, database_url=database_url)
        self.dsn = prepared_dsn(self.settings)
        self.clock = clock or SystemClock()
        self.registry = registry or default_registry
        self._pool = make_pool(self.dsn, min_size=1, max_size=self.settings.pool_max_size)

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> JobManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connection(self):
        """A pooled connection (context manager), for reads of your own."""
        return self._pool.connection()

    @contextlib.contextmanager
    def _session(self) -> Iterator[Any]:
        """A pooled connection whose changes the audit trail records as ``python``
        (unless the caller set an actor: ``with audit.acting_as(Actor("etl")):``)."""
        with audit.acting_as(audit.PYTHON, unless_set=True), self._pool.connection() as conn:
            yield conn

    @property
    def calendars(self) -> Calendars:
        """The customers' calendars: dates on which the jobs that use one do not run."""
        return Calendars(self)

    # -- jobs ------------------------------------------------------------------------------
    def create_job(
        self,
        brand_id: UUID | str,
        schedule: Schedule,
        job_type: str,
        *,
        customer_id: UUID | str | None = None,
        name: str | None = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        output_format: str | None = None,
        output_path: str | None = None,
        on_success: str | dict[str, Any] | None = None,
        on_failure: str | dict[str, Any] | None = None,
        max_retries: int | None = None,
        retry_delay: int | None = None,
        timeout_seconds: int | None = None,
        overlap_policy: str | None = None,
        misfire_policy: str | None = None,
        enabled: bool = True,
        auto_start: bool = False,
        auto_pause_after_failures: int | None = None,
        auto_pause_trial_after_seconds: int | None = None,
        calendar_id: UUID | str | None = None,
        starts_at: dt.datetime | None = None,
        ends_at: dt.datetime | None = None,
        max_runs: int | None = None,
    ) -> Job:
        """Create a job for a brand (its customer is looked up unless given); ``None`` means
        the service's default. The seed's keywords land in ``metadata`` (see docs/python-api.md).
        A named collector whose key is not set is saved, with a ``CollectorWarning``.
        ``auto_start``: also queue a manual run, due now, saved with the job (workers run it);
        the returned job's ``last_run_id`` is that run's id. ``auto_pause_after_failures`` (2 to
        1000) pauses the job after that many failed slots in a row, ``auto_pause_trial_after_seconds``
        makes one trial run that long after (docs/alerts.md). ``calendar_id`` (one of the customer's
        calendars: ``manager.calendars``) skips the slots on its dates; ``starts_at``/``ends_at``
        (aware) bound the slots and ``max_runs`` caps the scheduled runs (docs/schedules.md)."""
        if not isinstance(schedule, Schedule):
            raise ValidationError("schedule must be a JobSchedule", field="schedule")
        if name is not None and description is not None and name != description:
            raise ValidationError("give name or description (the same field), not both", field="description")
        seed = dict(zip(_SEED_METADATA, (output_format, output_path, on_success, on_failure), strict=True))
        values: dict[str, Any] = {
            "brand_id": fields.uuid(brand_id, "brand_id"), "job_type": job_type, "is_active": enabled,
            "name": name if name is not None else description, "metadata": merge_metadata(metadata, seed),
            **{k: v for k, v in schedule.to_fields().items() if k != "schedule_kind"},
        }  # fmt: skip
        optional = {"max_retries": max_retries, "retry_delay": retry_delay, "timeout_seconds": timeout_seconds,
                    "overlap_policy": overlap_policy, "misfire_policy": misfire_policy,
                    "auto_pause_after_failures": auto_pause_after_failures,
                    "auto_pause_trial_after_seconds": auto_pause_trial_after_seconds,
                    "calendar_id": calendar_id, "starts_at": starts_at, "ends_at": ends_at,
                    "max_runs": max_runs}  # fmt: skip
        values.update({k: v for k, v in optional.items() if v is not None})
        if customer_id is not None:  # else the brand's; jobs.create_job refuses any other
            values["customer_id"] = fields.uuid(customer_id, "customer_id")
        with self._session() as conn:
            if auto_start:
                row, run = jobs.create_and_start(conn, values, self.clock.now())
            else:
                row, run = jobs.create_job(conn, values, self.clock.now()), None
            _warn(jobs.warnings_for(conn, row))
        return bound_job(row, run, self)

    def get_job(self, job_id: UUID | str) -> Job | None:
        """The job, or None when no job has this id (also when it is not a UUID)."""
        ident = maybe_uuid(job_id)
        if ident is None:
            return None
        with self._session() as conn:
            try:
                row = jobs.get_job(conn, ident)
            except NotFound:
                return None
            latest = runs_repo.latest_runs(conn, [ident])
        return bound_job(row, latest.get(ident), self)

    def update_job(self, job: Job) -> Job:
        """Save the fields changed since ``job`` was read; refreshes and returns ``job``.

        ``metadata`` is merged by key (see ``Job._changes``); a named collector whose key is
        not set is saved, with a ``CollectorWarning`` (as in ``create_job``).

        Raises ``NotFound`` when the job is gone and ``ValidationError`` for bad values
        or for fields that cannot change (``customer_id``, ``brand_id``).
        """
        if not isinstance(job, Job):
            raise ValidationError("update_job takes a Job", field="job")
        if job.id is None:
            raise ValidationError("the job has no id; create it with create_job", field="id")
        changes = job._changes()
        with self._session() as conn:
            row = jobs.update_job(conn, job.id, changes, self.clock.now())
            latest = runs_repo.latest_runs(conn, [job.id])
            _warn(jobs.warnings_for(conn, row))
        job._refresh(bound_job(row, latest.get(job.id), self))
        return job

    def delete_job(self, job_id: UUID | str) -> bool:
        """Delete the job and its run history; False when there was no such job."""
        ident = maybe_uuid(job_id)
        if ident is None:
            return False
        with self._session() as conn:
            try:
                jobs.delete_job(conn, ident)
            except NotFound:
                return False
        return True

    def list_jobs(self) -> list[Job]:
        """Every job, newest first."""
        return self.filter_jobs()

    def filter_jobs(
        self,
        status: str | None = None,
        job_type: str | None = None,
        customer_id: UUID | str | None = None,
        brand_id: UUID | str | None = None,
        is_active: bool | None = None,
    ) -> list[Job]:
        """Jobs matching every filter given, newest first; ``status`` is that of the job's
        latest run (see ``Job.status``): jobs that never ran match no status."""
        wanted = choice(RunStatus, status, "status")
        if is_active is not None and not isinstance(is_active, bool):
            raise ValidationError("is_active must be true, false or None", field="is_active")
        filters = {
            "job_type": choice(JobType, job_type, "job_type"),
            "customer_id": fields.uuid(customer_id, "customer_id") if customer_id is not None else None,
            "brand_id": fields.uuid(brand_id, "brand_id") if brand_id is not None else None,
            "is_active": is_active,
        }
        out: list[Job] = []
        after = None
        with self._session() as conn:
            while True:
                rows = jobs_repo.list_jobs(conn, **filters, after=after, limit=PAGE_SIZE)
                latest = runs_repo.latest_runs(conn, [r["id"] for r in rows])
                for r in rows:
                    run = latest.get(r["id"])
                    if wanted is None or (run is not None and run.status == wanted):
                        out.append(bound_job(ScheduledJob.from_row(r), run, self))
                if len(rows) < PAGE_SIZE:
                    return out
                after = (rows[-1]["created_at"], rows[-1]["id"])

    def enable_job(self, job_id: UUID | str) -> Job:
        return self._set_active(job_id, True)

    def disable_job(self, job_id: UUID | str) -> Job:
        return self._set_active(job_id, False)

    def _set_active(self, job_id: UUID | str, active: bool) -> Job:
        ident = fields.uuid(job_id, "job_id")
        with self._session() as conn:
            row = jobs.set_active(conn, ident, active, self.clock.now())
            latest = runs_repo.latest_runs(conn, [ident])
        return bound_job(row, latest.get(ident), self)

    # -- runs ------------------------------------------------------------------------------
    def trigger_job(self, job_id: UUID | str) -> JobRun:
        """A manual run, due now, for the workers (a running ``Scheduler``) to execute."""
        with self._session() as conn:
            return jobs.trigger_job(conn, fields.uuid(job_id, "job_id"), self.clock.now())

    def get_run(self, run_id: int) -> JobRun:
        with self._session() as conn:
            return runs.get_run(conn, run_id)

    def retry_run(self, run_id: int) -> JobRun:
        """A new attempt of a failed, partial, cancelled or skipped run, due now, for the workers.

        Raises ``Conflict`` when the run cannot be retried, and ``RetryInProgress`` (a
        ``Conflict`` whose ``retry_run_id`` names it) while a retry in its chain is pending
        or processing.
        """
        with self._session() as conn:
            return runs.retry_run(conn, run_id, self.clock.now())

    def list_runs(self, job_id: UUID | str, *, status: str | None = None, limit: int = 50) -> list[JobRun]:
        """The job's runs, newest first."""
        params = {"job_id": fields.uuid(job_id, "job_id"), "status": choice(RunStatus, status, "status")}
        with self._session() as conn:
            return [JobRun.from_row(r) for r in runs_repo.list_runs(conn, **params, limit=limit)]

    def run_job(self, job_id: UUID | str) -> JobRun:
        """Trigger a manual run and execute it here, as a worker would (the inline runner):
        claimed with a lease kept alive while it runs, its outcome (and retry, if any)
        written by the completer. Raises ``Conflict`` when the lease was lost meanwhile."""
        with audit.acting_as(audit.PYTHON, unless_set=True):
            return inline.run_here(self._pool, fields.uuid(job_id, "job_id"), clock=self.clock,
                                   registry=self.registry, lease_seconds=self.settings.lease_seconds,
                                   dsn=self.dsn)  # fmt: skip
