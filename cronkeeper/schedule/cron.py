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

* a *fixed-time* job (hour field without ``*`` or ``/``) whose wall time falls
  in a spring-forward gap runs once, at the jump; in a repeated fall-back hour
  it runs once, at the first occurrence;
* any other job follows real elapsed time: no run for wall times that do not
  exist, two runs for wall times that happen twice.

Every bad input raises ``InvalidSchedule`` with field ``cron_expression`` or
``timezone``. Zones are pytz zones; pytz tables stop in 2037, so later
instants use the zone's last offset.
"""

from __future__ import annotations

import copy
import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import _CacheInfo, lru_cache

import pytz
from cron_descriptor import ExpressionDescriptor, FormatException, Options, WrongArgumentException
from croniter import croniter
from croniter.croniter import CroniterBadDateError, CroniterError

from cronkeeper.errors import InvalidSchedule

UTC = dt.UTC
CRON_FIELD = "cron_expression"
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


@dataclass(frozen=True)
class _Spec:
    name: str
    lo: int
    hi: int
    names: tuple[str, ...] = ()
    names_base: int = 0


_MINUTES = _Spec("minute", 0, 59)
_HOURS = _Spec("hour", 0, 23)
_DOM = _Spec("day-of-month", 1, 31)
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = _Spec("month", 1, 12, _MONTH_NAMES, 1)
_DOW = _Spec("day-of-week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 0)
_WEEKDAYS = _Spec("day-of-week", 0, 6)  # after folding 7 (Sunday) onto 0


@dataclass(frozen=True, eq=False)
class _Cron:
    """A validated expression: its normal form, DST class and a croniter template."""

    normalized: str
    fixed_time: bool
    template: croniter = field(repr=False)


def _bad(message: str) -> InvalidSchedule:
    return InvalidSchedule(message, field=CRON_FIELD)


def _value(token: str, spec: _Spec) -> int:
    if spec.names and token.upper() in spec.names:
        return spec.names.index(token.upper()) + spec.names_base
    if not (token.isascii() and token.isdigit()):
        kind = "a number or a name" if spec.names else "a number"
        raise _bad(f"{spec.name} value {token!r} is not {kind}")
    value = int(token)
    if not spec.lo <= value <= spec.hi:
        raise _bad(f"{spec.name} value {value} out of range {spec.lo}-{spec.hi}")
    return value


def _item(item: str, spec: _Spec) -> range:
    """The values of one list item: ``*``, ``n``, ``a-b``, each optionally ``/step``."""
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not (step_text.isascii() and step_text.isdigit()) or int(step_text) < 1:
            raise _bad(f"{spec.name} step must be at least 1, got {step_text!r} in {item!r}")
        step = int(step_text)
    if base == "*":
        lo, hi = spec.lo, spec.hi
    elif "-" in base:
        first, _, last = base.partition("-")
        lo, hi = _value(first, spec), _value(last, spec)
        if lo > hi:
            raise _bad(
                f"{spec.name} range {base!r} is reversed (wrap-around ranges are not supported)"
            )
    else:
        lo = _value(base, spec)
        hi = spec.hi if slash else lo
    return range(lo, hi + 1, step)


def _values(text: str, spec: _Spec) -> set[int]:
    out: set[int] = set()
    for item in text.split(","):
        if not item:
            raise _bad(f"{spec.name} field {text!r} has an empty list item")
        out.update(_item(item, spec))
    return out


def _as_list(values: set[int], spec: _Spec) -> str:
    if values >= set(range(spec.lo, spec.hi + 1)):
        return "*"
    return ",".join(str(v) for v in sorted(values))


def _day_of_week_special(item: str) -> str | None:
    """croniter's spelling of ``n#k`` / ``nL`` (``None`` for a plain item)."""
    if "#" in item:
        day, _, nth = item.partition("#")
        if not (nth.isascii() and nth.isdigit()) or not 1 <= int(nth) <= 5:
            raise _bad(f"day-of-week {item!r}: the week number after '#' must be 1-5")
        return f"{_value(day, _DOW) % 7}#{nth}"
    if item[-1:].upper() == "L":
        if len(item) == 1:
            raise _bad("day-of-week 'L' needs a day before it, e.g. '5L' (last Friday)")
        return f"l{_value(item[:-1], _DOW) % 7}"
    return None


