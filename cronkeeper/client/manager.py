"""The Python API: ``JobManager``, ``Job``, ``JobSchedule`` and ``Scheduler``.

A thin layer over the one implementation the API and the services use: jobs
are created, changed, paused and triggered through ``cronkeeper.jobs``, read
through the repositories, run through ``cronkeeper.services.worker.executor`` and scheduled
by the same scheduler and worker loops, here in threads of the calling
process. Bad input raises ``ValidationError`` naming the field, and nothing is
written. See docs/python-api.md for how the seed's names map to ours.
"""

from __future__ import annotations

import atexit
import copy
import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import jobs
from cronkeeper.clock import Clock, SystemClock
from cronkeeper.errors import Conflict, CronkeeperError, NotFound, ValidationError
from cronkeeper.handlers import Registry
from cronkeeper.job_types import registry as default_registry
from cronkeeper.models import JobRun, JobType, RunStatus, ScheduledJob
from cronkeeper.repo import brands as brands_repo
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import processes
from cronkeeper.repo import runs as runs_repo
from cronkeeper.schedule import Schedule
from cronkeeper.services.worker.executor import Context, execute, finish
from cronkeeper.settings import Settings

log = logging.getLogger("cronkeeper.python_api")

JobSchedule = Schedule  # the seed's name: once, hourly, daily, weekly, monthly, custom, every
PAGE_SIZE = 500  # jobs read per statement by list_jobs / filter_jobs
_SETTINGS = ("name", "job_type", "is_active", "metadata", "max_retries", "retry_delay",
             "timeout_seconds", "overlap_policy", "misfire_policy")  # fmt: skip
_SEED_METADATA = ("output_format", "output_path", "on_success", "on_failure")
_TIMES = ("next_run_at", "last_run_at", "created_at", "updated_at", "last_run")


