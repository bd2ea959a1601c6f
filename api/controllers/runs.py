"""``/api/admin/job-runs``: list, read, cancel, retry."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromQuery

from cronkeeper import runs
from cronkeeper.api import cursors
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
from cronkeeper.api.schemas.runs import RunOut
from cronkeeper.db import reading
from cronkeeper.models import JobType, RunStatus
from cronkeeper.repo import pages


class JobRunController(Controller):
    path = "/job-runs"
    tags = ["job runs"]

    @get("/", operation_id="listJobRuns", responses=READ, sync_to_thread=False)  # api.app.IN_LOOP
    def list_runs(
        self,
        page_pools: PagePoolsDep,
        access: AccessDep,
        customer_id: FromQuery[UUID | None] = None,
        brand_id: FromQuery[UUID | None] = None,
        status: FromQuery[RunStatus | None] = None,
        job_type: FromQuery[JobType | None] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> RunPageResponse:
        """Runs newest first, keyset-paginated on id."""
        before = cursors.decode_id(cursor)
        rows = pages.runs_page(
            page_pools, customer_id=access.filter(customer_id), brand_id=brand_id,
            status=str(status) if status else None, job_type=str(job_type) if job_type else None,
            before_id=before, limit=limit + 1,
        )  # fmt: skip
        rows, next_cursor = page(rows, limit, lambda r: (r.id,))
        return page_response((r.json for r in rows), next_cursor)

    @get("/{run_id:str}", operation_id="getJobRun", responses=READ, sync_to_thread=False)  # api.app.IN_LOOP
    def get_run(self, run_id: IntPath, page_pools: PagePoolsDep, access: AccessDep) -> RunOut:
        """One run with its metrics and error, and the run retrying it (``retried_by``) if any."""
        ident = int_param(run_id, "run_id")
        with reading(page_pools.custom) as conn:
            run = runs.get_run(conn, ident, customer_id=access.customer_id)
            return RunOut.of(run, retried_by=runs.retried_by(conn, run.id))

    @post("/{run_id:str}/cancel", operation_id="cancelJobRun", status_code=200, responses=WRITE, sync_to_thread=True)
    def cancel_run(self, run_id: IntPath, pool: PoolDep, access: AccessDep, clock: ClockDep) -> RunOut:
        """A pending run is cancelled at once; a processing one stops at its next checkpoint (409 if finished)."""
        ident = int_param(run_id, "run_id")
        with pool.connection() as conn:
            run = runs.cancel_run(conn, ident, clock.now(), customer_id=access.customer_id)
        access.audit("run_cancelled", run_id=run.id, status=run.status)
        return RunOut.of(run)

    @post("/{run_id:str}/retry", operation_id="retryJobRun", status_code=202, responses=WRITE, sync_to_thread=True)
    def retry_run(self, run_id: IntPath, pool: PoolDep, access: AccessDep, clock: ClockDep) -> RunOut:
        """A new attempt of a failed, partial, cancelled or skipped run, due now.

        409 otherwise, and 409 naming the retry (``retry_run_id``) while one of this
        run's chain is still pending or processing: a manual retry never forks the chain.
        """
        ident = int_param(run_id, "run_id")
        with pool.connection() as conn:
            run = runs.retry_run(conn, ident, clock.now(), customer_id=access.customer_id)
        access.audit("run_retried", run_id=run.id, retry_of=ident)
        return RunOut.of(run)