def _days(dom: str, dow: str) -> tuple[str, str, bool]:
    """croniter's day-of-month and day-of-week fields and its ``day_or`` flag."""
    day_and = dom.startswith("*") or dow.startswith("*")
    items = dom.split(",")
    last = any(item.upper() == "L" for item in items)
    plain = [item for item in items if item.upper() != "L"]
    dom_values = _values(",".join(plain), _DOM) if plain else set()
    specials = [_day_of_week_special(item) for item in dow.split(",")]
    if any(specials):
        if not all(specials):
            raise _bad("day-of-week cannot mix 'n#k' or 'nL' with plain days")
        if dom != "*":
            raise _bad("day-of-week 'n#k' and 'nL' need day-of-month '*'")
        return "*", ",".join(s for s in specials if s), False
    dow_values = {v % 7 for v in _values(dow, _DOW)}
    dow_text = _as_list(dow_values, _WEEKDAYS)
    dom_text = "*" if dom_values >= set(range(1, 32)) else _as_list(dom_values, _DOM)
    if last and dom_text != "*":
        dom_text = ",".join([*(str(v) for v in sorted(dom_values)), "l"])
    if not day_and and "*" in (dom_text, dow_text):
        return "*", "*", False  # either side matching every day makes every day match
    return dom_text, dow_text, not day_and


def _parse(expr: str) -> _Cron:
    """The parsed ``expr``; cached, so each distinct text is parsed once."""
    if not isinstance(expr, str):  # before the cache, which needs a hashable key
        raise _bad("cron expression must be a string")
    return _parse_text(expr)


@lru_cache(maxsize=4096)
def _parse_text(expr: str) -> _Cron:
    fields = expr.split()
    if not fields:
        raise _bad("cron expression is empty")
    if len(fields) == 1 and fields[0].startswith("@"):
        macro = fields[0].lower()
        if macro not in MACROS:
            raise _bad(f"unknown macro {fields[0]!r}; use one of {', '.join(MACROS)}")
        parsed = _parse(MACROS[macro])
        return _Cron(macro, parsed.fixed_time, parsed.template)
    if len(fields) != 5:
        raise _bad(f"expected 5 fields ({_FIELD_LIST}), got {len(fields)}")
    minute, hour, dom, month, dow = fields
    minutes = _as_list(_values(minute, _MINUTES), _MINUTES)
    hours = _as_list(_values(hour, _HOURS), _HOURS)
    dom_text, dow_text, day_or = _days(dom, dow)
    rebuilt = (
        f"{minutes} {hours} {dom_text} {_as_list(_values(month, _MONTHS), _MONTHS)} {dow_text}"
    )
    normalized = " ".join(fields)
    try:
        template = croniter(rebuilt, _PROBE_START, day_or=day_or)
        template.get_next(dt.datetime)  # an impossible date (Feb 30) fails here, not at is_valid
    except CroniterBadDateError:
        raise _bad(f"cron expression {normalized!r} never fires (no such date)") from None
    except CroniterError as exc:
        raise _bad(f"cron expression {normalized!r} is not valid: {exc}") from None
    return _Cron(normalized, "*" not in hour and "/" not in hour, template)


def validate_cron(expr: str) -> str:
    """The normal form of ``expr`` (whitespace collapsed, macros lower-cased).

    Raises ``InvalidSchedule`` (field ``cron_expression``) naming the problem:
    empty, not 5 fields, unknown macro, a value out of its field's range, bad
    syntax, or a schedule that can never fire (``0 0 31 2 *``).
    """
    return _parse(expr).normalized


def is_fixed_time(expr: str) -> bool:
    """True when the hour field has no ``*`` and no ``/`` (macros other than ``@hourly``)."""
    return _parse(expr).fixed_time


