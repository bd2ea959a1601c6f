"""A gap-only backfill's request and answer (``cronkeeper/backfill.py``)."""

from __future__ import annotations

import datetime as dt

import msgspec
from msgspec import Struct

from cronkeeper.api.schemas.common import Input, Instant


class BackfillIn(Input):
    start: Instant = msgspec.field(name="from")
    end: Instant = msgspec.field(name="to")
    dry_run: bool = False
    max_runs: int = 1000  # 1 to 10,000; more missing slots in the range is a 400 naming max_runs


class ExcludedSlot(Struct):
    at: dt.datetime
    reason: str  # "calendar: Holidays excludes 2027-12-25"


class BackfillOut(Struct, kw_only=True):
    # the slots from..to without a run that run: created now, or (dry_run) that would be
    slots: list[dt.datetime]
    created: int
    # slots in the range that already had a run (any trigger or status), left untouched
    skipped_existing: int
    dry_run: bool
    # slots without a run the job's calendar excludes: recorded skipped with the reason
    # (dry_run: that would be), as the scheduler records them
    excluded: list[ExcludedSlot] = []
    # how many of ``excluded`` were recorded skipped (0 on a dry run)
    skipped_calendar: int = 0
    # the range narrowed to the job's starts_at / ends_at (no slot outside them)
    notes: list[str] = []
