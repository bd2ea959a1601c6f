"""The upcoming runs of a schedule before and after an edit, compared; no database.

``diff_slots`` takes the current schedule and the proposed one, each with the
slot its sequence starts from (a job's ``next_run_at``, or what it would be
after the edit; ``None``: no runs, e.g. paused), and compares the next
``count`` slots of each:

* ``unchanged``: slots both have;
* ``moved``: a slot of one matched with a slot of the other close to it (less
  than half the shortest time between two slots of either, at most 12 hours:
  "09:00 -> 08:30" each day), nearest pairs first, each slot used once;
* ``removed`` / ``added``: the rest of the current / proposed slots.

To match the last slots of a list with their partners, each sequence is read on
past the other's last listed slot (at most ``ENUMERATION_CAP`` slots; past it
``complete`` is false and slots later than what was read are left out).

``dst_notes`` say in words what the time-zone changes in that stretch (at most
``NOTES_SPAN`` ahead) do to the
proposed schedule: the clocks going forward or back, a wall time that does not
exist (a fixed-time cron job runs at the jump) or happens twice (it runs at the
first pass; a wildcard job runs in both). All instants are aware UTC.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from cronkeeper.schedule import zones
from cronkeeper.schedule.bounds import Bounds
from cronkeeper.schedule.cron import fire_times, is_fixed_time
from cronkeeper.schedule.value import Schedule, ScheduleKind

UTC = dt.UTC
MAX_COUNT = 100
ENUMERATION_CAP = 5000
MAX_MATCH = dt.timedelta(hours=12)
_ONE_OFF_MATCH = dt.timedelta(days=366)  # two one-off runs: the one run moved, however far
NOTES_SPAN = dt.timedelta(days=3 * 366)  # clock changes are noted this far ahead at most


@dataclass(frozen=True)
class DstNote:
    """``kind``: ``clock_change``, ``gap`` (wall times that do not exist) or ``overlap`` (wall
    times that happen twice); ``at``: the instant the clocks change; ``text``: in words."""

    kind: str
    at: dt.datetime
    text: str
    zone: str


@dataclass(frozen=True)
class SlotDiff:
    before: list[dt.datetime]
    after: list[dt.datetime]
    unchanged: list[dt.datetime] = field(default_factory=list)
    added: list[dt.datetime] = field(default_factory=list)
    removed: list[dt.datetime] = field(default_factory=list)
    moved: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    dst_notes: list[DstNote] = field(default_factory=list)
    complete: bool = True


Excluded = Callable[[dt.datetime], bool]  # a slot the job's calendar excludes (it stays a slot)


def sequence(
    schedule: Schedule | None, start: dt.datetime | None, *, count: int = ENUMERATION_CAP,
    until: dt.datetime | None = None, bounds: Bounds | None = None, excluded: Excluded | None = None,
) -> list[dt.datetime]:  # fmt: skip
    """The slots from ``start`` (included) on, at most ``count``, none after ``until``; within
    ``bounds`` (none after ``ends_at``, no more than the runs ``max_runs`` leaves, where a slot
    ``excluded`` by the calendar is listed but is not a run, as the tick counts)."""
    remaining = bounds.remaining if bounds is not None else None
    if bounds is not None and bounds.ends_at is not None:
        until = bounds.ends_at if until is None else min(until, bounds.ends_at)
    out: list[dt.datetime] = []
    runs = 0
    slot = start.astimezone(UTC) if start is not None and schedule is not None else None
    while slot is not None and len(out) < count and (until is None or slot <= until):
        if remaining is not None and runs >= remaining:
            break
        out.append(slot)
        runs += not (excluded and excluded(slot))
        slot = schedule.next_after(slot)
    return out


def match_window(*lists: list[dt.datetime]) -> dt.timedelta:
    """How close two slots must be to count as one moved: half the shortest gap between two
    slots of any list, at most ``MAX_MATCH`` (``_ONE_OFF_MATCH`` when no list has two)."""
    gaps = [b - a for slots in lists for a, b in zip(slots, slots[1:], strict=False)]
    if not gaps:
        return _ONE_OFF_MATCH
    return min(min(gaps) / 2, MAX_MATCH)


def _pairs(olds: list[dt.datetime], news: list[dt.datetime], window: dt.timedelta) -> list[tuple]:
    """Old and new slots matched nearest first, each used once, closer than or at ``window``."""
    candidates = []
    for old in olds:
        lo = bisect.bisect_left(news, old - window)
        hi = bisect.bisect_right(news, old + window)
        candidates += [(abs(new - old), old, new) for new in news[lo:hi]]
    used_old: set[dt.datetime] = set()
    used_new: set[dt.datetime] = set()
    pairs = []
    for _, old, new in sorted(candidates):
        if old not in used_old and new not in used_new:
            used_old.add(old)
            used_new.add(new)
            pairs.append((old, new))
    return sorted(pairs)


def _read_on(schedule, start, listed, horizon, bounds, excluded=None) -> tuple[list[dt.datetime], bool]:
    """The sequence up to ``horizon`` (at least ``listed``); whether it got there under the cap."""
    slots = sequence(schedule, start, until=horizon, bounds=bounds, excluded=excluded)
    if len(slots) < len(listed):
        slots = listed
    reached = len(slots) < ENUMERATION_CAP or slots[-1] >= horizon
    return slots, reached


def diff_slots(
    old: Schedule | None, old_start: dt.datetime | None, new: Schedule | None, new_start: dt.datetime | None,
    *, count: int = 10, now: dt.datetime, old_bounds: Bounds | None = None, new_bounds: Bounds | None = None,
    old_excluded: Excluded | None = None, new_excluded: Excluded | None = None,
) -> SlotDiff:  # fmt: skip
    """The next ``count`` slots of ``old`` from ``old_start`` and of ``new`` from ``new_start``,
    each within its bounds (``ends_at``, ``max_runs``; a slot its calendar excludes, ``*_excluded``,
    does not count as a run), compared (see the module's docstring)."""
    before = sequence(old, old_start, count=count, bounds=old_bounds, excluded=old_excluded)
    after = sequence(new, new_start, count=count, bounds=new_bounds, excluded=new_excluded)
    if not before and not after:
        return SlotDiff(before, after)
    window = match_window(before, after)
    horizon = max(before[-1:] + after[-1:]) + window
    old_all, old_done = _read_on(old, old_start, before, horizon, old_bounds, old_excluded)
    new_all, new_done = _read_on(new, new_start, after, horizon, new_bounds, new_excluded)
    limit = horizon if old_done and new_done else min(x[-1] for x in (old_all, new_all) if x)
    old_set, new_set = set(old_all), set(new_all)
    pairs = _pairs(
        [s for s in old_all if s not in new_set], [s for s in new_all if s not in old_set], window
    )
    listed_old, listed_new = set(before), set(after)
    moved = [
        (a, b) for a, b in pairs if (a in listed_old or b in listed_new) and max(a, b) <= limit
    ]
    paired_old, paired_new = {a for a, _ in pairs}, {b for _, b in pairs}
    return SlotDiff(
        before, after,
        unchanged=sorted(s for s in listed_old | listed_new if s in old_set and s in new_set and s <= limit),
        added=[s for s in after if s not in old_set and s not in paired_new and s <= limit],
        removed=[s for s in before if s not in new_set and s not in paired_old and s <= limit],
        moved=moved,
        dst_notes=dst_notes(new, now, max(before[-1:] + after[-1:])),
        complete=old_done and new_done,
    )  # fmt: skip


# -- time-zone changes -------------------------------------------------------------------------
def _changes(zone: str, start: dt.datetime, end: dt.datetime) -> list[zones.Change]:
    """The zone's offset changes in (``start``, ``end``] (aware in, naive UTC ``at`` out)."""
    out, after, until = (
        [],
        start.astimezone(UTC).replace(tzinfo=None),
        end.astimezone(UTC).replace(tzinfo=None),
    )
    while (change := zones.first_change(zone, after, until)) is not None:
        out.append(change)
        after = change.at
    return out


def _offset(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _hhmm(moment: dt.datetime) -> str:
    return f"{moment:%H:%M}"


def _times(walls: list[dt.datetime]) -> str:
    """ "02:30", "02:00 and 02:30", or "60 times from 02:00 to 02:59"."""
    if len(walls) <= 3:
        shown = [_hhmm(w) for w in walls]
        return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return f"{len(walls)} times from {_hhmm(walls[0])} to {_hhmm(walls[-1])}"


def _walls_between(expression: str, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The wall-clock minutes in [``start``, ``end``) (naive) that ``expression`` names."""
    out: list[dt.datetime] = []
    cursor = start.replace(tzinfo=UTC) - dt.timedelta(seconds=1)
    while len(out) < 1440:
        (cursor,) = fire_times(expression, "UTC", cursor, 1)  # in UTC wall times are instants
        if cursor.replace(tzinfo=None) >= end:
            break
        out.append(cursor.replace(tzinfo=None))
    return out


def _clock_note(zone: str, change: zones.Change) -> DstNote:
    local_before = change.at + change.before
    local_after = change.at + change.after
    way = "forward" if change.after > change.before else "back"
    text = (f"On {local_before:%a %Y-%m-%d} the clocks in {zone} go {way} from {_hhmm(local_before)} "
            f"to {_hhmm(local_after)} ({_offset(change.before)} → {_offset(change.after)}).")  # fmt: skip
    return DstNote("clock_change", change.at.replace(tzinfo=UTC), text, zone)


def _wall_note(schedule: Schedule, change: zones.Change) -> DstNote | None:
    """What a cron schedule does with the wall times a change skips or repeats, or None."""
    expression, zone = schedule.resolved_expression, schedule.timezone
    at = change.at.replace(tzinfo=UTC)
    day = f"{change.at + change.before:%Y-%m-%d}"
    if change.after > change.before:  # spring forward: [before, after) of wall time never happens
        walls = _walls_between(expression, change.at + change.before, change.at + change.after)
        if not walls:
            return None
        verb = "does not exist" if len(walls) == 1 else "do not exist"
        if is_fixed_time(expression):
            jump = _hhmm(change.at + change.after)
            then = f"that run is at {jump} ({_hhmm(change.at)} UTC), when the clocks jump"
        else:
            then = "no run then (the job follows elapsed time)"
        return DstNote("gap", at, f"{_times(walls)} on {day} {verb} in {zone}: {then}.", zone)
    walls = _walls_between(expression, change.at + change.after, change.at + change.before)
    if not walls:
        return None
    verb = "happens" if len(walls) == 1 else "happen"
    if is_fixed_time(expression):
        first = walls[0] - change.before
        then = f"the job runs at the first pass only ({_hhmm(first)} UTC)"
    else:
        then = "the job runs in both passes"
    return DstNote("overlap", at, f"{_times(walls)} on {day} {verb} twice in {zone}: {then}.", zone)


def dst_notes(schedule: Schedule | None, now: dt.datetime, until: dt.datetime) -> list[DstNote]:
    """The notes for ``schedule``'s zone's changes from ``now`` to ``until``: each change, and for
    a cron schedule what happens to its wall times the change skips or repeats."""
    if schedule is None or schedule.kind is ScheduleKind.ONCE or until <= now:
        return []
    until = min(until, now + NOTES_SPAN)
    notes: list[DstNote] = []
    for change in _changes(schedule.timezone, now, until):
        notes.append(_clock_note(schedule.timezone, change))
        if schedule.kind is ScheduleKind.CRON:
            wall = _wall_note(schedule, change)
            if wall is not None:
                notes.append(wall)
    return notes
