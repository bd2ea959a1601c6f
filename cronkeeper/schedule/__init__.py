"""The schedule value and its arithmetic.

``Schedule`` (``value.py``) is what a job's schedule is: cron in a zone, an
interval, or one run, validated on construction; ``parts.py`` checks the parts
its builders take (clock times, days of the week in cron's numbering: 0 or 7 =
Sunday, 1 = Monday). ``cron.py`` computes cron fire times in a zone under ISC
cron's rules (``fields.py`` checks the five fields); ``zones.py`` supplies every
zone from the pinned ``tzdata`` wheel and reads local wall times. ``slots.py``
is the slot arithmetic every caller shares: the slots due at a moment (capped
at ``MAX_ENUMERATED_SLOTS``) and the first slot after one.
"""

from cronkeeper.schedule.slots import MAX_ENUMERATED_SLOTS, DueSlots, due_slots, first_after
from cronkeeper.schedule.value import MAX_SECONDS, Schedule, ScheduleKind

__all__ = [
    "MAX_ENUMERATED_SLOTS",
    "MAX_SECONDS",
    "DueSlots",
    "Schedule",
    "ScheduleKind",
    "due_slots",
    "first_after",
]
