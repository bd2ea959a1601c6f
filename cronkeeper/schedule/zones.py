"""Time zones, always from the pinned ``tzdata`` wheel, never from the host.

``zoneinfo.ZoneInfo(name)`` reads the operating system's database first and
the ``tzdata`` package only as a fallback, so fire times would depend on the
host's (often older) data. Every zone cronkeeper uses is loaded here, from the
wheel's files, and cached per name: one source, one version
(``TZDATA_VERSION``) on every machine and in every process, without touching
the process-wide ``zoneinfo`` search path other code may rely on.

Names are matched in any case and returned under the canonical spelling
(``"america/new_york"`` -> ``"America/New_York"``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from zoneinfo import ZoneInfo

import tzdata

from cronkeeper.errors import InvalidSchedule

UTC = dt.UTC
TZDATA_VERSION: str = tzdata.IANA_VERSION
"""The IANA release of the zone data every fire time is computed with (e.g. ``"2026f"``)."""

_ZONE_DIR = files("tzdata").joinpath("zoneinfo")
# "Factory" is a placeholder zone ("-00") for unconfigured machines, not a place
_NAMES: dict[str, str] = {
    name.lower(): name
    for name in files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    if name != "Factory"
}


def zone_names() -> frozenset[str]:
    """Every zone name the pinned data knows, canonically spelled."""
    return frozenset(_NAMES.values())


def canonical_name(name: str) -> str:
    """``name`` spelled as the data spells it; ``InvalidSchedule`` (field ``timezone``) if unknown."""
    if name is not None and not isinstance(name, str):
        raise InvalidSchedule(f"time zone must be a string, got {name!r}", field="timezone")
    if not name or not name.strip():
        raise InvalidSchedule("time zone is empty", field="timezone")
    canonical = _NAMES.get(name.lower())
    if canonical is None:
        raise InvalidSchedule(f"unknown time zone {name!r}", field="timezone")
    return canonical


def zone(name: str) -> ZoneInfo:
    """The zone called ``name`` (any case), read from the pinned ``tzdata`` wheel.

    One object per zone for the life of the process, so aware datetimes in a
    zone compare and subtract as wall times. ``InvalidSchedule`` (field
    ``timezone``) for an unknown or empty name.
    """
    return _load(canonical_name(name))


@cache  # about 600 zones exist; each file is read once
def _load(canonical: str) -> ZoneInfo:
    with _ZONE_DIR.joinpath(*canonical.split("/")).open("rb") as data:
        return ZoneInfo.from_file(data, key=canonical)


# -- offset periods ---------------------------------------------------------------------------
# zoneinfo has no public list of transitions, so they are found by probing the UTC offset
# once a day and bisecting each change to the second. Since 1970 no zone in the data changes
# its offset twice within 3 days, so a daily probe sees every change.
_PROBE = dt.timedelta(days=1)
_FIRST_YEAR, _LAST_YEAR = 2, 9998  # probes stay clear of datetime's limits in any offset


@dataclass(frozen=True)
class Change:
    """The zone's UTC offset changes from ``before`` to ``after`` at ``at`` (naive UTC)."""

    at: dt.datetime
    before: dt.timedelta
    after: dt.timedelta


def utc_offset(name: str, instant: dt.datetime) -> dt.timedelta:
    """The offset of zone ``name`` at the naive UTC ``instant``."""
    local = instant.replace(tzinfo=UTC).astimezone(zone(name))
    return local.utcoffset() or dt.timedelta(0)


@lru_cache(maxsize=16_384)
def year_changes(name: str, year: int) -> tuple[Change, ...]:
    """The offset changes of zone ``name`` during UTC year ``year``, in order."""
    year = min(max(year, _FIRST_YEAR), _LAST_YEAR)
    t, end = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    offset, out = utc_offset(name, t), []
    while t < end:
        step = min(t + _PROBE, end)
        later = utc_offset(name, step)
        if later != offset:
            out.append(Change(_bisect(name, t, step, offset), offset, later))
            offset = later
        t = step
    return tuple(out)


def _bisect(name: str, lo: dt.datetime, hi: dt.datetime, offset: dt.timedelta) -> dt.datetime:
    """The first second in (lo, hi] whose offset is not ``offset`` (``lo`` has it, ``hi`` not)."""
    while hi - lo > dt.timedelta(seconds=1):
        mid = lo + (hi - lo) // 2
        mid = mid.replace(microsecond=0)
        if utc_offset(name, mid) == offset:
            lo = mid
        else:
            hi = mid
    return hi


def first_change(name: str, after: dt.datetime, until: dt.datetime) -> Change | None:
    """The first offset change in (``after``, ``until``] (naive UTC), or ``None``."""
    for year in range(after.year, until.year + 1):
        for change in year_changes(name, year):
            if change.at > until:
                return None
            if change.at > after:
                return change
    return None


def last_change(name: str, instant: dt.datetime) -> Change | None:
    """The last offset change at or before ``instant`` within about a year, or ``None``."""
    for year in (instant.year, instant.year - 1):
        found = [c for c in year_changes(name, year) if c.at <= instant]
        if found:
            return found[-1]
    return None


# -- local wall times -----------------------------------------------------------------------
SHIFTED = "shifted"
AMBIGUOUS = "ambiguous"


def resolve_local(wall: dt.datetime, name: str) -> tuple[dt.datetime, str | None]:
    """The UTC instant of the naive local ``wall`` time in zone ``name``, read as cron reads a
    fixed-time job, and a note saying when the reading was not the only one.

    A wall time in a spring-forward gap moves forward to the jump (note
    ``"shifted"``); one that happens twice takes the first pass (note
    ``"ambiguous"``); any other has note ``None``. Every surface (Python API,
    CLI, API, preview, and the admin UI's ``lib/zones.js``) follows this rule.
    """
    if wall.tzinfo is not None:
        raise ValueError("resolve_local takes a naive local wall time")
    tz = zone(name)
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    early, late = first.astimezone(UTC), second.astimezone(UTC)
    if early == late:
        return early, None
    if early < late:  # fold 0 is the earlier offset's reading: the hour happens twice
        return early, AMBIGUOUS
    # In a gap fold 0 reads the wall time with the offset before the jump, fold 1 with the
    # one after; the jump lies between the two readings.
    change = first_change(tz.key, late.replace(tzinfo=None), early.replace(tzinfo=None))
    jump = change.at if change is not None else early.replace(tzinfo=None)
    return jump.replace(tzinfo=UTC), SHIFTED
