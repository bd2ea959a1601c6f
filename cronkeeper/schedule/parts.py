"""The parts schedules are built from, checked: whole numbers in bounds, clock
times, days of the week, local wall times.

Each check returns the part normalized or raises ``InvalidSchedule`` naming
the field. Days of the week follow cron everywhere (Python API, CLI, API, UI):
0 and 7 are Sunday, 1 is Monday ... 6 is Saturday; names ("mon", "Monday")
are accepted too.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from cronkeeper.errors import InvalidSchedule
from cronkeeper.schedule.zones import resolve_local

UTC = dt.UTC
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
# cron's day numbers; index 0 is Sunday
_DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_DAY_BY_NAME = {
    **{name: n for n, name in enumerate(_DAY_NAMES)},
    **{name[:3]: n for n, name in enumerate(_DAY_NAMES)},
}


def whole_number(
    value: Any, field: str, lo: int, hi: int | None, what: str = "a whole number"
) -> int:
    """``value`` if it is an int (not a bool) from ``lo`` to ``hi`` (no upper bound when ``None``)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < lo
        or (hi is not None and value > hi)
    ):
        bounds = f"at least {lo}" if hi is None else f"from {lo} to {hi}"
        raise InvalidSchedule(f"{field} must be {what} {bounds}, got {value!r}", field=field)
    return value


def clock_time(value: Any) -> tuple[int, int]:
    """``"HH:MM"`` (or a naive ``datetime.time`` on a whole minute) as (hour, minute);
    ``InvalidSchedule`` (field ``time``) otherwise."""
    if (
        isinstance(value, dt.time)
        and value.tzinfo is None
        and not (value.second or value.microsecond)
    ):
        return value.hour, value.minute
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidSchedule(
            f"time must be HH:MM between 00:00 and 23:59, got {value!r}", field="time"
        )
    return int(match[1]), int(match[2])


def cron_weekday(value: Any) -> int:
    """cron's day number 0 (Sunday) ... 6 (Saturday) for a number 0-7 (0 and 7 are
    Sunday) or a day name, full or three letters, in any case (``"mon"``, ``"Monday"``);
    ``InvalidSchedule`` (field ``day_of_week``) otherwise."""
    day = _DAY_BY_NAME.get(value.strip().lower()) if isinstance(value, str) else None
    if day is not None:
        return day
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 7:
        return value % 7
    raise InvalidSchedule(
        "day_of_week must be a day number from 0 to 7 as in cron (0 or 7 = Sunday, "
        f'1 = Monday ... 6 = Saturday) or a day name such as "mon", got {value!r}',
        field="day_of_week",
    )


def local_instant(day: dt.date, hour: int, minute: int, timezone: str) -> dt.datetime:
    """The UTC instant of a local wall time, read as cron reads a fixed-time job.

    The first occurrence when the hour repeats (fall-back); the jump itself
    when the wall time does not exist (spring-forward): ``zones.resolve_local``.
    """
    instant, _note = resolve_local(
        dt.datetime(day.year, day.month, day.day, hour, minute), timezone
    )
    return instant
