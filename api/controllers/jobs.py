"""``/api/admin/scheduled-jobs``: list, create, read, change, delete, trigger (async or sync), history, bulk."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

import anyio.to_thread
import psycopg
from litestar import Controller, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody, QueryParameter
from psycopg_pool import ConnectionPool

from cronkeeper import client, job_states, jobs, pausing
from cronkeeper.api import cursors
from cronkeeper.api.auth import Access
from cronkeeper.api.errors import status_for
from cronkeeper.api.pages import JobPageResponse, RunPageResponse, job_json, page_response
from cronkeeper.api.params import (
    READ,
    WRITE,
    AccessDep,
    ClockDep,
    Cursor,
    Limit,
    PagePoolsDep,
    PoolDep,
    Search,
    UuidPath,
    page,
    search_param,
    uuid_param,
)
from cronkeeper.api.schemas.jobs import (
    BulkAction,
    BulkIn,
    BulkOut,
    BulkResult,
    JobIn,
    JobOut,
    JobSaved,
    JobUpdate,
)
from cronkeeper.api.schemas.runs import RunOut
from cronkeeper.clock import Clock
from cronkeeper.db import reading
from cronkeeper.errors import CronkeeperError
from cronkeeper.job_bounds import BOUND_FIELDS
from cronkeeper.models import JobRun, JobType, RunStatus, ScheduledJob
from cronkeeper.repo import brands as brands_repo
from cronkeeper.repo import pages

SYNC_DONE = ResponseSpec(data_container=RunOut, description="mode=sync: the finished run", generate_examples=False)
TriggerMode = Annotated[
    Literal["async", "sync"],
    QueryParameter(description="`async` (default): queue the run, 202. `sync`: run a small job now, 200."),
]


def _trigger(pool: ConnectionPool, job_id: UUID, access: Access, clock: Clock) -> RunOut:
    with pool.connection() as conn:
        run = jobs.trigger_job(conn, job_id, clock.now(), customer_id=access.customer_id)
        return _run_out(conn, run)


def _run_out(conn: psycopg.Connection, run: JobRun) -> RunOut:
    """The run as every answer about a run shows it, its brand named as the lists do."""
    brand = brands_repo.get_brand(conn, run.brand_id)
    return RunOut.of(run, {"brand_name": brand.name if brand else None})


def _sync_out(pool: ConnectionPool, run: JobRun) -> RunOut:
    with pool.connection() as conn:
        return _run_out(conn, run)


def _bulk_one(
    conn: psycopg.Connection, action: BulkAction, job_id: UUID, access: AccessDep, clock: ClockDep,
    pause: dict | None = None,
) -> tuple[int, ScheduledJob | None, JobRun | None]:
    """One bulk action through the same service functions as the single routes (``pause``: a
    deactivate's reason and end, ``pausing.bulk_pause_options``)."""
    cid, now = access.customer_id, clock.now()
    if action is BulkAction.ACTIVATE:
        return 200, jobs.set_active(conn, job_id, True, now, customer_id=cid), None
    if action is BulkAction.DEACTIVATE and pause is not None:
        return 200, pausing.pause_job(conn, job_id, now, customer_id=cid, **pause), None
    if action is BulkAction.DEACTIVATE:
        return 200, jobs.set_active(conn, job_id, False, now, customer_id=cid), None
    if action is BulkAction.TRIGGER:
        return 202, None, jobs.trigger_job(conn, job_id, now, customer_id=cid)
    jobs.delete_job(conn, job_id, customer_id=cid)
    return 204, None, None


JobSort = Literal["created", "next_run", "last_run"]
_SORT_KEY = {"next_run": "next_run_at", "last_run": "last_run_at"}


def _sorted_page(
    pools: pages.Pools, sort: str, cursor: tuple[bool, dt.datetime, UUID] | None, limit: int, filters: dict
) -> tuple[list[pages.JobRow], str | None]:
    """A page in ``sort``'s order: the jobs that have its time (part "a"), then the rest (part "b",
    newest first), each keyset-paginated; the cursor names the part of the page's last row."""
    in_rest = cursor is not None and cursor[0]
    rows: list[pages.JobRow] = []
    if not in_rest:
        after = cursor[1:] if cursor else None
        rows = pages.jobs_page(pools, sort=sort, after_sort=after, **filters, limit=limit + 1)
    first = len(rows)
    if first <= limit:
        after = cursor[1:] if in_rest and cursor else None
        rows += pages.jobs_page(pools, sort=sort, rest=True, after=after, **filters, limit=limit + 1 - first)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1].fields()
    if len(rows) <= first:
        return rows, cursors.encode("a", dt.datetime.fromisoformat(last[_SORT_KEY[sort]]), last["id"])
    return rows, cursors.encode("b", dt.datetime.fromisoformat(last["created_at"]), last["id"])


