"""Slot arithmetic: which of a schedule's slots fall in a stretch of time.

A job's slots are the sequence that starts at its ``next_run_at`` and goes on
with ``Schedule.next_after``. The scheduler asks which slots are due at
``now`` (``due_slots``); resuming a paused job asks the same to record the
missed ones. ``slots_between`` lists a stretch of the sequence and
``first_after`` jumps past a moment without listing. All instants in are
aware; all instants out are UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cronkeeper.schedule.value import Schedule

# Slots listed one by one per job and call after a long gap (downtime, a long
# pause); past this the rest of the gap is counted or jumped, never listed.
MAX_ENUMERATED_SLOTS = 1000


@dataclass(frozen=True)
class DueSlots:
    """The slots due at a moment.

    ``slots``: the listed due slots, oldest first (at most the cap).
    ``unlisted``: how many further due slots were not listed: 0 when none,
    -1 when some but the count is unknown (cron; counting would mean listing).
    ``next_slot``: the first slot after the moment, ``None`` when the
    schedule has no more (a one-off).
    """

    slots: tuple[dt.datetime, ...]
    unlisted: int
    next_slot: dt.datetime | None


def first_after(
    schedule: Schedule, slot: dt.datetime | None, moment: dt.datetime
) -> dt.datetime | None:
    """The first slot strictly after ``moment`` of the sequence through ``slot``.

    An interval keeps its phase (``slot`` plus whole steps); cron asks for the
    next fire after ``moment``; a one-off has none once ``slot`` is past.
    """
    if slot is None:
        return None
    if slot > moment:
        return slot
    if schedule.interval_seconds:
        step = schedule.interval_seconds
        steps = int((moment - slot).total_seconds() // step) + 1
        return slot + dt.timedelta(seconds=steps * step)
    if schedule.run_at is not None:
        return None
    return schedule.next_after(moment)


def _count_to(schedule: Schedule, slot: dt.datetime, moment: dt.datetime) -> int:
    """How many slots from ``slot`` (due) up to ``moment``, or -1 when only listing could tell."""
    if schedule.interval_seconds:
        return int((moment - slot).total_seconds() // schedule.interval_seconds) + 1
    return -1


def slots_between(
    schedule: Schedule,
    start: dt.datetime | None,
    until: dt.datetime,
    limit: int = MAX_ENUMERATED_SLOTS,
) -> tuple[list[dt.datetime], dt.datetime | None]:
    """The slots of the sequence through ``start`` from ``start`` up to and including ``until``.

    At most ``limit`` are listed, oldest first; also returned is the slot that
    follows the last one listed (``None`` when the schedule has no more).
    """
    listed: list[dt.datetime] = []
    slot = start
    while slot is not None and slot <= until and len(listed) < limit:
        listed.append(slot)
        slot = schedule.next_after(slot)
    return listed, slot


def due_slots(
    schedule: Schedule,
    start: dt.datetime | None,
    now: dt.datetime,
    limit: int = MAX_ENUMERATED_SLOTS,
) -> DueSlots:
    """The slots from ``start`` (a job's ``next_run_at``) up to and including ``now``.

    At most ``limit`` are listed; the rest of a longer gap is counted in
    ``unlisted`` and skipped over to ``next_slot`` without listing each one.
    """
    listed, slot = slots_between(schedule, start, now, limit)
    unlisted = 0
    if slot is not None and slot <= now:
        unlisted = _count_to(schedule, slot, now)
        slot = first_after(schedule, slot, now)
    return DueSlots(tuple(listed), unlisted, slot)
