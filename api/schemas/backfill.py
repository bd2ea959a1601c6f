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


class BackfillOut(Struct):
    # the slots from..to without a run: created now, or (dry_run) that would be
    slots: list[dt.datetime]
    created: int
    # slots in the range that already had a run (any trigger or status), left untouched
    skipped_existing: int
    dry_run: bool
