"""Skip the next N runs, inside the tick.

A job's ``skip_next_runs`` (set by ``cronkeeper.pausing.skip_runs``) turns the
next slots its plan would run into skipped ones, with the reason "skipped on
request by <who>"; slots already skipped for another reason (misfire, overlap,
calendar) do not use up a skip. ``apply`` changes one job's plan (pure);
``count_down`` takes what was used off the jobs in the tick's own transaction,
while the tick holds their row locks, so under any number of schedulers each
skip is used once.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg

from cronkeeper.models import DueJob, ScheduledJob
from cronkeeper.pause_fields import skip_reason
from cronkeeper.repo import pauses as pauses_repo

if TYPE_CHECKING:
    from cronkeeper.services.scheduler.tick import JobPlan


def apply(job: ScheduledJob | DueJob, plan: JobPlan, used: dict[UUID, int]) -> JobPlan:
    """``plan`` with the job's requested skips applied; the number used goes in ``used[job.id]``."""
    left = job.skip_next_runs or 0
    if left <= 0:
        return plan
    reason = skip_reason(job)
    slots: list[Any] = []
    for slot in plan.slots:
        if slot.skip_reason is None and left > 0:
            slot = dataclasses.replace(slot, skip_reason=reason, run_after=slot.scheduled_for)
            left -= 1
        slots.append(slot)
    taken = (job.skip_next_runs or 0) - left
    if not taken:
        return plan
    used[job.id] = taken
    runs_left = any(s.skip_reason is None for s in slots)
    return dataclasses.replace(plan, slots=tuple(slots), replace_active=plan.replace_active and runs_left)


def count_down(conn: psycopg.Connection, used: dict[UUID, int]) -> None:
    """Take the skips used off each job (in the tick's transaction)."""
    pauses_repo.count_down_skips(conn, used)
