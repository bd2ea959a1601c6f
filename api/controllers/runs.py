"""``/api/admin/job-runs``: list (filtered), read, cancel, retry, and bulk cancel / retry."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import psycopg
from litestar import Controller, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from cronkeeper import runs
from cronkeeper.api import cursors
from cronkeeper.api.errors import status_for
from cronkeeper.api.pages import RunPageResponse, page_response
from cronkeeper.api.params import (
    READ,
    WRITE,
    AccessDep,
    ClockDep,
    Cursor,
    IntPath,
    Limit,
    PagePoolsDep,
    PoolDep,
    int_param,
    page,
)
from cronkeeper.api.schemas.runs import RunBulkAction, RunBulkIn, RunBulkOut, RunBulkResult, RunOut
from cronkeeper.db import reading
from cronkeeper.errors import ValidationError
from cronkeeper.models import JobRun, JobType, RunStatus, Trigger
from cronkeeper.repo import brands as brands_repo
from cronkeeper.repo import pages
from cronkeeper.runs import BULK_MAX


def _instant(value: str | None, field: str) -> dt.datetime | None:
    """An ISO 8601 instant with its offset (``from`` / ``to``), checked here so that errors name
    the query parameter, not the handler's argument."""
    if value is None or value == "":
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{field} is not an ISO 8601 instant: {value!r}", field=field) from None
    if when.tzinfo is None:
        raise ValidationError(f"{field} needs a UTC offset (2027-01-04T09:00:00Z), not {value!r}", field=field)
    return when


def _named(conn: psycopg.Connection, run: JobRun) -> dict[str, Any]:
    """The listing's ``brand_name`` for a single run's response, so that every answer about a run
    (read, cancel, retry) names its brand as the list does."""
    brand = brands_repo.get_brand(conn, run.brand_id)
    return {"brand_name": brand.name if brand else None}


def _bulk(action: RunBulkAction, ids: list[int], pool: PoolDep, access: AccessDep, clock: ClockDep) -> RunBulkOut:
    with pool.connection() as conn:
        outcomes = runs.bulk_runs(conn, str(action), ids, clock.now(), customer_id=access.customer_id)
        results = [
            RunBulkResult(id=i, ok=True, status=202 if action is RunBulkAction.RETRY else 200,
                          run=RunOut.of(run, _named(conn, run)))
            if run is not None else
            RunBulkResult(id=i, ok=False, status=status_for(exc), error=type(exc).__name__, message=exc.message)
            for i, run, exc in outcomes
        ]  # fmt: skip
    ok = sum(r.ok for r in results)
    access.audit(f"runs_bulk_{action}", succeeded=ok, failed=len(results) - ok,
                 run_ids=[r.id for r in results if r.ok][:BULK_MAX])  # fmt: skip
    return RunBulkOut(action=action, succeeded=ok, failed=len(results) - ok, results=results)


