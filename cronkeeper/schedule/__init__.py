"""The schedule value and its arithmetic.

``Schedule`` (``value.py``) is what a job's schedule is: cron in a zone, an
interval, or one run, validated on construction. ``cron.py`` computes cron
fire times in a zone under ISC cron's rules.
"""

from cronkeeper.schedule.value import MAX_SECONDS, Schedule, ScheduleKind

__all__ = ["MAX_SECONDS", "Schedule", "ScheduleKind"]
