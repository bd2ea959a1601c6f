"""``/api/admin/scheduled-jobs/{id}/backfill``: runs for a job's past slots that have none."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from cronkeeper import backfill
from cronkeeper.api.params import WRITE, AccessDep, ClockDep, PoolDep, UuidPath, uuid_param
from cronkeeper.api.schemas.backfill import BackfillIn, BackfillOut, ExcludedSlot


class BackfillController(Controller):
    path = "/scheduled-jobs"
    tags = ["scheduled jobs"]

    @post(
        "/{job_id:str}/backfill", operation_id="backfillScheduledJob", status_code=200, responses=WRITE,
        sync_to_thread=True,
    )  # fmt: skip
    def backfill_job(
        self,
        job_id: UuidPath,
        data: JSONBody[BackfillIn],
        pool: PoolDep,
        access: AccessDep,
        clock: ClockDep,
    ) -> BackfillOut:
        """Create a pending scheduled run for each slot from ``from`` to ``to`` (inclusive, not in
        the future) that has no run at all; ``dry_run`` lists them and writes nothing.

        Slots follow the job's schedule (``H``, zone, DST) as the scheduler's do. Existing runs,
        skipped ones included, are left alone. ``max_runs`` (default 1000, at most 10,000) caps
        the count: more missing slots is a 400 naming it, with nothing written. The runs are due
        now; an overlap ``forbid`` job runs them one after another in slot order, ``allow`` side
        by side; ``replace`` is a 400 naming ``overlap_policy``. Not counted as manual triggers.

        The range keeps to the job's ``starts_at`` / ``ends_at`` (``notes`` says when it was
        narrowed); a slot the job's calendar excludes is recorded ``skipped`` with the calendar's
        reason and listed in ``excluded``, on the dry run too.
        """
        ident = uuid_param(job_id, "job_id")
        with pool.connection() as conn:
            result = backfill.backfill(
                conn, ident, data.start, data.end, clock.now(), dry_run=data.dry_run, max_runs=data.max_runs,
                customer_id=access.customer_id,
            )  # fmt: skip
        if not result.dry_run:
            access.audit("job_backfilled", job_id=ident, runs_created=result.created)
        return BackfillOut(
            slots=result.slots, created=result.created, skipped_existing=result.skipped_existing,
            dry_run=result.dry_run, excluded=[ExcludedSlot(at, why) for at, why in sorted(result.excluded.items())],
            skipped_calendar=result.skipped_calendar, notes=list(result.notes),
        )  # fmt: skip
