"""The schedule preview: the next few slots of a schedule not yet saved."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from cronkeeper.api.schemas.common import Instant, ScheduleFields

# A wall-clock time without an offset ("2027-03-14T02:30", seconds optional, as a
# datetime-local input gives it), read in the body's ``timezone``
LocalTime = Annotated[str, Meta(min_length=1, max_length=40)]


class PreviewIn(ScheduleFields):
    count: Annotated[int, Meta(ge=1, le=100)] = 5
    after: Instant | None | UnsetType = UNSET
    # instead of ``run_at``: a one-off's local time, read by the rule every surface shares
    run_at_local: LocalTime | None | UnsetType = UNSET
    # the job the schedule is (or will be) saved on: resolves H items (only hashed, never read)
    job_id: UUID | None | UnsetType = UNSET
    # a calendar to mark excluded slots, and bounds, as a job would have them (docs/schedules.md)
    calendar_id: UUID | None | UnsetType = UNSET
    starts_at: Instant | None | UnsetType = UNSET
    ends_at: Instant | None | UnsetType = UNSET
    max_runs: int | None | UnsetType = UNSET


class PreviewOut(Struct):
    next_runs: list[dt.datetime]
    description: str
    # the instant a ``run_at_local`` stands for (gap -> the jump, repeated -> first pass)
    run_at: dt.datetime | None = None
    # "shifted" (the local time does not exist: moved to the jump), "ambiguous" (it happens
    # twice: the first pass was taken) or null
    note: str | None = None
    # the cron expression with H resolved for job_id ("H 9 * * *" -> "37 9 * * *"); null when
    # it has no H, or has H and no job_id was given (next_runs is then empty: the values are
    # chosen from the job's id when it is saved)
    resolved_expression: str | None = None
    # one entry per next_runs: why calendar_id excludes that slot ("calendar: Holidays excludes
    # 2027-12-25"), or null when it runs
    excluded: list[str | None] = []
