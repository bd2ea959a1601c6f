"""Bodies of pausing a job with a reason and skipping its next runs (``cronkeeper/pausing.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta

from cronkeeper.api.schemas.common import Input


class PauseIn(Input):
    """Why (at most 500 characters; null or blank: no reason) and until when (ISO 8601 with
    an offset, in the future; null: until resumed)."""

    reason: Annotated[str | None, Meta(description="Why the job is paused (at most 500 characters).")] = None
    until: Annotated[dt.datetime | None, Meta(description="Resume by itself at this time (in the future).")] = None


class SkipIn(Input):
    count: Annotated[int | None, Meta(description="How many of the next runs to skip: 1 to 1000.")] = None
