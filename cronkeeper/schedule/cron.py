"""Cron expressions: validation, fire times in a job's own zone, plain-English descriptions.

Expressions are classic 5-field Unix cron (``minute hour day-of-month month
day-of-week``) or one of the macros ``@yearly @annually @monthly @weekly
@daily @midnight @hourly``. Field semantics are ISC cron's (the same as cronsim's):

* a list of items; an item is ``*``, ``n``, ``a-b`` (never reversed), each
  optionally stepped (``*/15``, ``1-30/2``); ``n/s`` means ``n-max/s``;
* month and day-of-week take names (``JAN``, ``MON``), any case; day-of-week
  7 is Sunday and a stepped ``*`` there spans 0-7;
* day-of-month and day-of-week: when either field starts with ``*`` a day must
  match both, otherwise either one;
* ``L`` in day-of-month is the month's last day; ``nL`` (last weekday ``n``)
  and ``n#k`` (``k``-th weekday ``n``) in day-of-week, only when day-of-month is
  ``*`` and without plain days beside them. ``?``, ``W``, ``H`` and seconds are
  rejected.

Fire times are found by croniter on naive local wall-clock times, from an
expression rebuilt out of the parsed value sets (so croniter 7's own readings
of ``5-5`` as a whole field, of wrap-around ranges and of ``*``-dependent day
logic never apply), then mapped to real instants with ISC cron's DST rules:

* a *fixed-time* job (neither the minute nor the hour field starts with
  ``*``, ISC's ``MIN_STAR|HR_STAR`` test; every macro but ``@hourly``) whose
  wall times fall in a spring-forward gap runs once, at the jump (ISC cron
  runs it once per skipped matching minute); in a repeated fall-back hour it
  runs in the first pass only;
* a *wildcard* job follows real elapsed time: no run for wall times that do
  not exist, a run in both passes of a repeated hour.

Every bad input raises ``InvalidSchedule`` with field ``cron_expression`` or
``timezone``. Zones come from the pinned ``tzdata`` wheel (``zones.py``), so
fire times are the same on every host and correct past 2037.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from functools import _CacheInfo, lru_cache
from zoneinfo import ZoneInfo

from cron_descriptor import ExpressionDescriptor, FormatException, Options, WrongArgumentException
from croniter import croniter
from croniter.croniter import CroniterBadDateError, CroniterError

from cronkeeper.schedule import spread, zones
from cronkeeper.schedule.cron_fields import (
    HOURS,
    MINUTES,
    MONTHS,
    as_list,
    bad,
    day_fields,
    field_values,
)

UTC = dt.UTC
MACROS: dict[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELD_LIST = "minute hour day-of-month month day-of-week"
_MINUTE = dt.timedelta(minutes=1)
# Periods ending this long before a candidate match cannot hold an earlier one.
_SKIP_MARGIN = dt.timedelta(days=2)
_PROBE_START = dt.datetime(2000, 1, 1)


@dataclass(frozen=True, eq=False)
class _Cron:
    """A validated expression: its normal form, DST class and a croniter template."""

    normalized: str
    fixed_time: bool
    template: croniter = field(repr=False)


def _parse(expr: str) -> _Cron:
    """The parsed ``expr``; cached, so each distinct text is parsed once."""
    if not isinstance(expr, str):  # before the cache, which needs a hashable key
        raise bad("cron expression must be a string")
    return _parse_text(expr)


@lru_cache(maxsize=4096)
def _parse_text(expr: str) -> _Cron:
    fields = expr.split()
    if not fields:
        raise bad("cron expression is empty")
    if len(fields) == 1 and fields[0].startswith("@"):
        macro = fields[0].lower()
        if macro not in MACROS:
            raise bad(f"unknown macro {fields[0]!r}; use one of {', '.join(MACROS)}")
        parsed = _parse(MACROS[macro])
        return _Cron(macro, parsed.fixed_time, parsed.template)
    if len(fields) != 5:
        raise bad(f"expected 5 fields ({_FIELD_LIST}), got {len(fields)}")
    minute, hour, dom, month, dow = fields
    minutes = as_list(field_values(minute, MINUTES), MINUTES)
    hours = as_list(field_values(hour, HOURS), HOURS)
    dom_text, dow_text, day_or = day_fields(dom, dow)
    rebuilt = (
        f"{minutes} {hours} {dom_text} {as_list(field_values(month, MONTHS), MONTHS)} {dow_text}"
    )
    normalized = " ".join(fields)
    try:
        template = croniter(rebuilt, _PROBE_START, day_or=day_or)
        template.get_next(dt.datetime)  # an impossible date (Feb 30) fails here, not at is_valid
    except CroniterBadDateError:
        raise bad(f"cron expression {normalized!r} never fires (no such date)") from None
    except CroniterError as exc:
        raise bad(f"cron expression {normalized!r} is not valid: {exc}") from None
    return _Cron(normalized, not (minute.startswith("*") or hour.startswith("*")), template)


def validate_cron(expr: str) -> str:
    """The normal form of ``expr`` (whitespace collapsed, macros lower-cased).

    Raises ``InvalidSchedule`` (field ``cron_expression``) naming the problem:
    empty, not 5 fields, unknown macro, a value out of its field's range, bad
    syntax, or a schedule that can never fire (``0 0 31 2 *``). ``H`` items stay as written.
    """
    if spread.has_hash(expr):
        return _validate_hashed(expr)
    return _parse(expr).normalized


@lru_cache(maxsize=4096)
def _validate_hashed(expr: str) -> str:
    for text in spread.variants(expr, (2, 3)):  # a day-of-month or month choice may never fire
        _parse(text)
    return " ".join(expr.split())


def is_fixed_time(expr: str) -> bool:
    """True when neither the minute nor the hour field starts with ``*`` (ISC cron's rule;
    every macro but ``@hourly``)."""
    return _parse(expr).fixed_time


def validate_timezone(name: str) -> ZoneInfo:
    """The zone called ``name`` from the pinned tz data (``zones.zone``); ``InvalidSchedule``
    (field ``timezone``) otherwise. Its ``key`` is the canonical name."""
    return zones.zone(name)


@dataclass(frozen=True)
class _Period:
    """Zone ``zone`` keeps offset ``offset`` from ``start`` (naive UTC) on; ``before`` came first.

    ``before == offset`` when no change lies close behind ``start`` (a period
    found by looking back a year or so starts where the look stopped).
    """

    zone: str
    start: dt.datetime
    offset: dt.timedelta
    before: dt.timedelta

    def in_second_pass(self, wall: dt.datetime) -> bool:
        """Whether wall time ``wall`` in this period is the repeat of a fall-back hour."""
        return self.before > self.offset and wall < self.start + self.before

    def spring_gap(self) -> bool:
        return self.before < self.offset


def _period_at(zone: str, instant: dt.datetime) -> _Period:
    """The period holding the naive UTC ``instant``."""
    change = zones.last_change(zone, instant)
    if change is None:
        offset = zones.utc_offset(zone, instant)
        return _Period(zone, dt.datetime(max(instant.year - 1, 1), 1, 1), offset, offset)
    return _Period(zone, change.at, change.after, change.before)


def _wall_after(cron: _Cron, wall: dt.datetime) -> dt.datetime:
    """The first wall-clock minute matching ``cron`` strictly after ``wall``."""
    it = copy.copy(cron.template)  # the template is shared: never move its own cursor
    return it.get_next(dt.datetime, start_time=wall.replace(second=0, microsecond=0))


def _wall_from(cron: _Cron, wall: dt.datetime) -> dt.datetime:
    """The first wall-clock minute matching ``cron`` at or after ``wall``."""
    floor = wall.replace(second=0, microsecond=0)
    return _wall_after(cron, floor - _MINUTE if floor == wall else floor)


def _next_instant(cron: _Cron, zone: str, after: dt.datetime) -> dt.datetime:
    """The first fire instant strictly after ``after`` (naive UTC in and out)."""
    period = _period_at(zone, after)
    return _next_instant_from(cron, period, _wall_after(cron, after + period.offset))


def _next_instant_from(cron: _Cron, period: _Period, wall: dt.datetime) -> dt.datetime:
    """Walk the offset periods from ``period``; ``wall`` is the first match at or after the start.

    The period after the first is always searched: a repeated hour there can
    replay wall times from before ``wall``. Beyond it, periods that end more
    than ``_SKIP_MARGIN`` before the candidate are skipped: all their wall
    times lie between a searched start and the candidate, so none matches.
    """
    hops = 0
    while True:
        if cron.fixed_time and period.in_second_pass(wall):
            # A fixed-time job ran in the first pass of a repeated hour: skip the second.
            wall = _wall_from(cron, period.start + period.before)
            continue
        instant = wall - period.offset
        change = zones.first_change(period.zone, period.start, instant)
        if change is None:
            return instant  # no offset change between the period's start and the match
        period = _Period(period.zone, change.at, change.after, change.before)
        if hops:
            later = _period_at(period.zone, instant - _SKIP_MARGIN)
            period = later if later.start > period.start else period
        hops += 1
        start, before, now = period.start, period.before, period.offset
        if (
            cron.fixed_time
            and period.spring_gap()
            and _wall_from(cron, start + before) < start + now
        ):
            return start  # wall time(s) in a spring-forward gap: once, right at the jump
        wall = _wall_from(cron, start + now)


def _aware(after: dt.datetime) -> dt.datetime:
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("after must be a timezone-aware datetime")
    return after.astimezone(UTC)


def next_fire(expr: str, timezone: str, after: dt.datetime) -> dt.datetime:
    """The first fire time of ``expr`` in ``timezone`` strictly after the aware instant ``after``.

    Returned aware in UTC. Memoized on (normalized expression, zone, instant),
    so jobs sharing a schedule and a due slot share one computation. Raises
    ``InvalidSchedule`` for a bad expression or zone, ``ValueError`` for a naive
    ``after``, ``OverflowError`` past year 9999.
    """
    return _next_fire(validate_cron(expr), timezone, _aware(after))


@lru_cache(maxsize=100_000)
def _next_fire(expr: str, timezone: str, after: dt.datetime) -> dt.datetime:
    naive = _next_instant(_parse(expr), zones.canonical_name(timezone), after.replace(tzinfo=None))
    return naive.replace(tzinfo=UTC)


def next_fire_cache_info() -> _CacheInfo:
    """Hits and misses of ``next_fire``'s memo."""
    return _next_fire.cache_info()


def clear_next_fire_cache() -> None:
    _next_fire.cache_clear()


def fire_times(expr: str, timezone: str, after: dt.datetime, count: int) -> list[dt.datetime]:
    """The next ``count`` fire times (aware, UTC) strictly after ``after``."""
    out: list[dt.datetime] = []
    instant = _aware(after)
    for _ in range(count):
        instant = next_fire(expr, timezone, instant)
        out.append(instant)
    return out


@lru_cache(maxsize=4096)  # cron-descriptor costs ~0.4 ms; job lists repeat expressions
def describe_cron(expr: str, timezone: str = "UTC") -> str:
    """Plain English for a valid ``expr`` ("At 09:00, only on Monday"), with " (Zone)" unless UTC."""
    normalized = validate_cron(expr)
    zone = validate_timezone(timezone)
    options = Options()
    options.use_24hour_time_format = True
    try:
        text = ExpressionDescriptor(MACROS.get(normalized, normalized), options).get_description()
    except (FormatException, WrongArgumentException):
        text = f"Cron schedule {normalized}"
    return text if zone.key == "UTC" else f"{text} ({zone.key})"