def _as_uuid(value: Any, name: str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise ValidationError(f"{name} must be a UUID, got {value!r}", field=name) from None


def _maybe_uuid(value: Any) -> UUID | None:
    try:
        return _as_uuid(value, "id")
    except ValidationError:
        return None


def _choice(enum: type, value: Any, name: str) -> str | None:
    if value is None:
        return None
    try:
        return str(enum(value))
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValidationError(f"{name} must be one of {allowed}; got {value!r}", field=name) from None


def _webhook(value: Any) -> Any:
    """A bare URL is the seed's shape; cronkeeper stores ``{"url": ..., "secret_env": ...}``."""
    return {"url": value} if isinstance(value, str) else value


def _merge_metadata(metadata: Any, seed: Mapping[str, Any]) -> Any:
    """``metadata`` with the seed's keyword arguments (output_*, on_*) folded in."""
    given = {k: (_webhook(v) if k.startswith("on_") else v) for k, v in seed.items() if v is not None}
    if not given:
        return metadata
    if metadata is not None and not isinstance(metadata, Mapping):
        raise ValidationError("metadata must be an object", field="metadata")
    out = dict(metadata or {})
    for key, value in given.items():
        if out.get(key) not in (None, value):
            raise ValidationError(f"{key} and metadata.{key} disagree; give one", field=key)
        out[key] = value
    return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _when(value: Any, name: str) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be an ISO 8601 date and time, got {value!r}", field=name) from None


def _schedule_from(value: Any) -> Schedule:
    if isinstance(value, Schedule):
        return value
    if not isinstance(value, Mapping):
        raise ValidationError("schedule must be a JobSchedule or its fields", field="schedule")
    try:
        return Schedule.from_fields(**value)
    except TypeError as exc:
        raise ValidationError(f"schedule: {exc}", field="schedule") from None


def _metadata_key(key: str) -> property:
    """A property over ``Job.metadata[key]`` (a new dict on set, so changes are seen)."""

    def set_(self: Job, value: Any) -> None:
        self.metadata = {**self.metadata, key: _webhook(value) if key.startswith("on_") else value}

    return property(lambda self: self.metadata.get(key), set_)


@dataclass
class Job:
    """A scheduled job as plain, editable fields; save changes with ``JobManager.update_job``.

    ``status`` is the status of the job's latest run that was not a skipped slot
    (``None`` when it never ran); ``last_run`` is when that run started (or is due).
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
    _manager: JobManager | None = field(default=None, init=False, repr=False, compare=False)
    _stored: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    # -- the seed's names --------------------------------------------------------------
    enabled = property(lambda self: self.is_active, lambda self, v: setattr(self, "is_active", v))
    description = property(lambda self: self.name, lambda self, v: setattr(self, "name", v))
    next_run = property(lambda self: self.next_run_at)

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
        """What differs from the stored job; the whole schedule when any part of it does."""
        now = self._editable()
        if not self._stored:  # not read from the database (from_dict): every editable field
            return {k: v for k, v in now.items() if k not in ("customer_id", "brand_id")}
        changed = {k: v for k, v in now.items() if self._stored[k] != v}
        if set(changed) & set(jobs.SCHEDULE_FIELDS):
            changed.update({k: now[k] for k in jobs.SCHEDULE_FIELDS})
        return changed

    # -- dictionaries ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields; ``Job.from_dict`` reads them back."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        schedule = self.schedule.to_fields()
        out["schedule"] = {**schedule, "run_at": _iso(schedule["run_at"])}
        out["metadata"] = copy.deepcopy(self.metadata)
        for key in ("id", "customer_id", "brand_id"):
            out[key] = str(out[key]) if out[key] is not None else None
        return {**out, **{k: _iso(out[k]) for k in _TIMES}}

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
        values["id"] = _as_uuid(data["id"], "id") if data.get("id") is not None else None
        values.update({k: _as_uuid(data[k], k) for k in ("customer_id", "brand_id")})
        values.update({k: _when(data.get(k), k) for k in _TIMES})
        values["schedule"] = _schedule_from(data["schedule"])
        values["metadata"] = copy.deepcopy(dict(data["metadata"] or {}))
        job = cls(**values)
        job._manager = manager
        return job


def _job(row: ScheduledJob, latest: JobRun | None, manager: JobManager) -> Job:
    job = Job(
        id=row.id, customer_id=row.customer_id, brand_id=row.brand_id, job_type=str(row.job_type),
        schedule=row.schedule, name=row.name, metadata=copy.deepcopy(row.metadata),
        is_active=row.is_active, max_retries=row.max_retries, retry_delay=row.retry_delay,
        timeout_seconds=row.timeout_seconds, overlap_policy=str(row.overlap_policy),
        misfire_policy=str(row.misfire_policy), next_run_at=row.next_run_at,
        last_run_at=row.last_run_at, created_at=row.created_at, updated_at=row.updated_at,
        status=str(latest.status) if latest else None, last_run_id=latest.id if latest else None,
        last_run=(latest.started_at or latest.run_after) if latest else None,
    )  # fmt: skip
    job._manager = manager
    job._stored = copy.deepcopy(job._editable())
    return job


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
        from cronkeeper.db import make_pool, prepared_dsn

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
    ) -> Job:
        """Create a job for a brand (its customer is looked up unless given); ``None`` means
        the service's default. The seed's keywords land in ``metadata`` (see docs/python-api.md)."""
        if not isinstance(schedule, Schedule):
            raise ValidationError("schedule must be a JobSchedule", field="schedule")
        if name is not None and description is not None and name != description:
            raise ValidationError("give name or description (the same field), not both", field="description")
        seed = dict(zip(_SEED_METADATA, (output_format, output_path, on_success, on_failure), strict=True))
        values: dict[str, Any] = {
            "brand_id": _as_uuid(brand_id, "brand_id"), "job_type": job_type, "is_active": enabled,
            "name": name if name is not None else description, "metadata": _merge_metadata(metadata, seed),
            **{k: v for k, v in schedule.to_fields().items() if k != "schedule_kind"},
        }  # fmt: skip
        optional = {"max_retries": max_retries, "retry_delay": retry_delay, "timeout_seconds": timeout_seconds,
                    "overlap_policy": overlap_policy, "misfire_policy": misfire_policy}  # fmt: skip
        values.update({k: v for k, v in optional.items() if v is not None})
        with self._pool.connection() as conn:
            values["customer_id"] = self._customer_of(conn, values["brand_id"], customer_id)
            row = jobs.create_job(conn, values, self.clock.now())
        return _job(row, None, self)

    @staticmethod
    def _customer_of(conn: psycopg.Connection, brand_id: UUID, customer_id: Any) -> UUID:
        if customer_id is not None:
            return _as_uuid(customer_id, "customer_id")
        brand = brands_repo.get_brand(conn, brand_id)
        if brand is None:
            raise ValidationError(f"no brand {brand_id}", field="brand_id")
        return brand.customer_id

    def get_job(self, job_id: UUID | str) -> Job | None:
        """The job, or None when no job has this id (also when it is not a UUID)."""
        ident = _maybe_uuid(job_id)
        if ident is None:
            return None
        with self._pool.connection() as conn:
            try:
                row = jobs.get_job(conn, ident)
            except NotFound:
                return None
            latest = runs_repo.latest_runs(conn, [ident])
        return _job(row, latest.get(ident), self)

    def update_job(self, job: Job) -> Job:
        """Save the fields changed since ``job`` was read; refreshes and returns ``job``.

        Raises ``NotFound`` when the job is gone and ``ValidationError`` for bad values
        or for fields that cannot change (``customer_id``, ``brand_id``).
        """
        if not isinstance(job, Job):
            raise ValidationError("update_job takes a Job", field="job")
        if job.id is None:
            raise ValidationError("the job has no id; create it with create_job", field="id")
        changes = job._changes()
        with self._pool.connection() as conn:
            row = jobs.update_job(conn, job.id, changes, self.clock.now())
            latest = runs_repo.latest_runs(conn, [job.id])
        job._refresh(_job(row, latest.get(job.id), self))
        return job

    def delete_job(self, job_id: UUID | str) -> bool:
        """Delete the job and its run history; False when there was no such job."""
        ident = _maybe_uuid(job_id)
        if ident is None:
            return False
        with self._pool.connection() as conn:
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
        wanted = _choice(RunStatus, status, "status")
        if is_active is not None and not isinstance(is_active, bool):
            raise ValidationError("is_active must be true, false or None", field="is_active")
        filters = {
            "job_type": _choice(JobType, job_type, "job_type"),
            "customer_id": _as_uuid(customer_id, "customer_id") if customer_id is not None else None,
            "brand_id": _as_uuid(brand_id, "brand_id") if brand_id is not None else None,
            "is_active": is_active,
        }
        out: list[Job] = []
        after = None
        with self._pool.connection() as conn:
            while True:
                rows = jobs_repo.list_jobs(conn, **filters, after=after, limit=PAGE_SIZE)
                latest = runs_repo.latest_runs(conn, [r["id"] for r in rows])
                for r in rows:
                    run = latest.get(r["id"])
                    if wanted is None or (run is not None and run.status == wanted):
                        out.append(_job(ScheduledJob.from_row(r), run, self))
                if len(rows) < PAGE_SIZE:
                    return out
                after = (rows[-1]["created_at"], rows[-1]["id"])

    def enable_job(self, job_id: UUID | str) -> Job:
        return self._set_active(job_id, True)

    def disable_job(self, job_id: UUID | str) -> Job:
        return self._set_active(job_id, False)

    def _set_active(self, job_id: UUID | str, active: bool) -> Job:
        ident = _as_uuid(job_id, "job_id")
        with self._pool.connection() as conn:
            row = jobs.set_active(conn, ident, active, self.clock.now())
            latest = runs_repo.latest_runs(conn, [ident])
        return _job(row, latest.get(ident), self)

    # -- runs ------------------------------------------------------------------------------
    def trigger_job(self, job_id: UUID | str) -> JobRun:
        """A manual run, due now, for the workers (a running ``Scheduler``) to execute."""
        with self._pool.connection() as conn:
            return jobs.trigger_job(conn, _as_uuid(job_id, "job_id"), self.clock.now())

    def get_run(self, run_id: int) -> JobRun:
        with self._pool.connection() as conn:
            return jobs.get_run(conn, run_id)

    def list_runs(self, job_id: UUID | str, *, status: str | None = None, limit: int = 50) -> list[JobRun]:
        """The job's runs, newest first."""
        params = {"job_id": _as_uuid(job_id, "job_id"), "status": _choice(RunStatus, status, "status")}
        with self._pool.connection() as conn:
            return [JobRun.from_row(r) for r in runs_repo.list_runs(conn, **params, limit=limit)]

    def run_job(self, job_id: UUID | str) -> JobRun:
        """Trigger a manual run and execute it here, as a worker would: claimed with a lease
        kept alive while it runs, its outcome (and retry, if any) recorded by ``finish``."""
        ident = _as_uuid(job_id, "job_id")
        worker_id = processes.new_process_id("worker")
        with self._pool.connection() as conn, conn.transaction():
            # inserted and claimed in one transaction: no worker ever sees it pending
            run = jobs.trigger_job(conn, ident, self.clock.now())
            claimed = runs_repo.claim_run(conn, run.id, worker_id, self.clock.now(), self.settings.lease_seconds)
        assert claimed is not None
        ctx = Context(claimed, self._pool, worker_id, self.clock, dsn=self.dsn)
        done = threading.Event()
        keeper = threading.Thread(target=self._keep_lease, args=(ctx, done), daemon=True)
        keeper.start()
        try:
            outcome = execute(ctx, self.registry)
        finally:
            done.set()
            keeper.join()
        with self._pool.connection() as conn:
            result = finish(conn, claimed, worker_id, outcome, self.clock.now())
        if result.run is None:
            raise Conflict(f"run {run.id} was taken back (its lease expired) before it finished")
        return result.run

    def _keep_lease(self, ctx: Context, done: threading.Event) -> None:
        """The worker's heartbeat for one run: renew its lease, notice a cancellation."""
        lease = self.settings.lease_seconds
        while not done.wait(min(lease / 3, 5.0)):
            try:
                with self._pool.connection() as conn:
                    flags = runs_repo.renew_leases(conn, ctx.worker_id, [ctx.run.id], self.clock.now(), lease)
            except psycopg.Error as exc:
                log.warning("heartbeat_failed", extra={**ctx.ids(), "error": str(exc).strip()})
                continue
            if flags.get(ctx.run.id):
                ctx.cancel_seen.set()


class Scheduler:
    """The scheduler and a worker, each in a daemon thread of this process.

    Both are the services' own loops (``cronkeeper.loops``) on the manager's
    database; ``settings`` (poll intervals, lease, grace), ``clock``, ``registry``
    and ``concurrency`` default to the manager's and may be injected. The
    threads end with the process: call ``stop()`` (also registered with
    ``atexit``) to let runs in hand finish, and keep the process alive (``join()``)
    for jobs to keep running.
    """

    def __init__(
        self,
        job_manager: JobManager,
        *,
        settings: Settings | None = None,
        clock: Clock | None = None,
        registry: Registry | None = None,
        concurrency: int | None = None,
    ) -> None:
        self.job_manager = job_manager
        self.settings = settings or job_manager.settings
        self.clock = clock or job_manager.clock
        self.registry = registry or job_manager.registry
        self.concurrency = concurrency
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None
        self._threads: list[threading.Thread] = []
        self._scheduler: Any = None
        self._worker: Any = None
        self._errors: dict[str, str] = {}
        self._started_at: dt.datetime | None = None

    def start(self) -> None:
        """Start both loops; does nothing when they run already."""
        from cronkeeper.services.scheduler.loop import Scheduler as SchedulerLoop
        from cronkeeper.services.worker.loop import Worker

        with self._lock:
            if self._running():
                return
            dsn, stop = self.job_manager.dsn, threading.Event()
            self._scheduler = SchedulerLoop(dsn, self.settings, self.clock)
            self._worker = Worker(dsn, self.settings, registry=self.registry, clock=self.clock,
                                  concurrency=self.concurrency)  # fmt: skip
            self._stop, self._errors, self._started_at = stop, {}, self.clock.now()
            self._threads = [
                threading.Thread(target=self._serve, args=(name, loop, stop), name=f"cronkeeper-{name}", daemon=True)
                for name, loop in (("scheduler", self._scheduler), ("worker", self._worker))
            ]
            for t in self._threads:
                t.start()
            atexit.register(self.stop)
        log.info("python_scheduler_started", extra={"worker_id": self._worker.worker_id})

    def _serve(self, name: str, loop: Any, stop: threading.Event) -> None:
        try:
            loop.serve(stop)
        except Exception as exc:  # recorded for get_status; the other loop goes on
            log.exception("python_scheduler_loop_failed", extra={"loop": name})
            self._errors[name] = f"{type(exc).__name__}: {exc}"

    def stop(self, timeout: float | None = None) -> None:
        """Stop both loops: claiming ends, runs in hand get the shutdown grace to finish."""
        with self._lock:
            if self._stop is None:
                return
            self._stop.set()
            for t in self._threads:
                t.join(timeout)
            if not any(t.is_alive() for t in self._threads):
                self._worker.close()
            self._stop = None
            atexit.unregister(self.stop)
        log.info("python_scheduler_stopped", extra={"worker_id": self._worker.worker_id})

    def join(self, timeout: float | None = None) -> bool:
        """Block until stopped (or ``timeout`` passes); True when no longer running."""
        for t in list(self._threads):
            t.join(timeout)
        return not self.is_running()

    def _running(self) -> bool:
        return self._stop is not None and not self._stop.is_set() and all(t.is_alive() for t in self._threads)

    def is_running(self) -> bool:
        return self._running()

    def get_status(self) -> dict[str, Any]:
        """Whether it runs, the worker's counts since start, loop errors, and the database's
        view: runs pending and processing, jobs due now, the next slot of any active job."""
        status: dict[str, Any] = {
            "running": self._running(),
            "started_at": _iso(self._started_at),
            "scheduler_id": self._scheduler.process_id if self._scheduler else None,
            "worker_id": self._worker.worker_id if self._worker else None,
            "worker": dataclasses.asdict(self._worker.counts()) if self._worker else None,
            "errors": dict(self._errors),
        }
        try:
            with self.job_manager.connection() as conn:
                queue = runs_repo.queue_depth(conn)
                due = jobs_repo.count_due(conn, self.clock.now())
                earliest = jobs_repo.earliest_next_run(conn)
        except (psycopg.Error, CronkeeperError) as exc:
            return {**status, "database_error": str(exc).strip()}
        return {
            **status,
            "runs_pending": queue.get("pending", 0),
            "runs_processing": queue.get("processing", 0),
            "jobs_due": due["due"],
            "next_run_at": _iso(earliest),
        }