class JobRunController(Controller):
    path = "/job-runs"
    tags = ["job runs"]

    @get("/", operation_id="listJobRuns", responses=READ, sync_to_thread=True)  # api.app.PAGE_POOLS
    def list_runs(
        self,
        page_pools: PagePoolsDep,
        access: AccessDep,
        customer_id: FromQuery[UUID | None] = None,
        brand_id: FromQuery[UUID | None] = None,
        job_id: FromQuery[UUID | None] = None,
        status: FromQuery[RunStatus | None] = None,
        job_type: FromQuery[JobType | None] = None,
        trigger: FromQuery[Trigger | None] = None,
        include_skipped: Annotated[bool, QueryParameter(
            description="false: leave out skipped slots (ignored when `status` is given).")] = True,
        created_from: Annotated[str | None, QueryParameter(max_length=64,
            name="from", description="Runs created at or after this instant (ISO 8601 with an offset).")] = None,
        created_to: Annotated[str | None, QueryParameter(max_length=64,
            name="to", description="Runs created before this instant (ISO 8601 with an offset).")] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> RunPageResponse:
        """Runs newest first, keyset-paginated on id; every filter given narrows the list."""
        before = cursors.decode_id(cursor)
        rows = pages.runs_page(
            page_pools, customer_id=access.filter(customer_id), brand_id=brand_id, job_id=job_id,
            status=str(status) if status else None, job_type=str(job_type) if job_type else None,
            trigger=str(trigger) if trigger else None, hide_skipped=not include_skipped,
            created_from=_instant(created_from, "from"), created_to=_instant(created_to, "to"),
            before_id=before, limit=limit + 1,
        )  # fmt: skip
        rows, next_cursor = page(rows, limit, lambda r: (r.id,))
        return page_response((r.json for r in rows), next_cursor)

    @post("/bulk-cancel", operation_id="bulkCancelJobRuns", status_code=200, responses=WRITE, sync_to_thread=True)
    def bulk_cancel(self, data: JSONBody[RunBulkIn], pool: PoolDep, access: AccessDep, clock: ClockDep) -> RunBulkOut:
        """Cancel up to 100 runs, each as ``POST /job-runs/{id}/cancel`` would (a refused one changes nothing):
        a result per id (duplicates once) saying whether it was done, and if not why (404 for a run
        not in the token's scope, 409 for one already finished)."""
        return _bulk(RunBulkAction.CANCEL, data.ids, pool, access, clock)

    @post("/bulk-retry", operation_id="bulkRetryJobRuns", status_code=200, responses=WRITE, sync_to_thread=True)
    def bulk_retry(self, data: JSONBody[RunBulkIn], pool: PoolDep, access: AccessDep, clock: ClockDep) -> RunBulkOut:
        """Retry up to 100 runs, each as ``POST /job-runs/{id}/retry`` would: a result per id with the
        new attempt, or why not (404 out of scope, 409 not retryable or a retry still in progress)."""
        return _bulk(RunBulkAction.RETRY, data.ids, pool, access, clock)

    @get("/{run_id:str}", operation_id="getJobRun", responses=READ, sync_to_thread=True)  # api.app.PAGE_POOLS
    def get_run(self, run_id: IntPath, page_pools: PagePoolsDep, access: AccessDep) -> RunOut:
        """One run with its metrics and error, and the run retrying it (``retried_by``) if any."""
        ident = int_param(run_id, "run_id")
        # planned once per connection: by id whatever the values (see the statement)
        with reading(page_pools.generic) as conn:
            run, named = runs.get_run_named(conn, ident, customer_id=access.customer_id)
        return RunOut.of(run, named)

    @post("/{run_id:str}/cancel", operation_id="cancelJobRun", status_code=200, responses=WRITE, sync_to_thread=True)
    def cancel_run(self, run_id: IntPath, pool: PoolDep, access: AccessDep, clock: ClockDep) -> RunOut:
        """A pending run is cancelled at once; a processing one stops at its next checkpoint (409 if finished)."""
        ident = int_param(run_id, "run_id")
        with pool.connection() as conn:
            run = runs.cancel_run(conn, ident, clock.now(), customer_id=access.customer_id)
            out = RunOut.of(run, _named(conn, run), retried_by=runs.retried_by(conn, run.id))
        access.audit("run_cancelled", run_id=run.id, status=run.status)
        return out

    @post("/{run_id:str}/retry", operation_id="retryJobRun", status_code=202, responses=WRITE, sync_to_thread=True)
    def retry_run(self, run_id: IntPath, pool: PoolDep, access: AccessDep, clock: ClockDep) -> RunOut:
        """A new attempt of a failed, partial, cancelled or skipped run, due now.

        409 otherwise, and 409 naming the retry (``retry_run_id``) while one of this
        run's chain is still pending or processing: a manual retry never forks the chain.
        """
        ident = int_param(run_id, "run_id")
        with pool.connection() as conn:
            run = runs.retry_run(conn, ident, clock.now(), customer_id=access.customer_id)
            out = RunOut.of(run, _named(conn, run))
        access.audit("run_retried", run_id=run.id, retry_of=ident)
        return out