class ScheduledJobController(Controller):
    path = "/scheduled-jobs"
    tags = ["scheduled jobs"]

    @get("/", operation_id="listScheduledJobs", responses=READ, sync_to_thread=True)  # api.app.PAGE_POOLS
    def list_jobs(
        self,
        page_pools: PagePoolsDep,
        access: AccessDep,
        customer_id: FromQuery[UUID | None] = None,
        brand_id: FromQuery[UUID | None] = None,
        is_active: FromQuery[bool | None] = None,
        job_type: FromQuery[JobType | None] = None,
        search: Search = None,
        sort: Annotated[JobSort, QueryParameter(description=(
            "`created` (default): newest first. `next_run`: active jobs by next run, soonest first, then "
            "the rest (paused, finished) newest first. `last_run`: by last scheduled run, latest first, "
            "then the jobs never run. Keyset-paginated across pages either way."))] = "created",
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> JobPageResponse:
        """Jobs newest first, keyset-paginated on (created_at, id), or in ``sort``'s order;
        ``search`` matches the brand's name."""
        filters = {
            "customer_id": access.filter(customer_id), "brand_id": brand_id, "is_active": is_active,
            "job_type": str(job_type) if job_type else None, "search": search_param(search),
        }  # fmt: skip
        if sort == "created":
            rows = pages.jobs_page(page_pools, **filters, after=cursors.decode_time_id(cursor), limit=limit + 1)
            rows, next_cursor = page(rows, limit, lambda j: j.keyset())
            return page_response(map(job_json, rows), next_cursor)
        rows, next_cursor = _sorted_page(page_pools, sort, cursors.decode_sorted(cursor), limit, filters)
        return page_response(map(job_json, rows), next_cursor)

    @post("/", operation_id="createScheduledJob", status_code=201, responses=WRITE, sync_to_thread=True)
    def create_job(self, data: JSONBody[JobIn], pool: PoolDep, access: AccessDep, clock: ClockDep) -> JobSaved:
        """A new job with its first ``next_run_at`` and a plain-English description of its schedule.

        Its customer is its brand's; ``customer_id`` may be left out, and when given must be that one.
        ``warnings`` lists what will not work as it stands (a named collector whose key is not set).
        ``auto_start: true`` also queues a manual run, due now, in the same transaction (both are
        saved or neither); ``started_run_id`` is its id.
        """
        values = data.given()
        start = values.pop("auto_start", False)
        values["customer_id"] = access.owner(values.get("customer_id"))
        with pool.connection() as conn:
            if start:
                job, run = jobs.create_and_start(conn, values, clock.now(), customer_id=access.customer_id)
            else:
                job, run = jobs.create_job(conn, values, clock.now(), customer_id=access.customer_id), None
            warnings = jobs.warnings_for(conn, job)
        access.audit("job_created", job_id=job.id, customer_id=job.customer_id)
        if run is not None:
            access.audit("job_triggered", job_id=job.id, run_id=run.id)
        return JobSaved.saved(job, warnings, started_run_id=run.id if run else None)

    @get("/{job_id:str}", operation_id="getScheduledJob", responses=READ, sync_to_thread=True)
    def get_job(self, job_id: UuidPath, pool: PoolDep, access: AccessDep) -> JobOut:
        with reading(pool) as conn:
            job = jobs.get_job(conn, uuid_param(job_id, "job_id"), customer_id=access.customer_id)
            return JobOut.of(job, state=job_states.state(conn, job))

    @put("/{job_id:str}", operation_id="updateScheduledJob", responses=WRITE, sync_to_thread=True)
    def update_job(
        self, job_id: UuidPath, data: JSONBody[JobUpdate], pool: PoolDep, access: AccessDep, clock: ClockDep
    ) -> JobSaved:
        """Change any subset of fields; a new schedule recomputes ``next_run_at``.

        ``metadata`` is merged into the job's by key (JSON merge patch: ``null`` removes a key).
        ``warnings`` as for a new job.
        """
        ident = uuid_param(job_id, "job_id")
        with pool.connection() as conn:
            job = jobs.update_job(
                conn, ident, data.given(keep_null=("name", "auto_pause_after_failures", "auto_pause_trial_after_seconds", *BOUND_FIELDS)),
                clock.now(), customer_id=access.customer_id,
            )
            warnings = jobs.warnings_for(conn, job)
            state = job_states.state(conn, job)
        access.audit("job_updated", job_id=job.id)
        return JobSaved.saved(job, warnings, state=state)

    @delete("/{job_id:str}", operation_id="deleteScheduledJob", responses=WRITE, sync_to_thread=True)
    def delete_job(self, job_id: UuidPath, pool: PoolDep, access: AccessDep) -> None:
        """Delete the job and its run history."""
        ident = uuid_param(job_id, "job_id")
        with pool.connection() as conn:
            jobs.delete_job(conn, ident, customer_id=access.customer_id)
        access.audit("job_deleted", job_id=ident)

    @post(
        "/{job_id:str}/trigger", operation_id="triggerScheduledJob", status_code=202,
        responses={**WRITE, 200: SYNC_DONE},
    )  # fmt: skip
    async def trigger_job(
        self, job_id: UuidPath, pool: PoolDep, access: AccessDep, clock: ClockDep, mode: TriggerMode = "async"
    ) -> Response[RunOut]:
        """A manual run, due now; a listening worker starts it at once (``NOTIFY``), 202.

        ``mode=sync`` runs a small job in this request and answers 200 with the finished
        run: 400 when its brand has more than 5 active queries, 409 when it does not
        finish within 20 s (it is then stopped and recorded as failed).
        """
        ident = uuid_param(job_id, "job_id")
        if mode == "sync":
            run = await anyio.to_thread.run_sync(
                lambda: client.inline.run_now(pool, ident, customer_id=access.customer_id, clock=clock)
            )
            access.audit("job_run_sync", job_id=ident, run_id=run.id, status=run.status)
            return Response(await anyio.to_thread.run_sync(_sync_out, pool, run), status_code=200)
        out = await anyio.to_thread.run_sync(_trigger, pool, ident, access, clock)
        access.audit("job_triggered", job_id=ident, run_id=out.id)
        return Response(out, status_code=202)

    @get("/{job_id:str}/runs", operation_id="listScheduledJobRuns", responses=READ, sync_to_thread=True)  # api.app.PAGE_POOLS
    def list_job_runs(
        self,
        job_id: UuidPath,
        page_pools: PagePoolsDep,
        access: AccessDep,
        status: FromQuery[RunStatus | None] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> RunPageResponse:
        """The job's run history, newest first (keyset on id)."""
        ident, before = uuid_param(job_id, "job_id"), cursors.decode_id(cursor)
        rows = pages.runs_page(
            page_pools, customer_id=access.customer_id, job_id=ident,
            status=str(status) if status else None, before_id=before, limit=limit + 1,
        )  # fmt: skip
        if not rows:  # runs of the job in scope prove it exists; only an empty page needs a look
            with reading(page_pools.custom) as conn:
                jobs.get_job(conn, ident, customer_id=access.customer_id)
        rows, next_cursor = page(rows, limit, lambda r: (r.id,))
        return page_response((r.json for r in rows), next_cursor)

    @post("/bulk", operation_id="bulkScheduledJobs", status_code=200, responses=WRITE, sync_to_thread=True)
    def bulk(self, data: JSONBody[BulkIn], pool: PoolDep, access: AccessDep, clock: ClockDep) -> BulkOut:
        """One action on many jobs, each in its own transaction; a result per id (duplicates once).

        ``deactivate`` may give a ``reason`` and an ``until``: each job is then paused with them, as
        ``POST .../pause`` does (a paused job's reason and end are replaced); without them it is
        switched off. 400 naming ``reason`` / ``until`` when bad or given with another action."""
        pause = pausing.bulk_pause_options(data.action, data.reason, data.until, clock.now())
        results = []
        for job_id in dict.fromkeys(data.ids):
            try:
                with pool.connection() as conn:
                    status, job, run = _bulk_one(conn, data.action, job_id, access, clock, pause)
                    out = JobOut.of(job, state=job_states.state(conn, job)) if job else None
            except CronkeeperError as exc:
                results.append(BulkResult(
                    id=job_id, ok=False, status=status_for(exc), error=type(exc).__name__, message=exc.message,
                ))  # fmt: skip
                continue
            results.append(BulkResult(
                id=job_id, ok=True, status=status, job=out,
                run=RunOut.of(run) if run else None,
            ))  # fmt: skip
        ok = sum(r.ok for r in results)
        access.audit("jobs_bulk", action=data.action, succeeded=ok, failed=len(results) - ok)
        return BulkOut(action=data.action, succeeded=ok, failed=len(results) - ok, results=results)
