"""Calendars and bounds applied to a job's slots: pure, shared by the tick and the preview.

A ``CalendarRule`` excludes slots by their LOCAL date in the job's zone (listed
dates; with ``business_days_only`` also Saturdays and Sundays): the tick
records such a slot ``skipped`` with the rule's reason. ``Bounds`` drops slots
outside ``[starts_at, ends_at]`` (they are not slots of the job at all) and
counts the scheduled runs against ``max_runs``; a job past its bounds has no
next run, and ``finished_reason`` says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cronkeeper.schedule.zones import zone


@dataclass(frozen=True)
class CalendarRule:
    """A calendar as the scheduler applies it: its name, its excluded dates, and weekends."""

    name: str
    business_days_only: bool = False
    dates: frozenset[dt.date] = frozenset()

    def excludes(self, slot: dt.datetime, timezone: str) -> str | None:
        """Why the slot's local date in ``timezone`` is excluded, or ``None`` when it runs."""
        day = slot.astimezone(zone(timezone)).date()
        if day in self.dates:
            return f"calendar: {self.name} excludes {day.isoformat()}"
        if self.business_days_only and day.weekday() >= 5:
            return f"calendar: {self.name} excludes weekends ({day.isoformat()} is a {day:%A})"
        return None

    def reasons(self, slots: Iterable[dt.datetime], timezone: str) -> dict[dt.datetime, str]:
        """The excluded ones of ``slots``, each with its reason."""
        out = {}
        for slot in slots:
            reason = self.excludes(slot, timezone)
            if reason is not None:
                out[slot] = reason
        return out


@dataclass(frozen=True)
class Bounds:
    """A job's bounds: no slot before ``starts_at`` or after ``ends_at``; at most ``max_runs``
    scheduled runs, ``run_count`` of which exist already. All optional."""

    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    max_runs: int | None = None
    run_count: int = 0

    @classmethod
    def of(cls, job: Any) -> Bounds:
        """The bounds of a ``ScheduledJob`` (or anything with the same attributes)."""
        return cls(
            getattr(job, "starts_at", None), getattr(job, "ends_at", None),
            getattr(job, "max_runs", None), getattr(job, "scheduled_run_count", 0) or 0,
        )  # fmt: skip

    @property
    def bounded(self) -> bool:
        return self.starts_at is not None or self.ends_at is not None or self.max_runs is not None

    @property
    def remaining(self) -> int | None:
        """How many more scheduled runs are allowed (``None``: no limit)."""
        return None if self.max_runs is None else max(0, self.max_runs - self.run_count)

    def within(self, slot: dt.datetime) -> bool:
        """The slot lies between the start and the end (both inclusive)."""
        return (self.starts_at is None or slot >= self.starts_at) and (self.ends_at is None or slot <= self.ends_at)

    def start_from(self, now: dt.datetime) -> dt.datetime:
        """The moment after which the first slot is looked for: ``now``, or just before the start."""
        if self.starts_at is not None and self.starts_at > now:
            return self.starts_at - dt.timedelta(microseconds=1)
        return now

    def next_slot(self, slot: dt.datetime | None) -> dt.datetime | None:
        """``slot`` as the job's next run, or ``None`` when it is past the end or no runs remain."""
        if slot is None or self.remaining == 0 or (self.ends_at is not None and slot > self.ends_at):
            return None
        return slot


def finished_reason(job: Any) -> str | None:
    """Why an active job has no next run because of its bounds ("reached its 10 runs",
    "ended at 2027-01-31T00:00:00+00:00"), or ``None`` when its bounds are not the reason."""
    if not getattr(job, "is_active", True) or getattr(job, "next_run_at", None) is not None:
        return None
    bounds = Bounds.of(job)
    if bounds.max_runs is not None and bounds.remaining == 0:
        return f"reached its {bounds.max_runs} runs" if bounds.max_runs != 1 else "reached its 1 run"
    if bounds.ends_at is not None:
        return f"ended at {bounds.ends_at.astimezone(dt.UTC).isoformat(timespec='seconds')}"
    return None


def bounded_slots(
    bounds: Bounds, slots: Iterable[dt.datetime], next_slot: dt.datetime | None
) -> tuple[list[dt.datetime], dt.datetime | None]:
    """The due ``slots`` within the start and end, and the next slot (``None`` past the end)."""
    if not bounds.bounded:
        return list(slots), next_slot
    return [s for s in slots if bounds.within(s)], bounds.next_slot(next_slot)


def cap_runs(
    bounds: Bounds, slots: list[dt.datetime], skipped: Iterable[dt.datetime], next_slot: dt.datetime | None
) -> tuple[list[dt.datetime], dt.datetime | None]:
    """``slots`` cut after the last run ``max_runs`` still allows (skipped slots do not count);
    the next slot is ``None`` once that many runs are planned: the job finishes."""
    remaining = bounds.remaining
    if remaining is None:
        return slots, next_slot
    skipped = set(skipped)
    runnable = [s for s in slots if s not in skipped]
    if len(runnable) < remaining:
        return slots, next_slot
    last = runnable[remaining - 1] if remaining else None
    return [s for s in slots if last is not None and s <= last], None


def preview(
    schedule: Any, after: dt.datetime, count: int, bounds: Bounds, calendar: CalendarRule | None
) -> list[tuple[dt.datetime, str | None]]:
    """The next ``count`` slots after ``after`` within ``bounds``, each with the reason its
    ``calendar`` excludes it (``None``: it runs); ends at ``ends_at`` and after ``max_runs`` runs."""
    if schedule.interval_seconds and bounds.starts_at is not None and bounds.starts_at > after:
        slots = [bounds.starts_at, *schedule.upcoming(bounds.starts_at, count - 1)]  # as job_bounds.first_slot
    else:
        slots = schedule.upcoming(bounds.start_from(after), count)
    out: list[tuple[dt.datetime, str | None]] = []
    runs = 0
    for slot in slots:
        if not bounds.within(slot) or (bounds.remaining is not None and runs >= bounds.remaining):
            break
        reason = calendar.excludes(slot, schedule.timezone) if calendar else None
        runs += reason is None
        out.append((slot, reason))
    return out
