"""The schedule preview: the next few slots of a schedule not yet saved."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from cronkeeper.api.schemas.common import Instant, ScheduleFields


class PreviewIn(ScheduleFields):
    count: Annotated[int, Meta(ge=1, le=100)] = 5
    after: Instant | None | UnsetType = UNSET


class PreviewOut(Struct):
    next_runs: list[dt.datetime]
    description: str
