"""``/api/admin/scheduled-jobs/{id}/pause|resume|skip``: pause with a reason, resume, skip the next runs.

Each answers the job as ``GET /scheduled-jobs/{id}`` does, with its pause fields
(``paused_reason``, ``paused_by``, ``paused_at``, ``paused_until``,
``paused_automatically``, ``resumed_by``, ``resumed_at``, ``skip_next_runs``).
Scoped like the other job routes: another customer's job is a 404 for a bound token.
"""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from cronkeeper import job_states, pausing
from cronkeeper.api.params import WRITE, AccessDep, ClockDep, PoolDep, UuidPath, uuid_param
from cronkeeper.api.schemas.jobs import JobOut
from cronkeeper.api.schemas.pauses import PauseIn, SkipIn


class JobPauseController(Controller):
    path = "/scheduled-jobs"
    tags = ["scheduled jobs"]

    @post("/{job_id:str}/pause", operation_id="pauseScheduledJob", status_code=200, responses=WRITE,
          sync_to_thread=True)  # fmt: skip
    def pause(self, job_id: UuidPath, data: JSONBody[PauseIn], pool: PoolDep, access: AccessDep,
              clock: ClockDep) -> JobOut:  # fmt: skip
        """Stop scheduling the job, recording who (the token's name), why (``reason``) and, with
        ``until``, when the scheduler resumes it by itself. Pausing a paused job replaces its
        reason and end. 400 naming ``reason`` (over 500 characters) or ``until`` (not in the future)."""
        ident = uuid_param(job_id, "job_id")
        with pool.connection() as conn:
            job = pausing.pause_job(conn, ident, clock.now(), reason=data.reason, until=data.until,
                                    customer_id=access.customer_id)  # fmt: skip
            out = JobOut.of(job, state=job_states.state(conn, job))
        access.audit("job_paused", job_id=ident)
        return out

    @post("/{job_id:str}/resume", operation_id="resumeScheduledJob", status_code=200, responses=WRITE,
          sync_to_thread=True)  # fmt: skip
    def resume(self, job_id: UuidPath, pool: PoolDep, access: AccessDep, clock: ClockDep) -> JobOut:
        """Schedule the job again (an empty body); records ``resumed_by`` / ``resumed_at`` and clears
        the pause's fields. Slots that passed while it was paused are recorded ``skipped``."""
        ident = uuid_param(job_id, "job_id")
        with pool.connection() as conn:
            job = pausing.resume_job(conn, ident, clock.now(), customer_id=access.customer_id)
            out = JobOut.of(job, state=job_states.state(conn, job))
        access.audit("job_resumed", job_id=ident)
        return out

    @post("/{job_id:str}/skip", operation_id="skipScheduledJobRuns", status_code=200, responses=WRITE,
          sync_to_thread=True)  # fmt: skip
    def skip(self, job_id: UuidPath, data: JSONBody[SkipIn], pool: PoolDep, access: AccessDep) -> JobOut:
        """Skip the next ``count`` (1 to 1000) runs the scheduler would make: each such slot is
        recorded ``skipped`` with "skipped on request by <token name>". Replaces an earlier count."""
        ident = uuid_param(job_id, "job_id")
        with pool.connection() as conn:
            job = pausing.skip_runs(conn, ident, data.count, customer_id=access.customer_id)
            out = JobOut.of(job, state=job_states.state(conn, job))
        access.audit("job_skip_requested", job_id=ident, count=data.count)
        return out
