"""``/api/admin/scheduled-jobs/{id}/schedule-diff``, ``.../versions`` and ``.../versions/{n}/revert``:
see an edit's effect on the next runs before saving it, list a job's schedule versions, go back to one."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody, QueryParameter

from cronkeeper import fields, job_states, jobs, schedule_edits
from cronkeeper.api.params import (
    READ,
    WRITE,
    AccessDep,
    ClockDep,
    Cursor,
    IntPath,
    Limit,
    PoolDep,
    UuidPath,
    int_param,
    uuid_param,
)
from cronkeeper.api.schemas.jobs import JobSaved, JobUpdate
from cronkeeper.api.schemas.schedule_versions import (
    RevertOut,
    ScheduleDiffOut,
    VersionOut,
    VersionPage,
)
from cronkeeper.db import reading

Count = Annotated[
    int, QueryParameter(ge=1, le=100, description="How many upcoming runs to compare (1-100).")
]


class ScheduleVersionController(Controller):
    path = "/scheduled-jobs"
    tags = ["scheduled jobs"]

    @post(
        "/{job_id:str}/schedule-diff", operation_id="diffScheduledJobSchedule", status_code=200,
        responses=READ, opt={"read_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def schedule_diff(
        self, job_id: UuidPath, data: JSONBody[JobUpdate], pool: PoolDep, access: AccessDep, clock: ClockDep,
        count: Count = 10,
    ) -> ScheduleDiffOut:  # fmt: skip
        """The job's next ``count`` runs as it is (``before``) and as the body (the same as an
        update's) would make it (``after``): ``unchanged``, ``added``, ``removed``, ``moved``
        (``from`` -> ``to``, nearest first), and ``dst_notes`` in words for the clock changes in
        that stretch (a run in a spring-forward gap or a repeated hour). Writes nothing; a body
        an update would refuse is refused the same way, a 400 naming the field."""
        ident = uuid_param(job_id, "job_id")
        with reading(pool) as conn:
            diff = schedule_edits.schedule_diff(
                conn, ident, data.given(keep_null=("name",)), clock.now(), count=count,
                customer_id=access.customer_id,
            )  # fmt: skip
        return ScheduleDiffOut.of(diff)

    @get(
        "/{job_id:str}/versions",
        operation_id="listScheduledJobVersions",
        responses=READ,
        sync_to_thread=True,
    )
    def list_versions(
        self,
        job_id: UuidPath,
        pool: PoolDep,
        access: AccessDep,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> VersionPage:
        """The job's schedule versions, newest first (``cursor``: the ``next_cursor`` of the
        previous page). Each has who changed it, when, the fields before and after."""
        ident = uuid_param(job_id, "job_id")
        before = fields.whole_number(cursor, "cursor", 2) if cursor is not None else None
        with reading(pool) as conn:
            found = schedule_edits.versions(conn, ident, before=before, limit=limit + 1,
                                            customer_id=access.customer_id)  # fmt: skip
        next_cursor = str(found[limit - 1].version) if len(found) > limit else None
        return VersionPage([VersionOut.of(v) for v in found[:limit]], next_cursor)

    @post(
        "/{job_id:str}/versions/{version:str}/revert", operation_id="revertScheduledJobVersion",
        status_code=200, responses=WRITE, sync_to_thread=True,
    )  # fmt: skip
    def revert(
        self, job_id: UuidPath, version: IntPath, pool: PoolDep, access: AccessDep, clock: ClockDep
    ) -> RevertOut:
        """Apply version ``version``'s schedule fields to the job; that is a new version
        (``reverted_from`` names the one restored), and ``next_run_at`` is computed as for any
        edit. ``version`` is null when the job already had exactly those fields. 404 for a
        version the job does not have."""
        ident, number = uuid_param(job_id, "job_id"), int_param(version, "version")
        with pool.connection() as conn:
            job, written = schedule_edits.revert(
                conn, ident, number, clock.now(), customer_id=access.customer_id
            )
            saved = JobSaved.saved(
                job, jobs.warnings_for(conn, job), state=job_states.state(conn, job)
            )
        access.audit("job_reverted", job_id=ident, version=number)
        return RevertOut(saved, VersionOut.of(written) if written else None)