def validate_timezone(name: str) -> pytz.BaseTzInfo:
    """The pytz zone called ``name``; ``InvalidSchedule`` (field ``timezone``) otherwise."""
    if name is not None and not isinstance(name, str):
        raise InvalidSchedule(f"time zone must be a string, got {name!r}", field="timezone")
    if not name or not name.strip():
        raise InvalidSchedule("time zone is empty", field="timezone")
    try:
        return pytz.timezone(name)
    except pytz.UnknownTimeZoneError:
        raise InvalidSchedule(f"unknown time zone {name!r}", field="timezone") from None


@dataclass(frozen=True)
class _Zone:
    """A zone as periods of constant offset: period ``i`` starts at ``starts[i]`` (naive UTC)."""

    starts: tuple[dt.datetime, ...]
    offsets: tuple[dt.timedelta, ...]

    def period(self, instant: dt.datetime) -> int:
        return bisect_right(self.starts, instant) - 1

    def holds(self, i: int, instant: dt.datetime) -> bool:
        """Whether ``instant`` (naive UTC, not before period ``i``) is still inside it."""
        return i + 1 == len(self.starts) or instant < self.starts[i + 1]

    def in_second_pass(self, i: int, wall: dt.datetime) -> bool:
        """Whether wall time ``wall`` in period ``i`` is the repeat of a fall-back hour."""
        return (
            i > 0
            and self.offsets[i - 1] > self.offsets[i]
            and wall < self.starts[i] + self.offsets[i - 1]
        )


@lru_cache(maxsize=1024)
def _zone(name: str) -> _Zone:
    tz = validate_timezone(name)
    starts = getattr(tz, "_utc_transition_times", None)
    if not starts:  # UTC and fixed-offset zones
        return _Zone((dt.datetime.min,), (tz.utcoffset(_PROBE_START) or dt.timedelta(0),))
    return _Zone(tuple(starts), tuple(info[0] for info in tz._transition_info))


def _wall_after(cron: _Cron, wall: dt.datetime) -> dt.datetime:
    """The first wall-clock minute matching ``cron`` strictly after ``wall``."""
    it = copy.copy(cron.template)  # the template is shared: never move its own cursor
    return it.get_next(dt.datetime, start_time=wall.replace(second=0, microsecond=0))


def _wall_from(cron: _Cron, wall: dt.datetime) -> dt.datetime:
    """The first wall-clock minute matching ``cron`` at or after ``wall``."""
    floor = wall.replace(second=0, microsecond=0)
    return _wall_after(cron, floor - _MINUTE if floor == wall else floor)


def _next_instant(cron: _Cron, zone: _Zone, after: dt.datetime) -> dt.datetime:
    """The first fire instant strictly after ``after`` (naive UTC in and out)."""
    i = zone.period(after)
    wall = _wall_after(cron, after + zone.offsets[i])
    instant = wall - zone.offsets[i]
    if zone.holds(i, instant) and not (cron.fixed_time and zone.in_second_pass(i, wall)):
        return instant  # the common case: no offset change between after and the match
    return _next_instant_across_changes(cron, zone, i, wall)


def _next_instant_across_changes(
    cron: _Cron, zone: _Zone, i: int, wall: dt.datetime
) -> dt.datetime:
    """Walk the offset periods from ``i``; ``wall`` is the first match at or after the search start.

    The period after the first is always searched: a repeated hour there can
    replay wall times from before ``wall``. Beyond it, periods that end more
    than ``_SKIP_MARGIN`` before the candidate are skipped: all their wall
    times lie between a searched start and the candidate, so none matches.
    """
    hops = 0
    while True:
        if cron.fixed_time and zone.in_second_pass(i, wall):
            # A fixed-time job ran in the first pass of a repeated hour: skip the second.
            wall = _wall_from(cron, zone.starts[i] + zone.offsets[i - 1])
            continue
        instant = wall - zone.offsets[i]
        if zone.holds(i, instant):
            return instant
        i = i + 1 if hops == 0 else max(i + 1, zone.period(instant - _SKIP_MARGIN))
        hops += 1
        start, before, now = zone.starts[i], zone.offsets[i - 1], zone.offsets[i]
        if cron.fixed_time and before < now and _wall_from(cron, start + before) < start + now:
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
    naive = _next_instant(_parse(expr), _zone(timezone), after.replace(tzinfo=None))
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
    return text if zone.zone == "UTC" else f"{text} ({zone.zone})"
