"""Dates to exclude, read from an iCalendar (``.ics``) file: a small reader of our own.

Only what a holiday calendar needs (RFC 5545, a subset): each ``VEVENT``'s
``DTSTART`` (``VALUE=DATE`` or a date-time; its date is taken as written),
``DTEND`` (an all-day end is exclusive: ``DTSTART;VALUE=DATE:20271224`` with
``DTEND;VALUE=DATE:20271227`` is the 24th, 25th and 26th) or ``DURATION`` in
days, ``SUMMARY`` as the label, ``RRULE:FREQ=YEARLY`` (with ``INTERVAL``,
``COUNT``, ``UNTIL``; fixed-date holidays) expanded up to ``until``, and
``EXDATE``. Anything else is ignored; an event this reader cannot expand
(another ``FREQ``, ``BYDAY``...) is listed in ``warnings`` rather than guessed.
A general iCalendar library would bring recurrence rules we would still have to
cap and explain; holiday feeds are plain enough for these ~150 lines.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from cronkeeper.errors import ValidationError

MAX_BYTES = 2_000_000
MAX_SPAN_DAYS = 366  # one event's days
MAX_DATES = 20_000  # dates from one file
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T\d{6}Z?)?$")
_DAYS = re.compile(r"^P(\d+)D$|^P(\d+)W$")


@dataclass(frozen=True)
class IcsDates:
    """The dates a file excludes (date -> label, oldest first) and what was not understood."""

    dates: dict[dt.date, str | None] = field(default_factory=dict)
    events: int = 0
    warnings: tuple[str, ...] = ()


@dataclass
class _Event:
    line: int
    props: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (params, value)
    lines: dict[str, int] = field(default_factory=dict)  # name -> its line
    exdates: list[str] = field(default_factory=list)


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Unfolded content lines (a line starting with a space or tab continues the previous one)."""
    current, start = None, 0
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if raw[:1] in (" ", "\t") and current is not None:
            current += raw[1:]
            continue
        if current is not None:
            yield start, current
        current, start = raw, number
    if current is not None:
        yield start, current


def _events(text: str) -> Iterator[_Event]:
    event: _Event | None = None
    for number, line in _lines(text):
        name_part, sep, value = line.partition(":")
        if not sep:
            continue
        name, _, params = name_part.partition(";")
        name = name.upper()
        if name == "BEGIN" and value.upper() == "VEVENT":
            event = _Event(number)
        elif name == "END" and value.upper() == "VEVENT" and event is not None:
            yield event
            event = None
        elif event is not None and name == "EXDATE":
            event.exdates.extend(value.split(","))
        elif event is not None:
            event.props.setdefault(name, (params, value))
            event.lines.setdefault(name, number)


def _date(value: str, line: int, what: str) -> dt.date:
    match = _DATE.match(value.strip())
    try:
        if match:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        pass
    raise ValidationError(f"ics: line {line}: {what} {value.strip()!r} is not a date (YYYYMMDD)", field="ics")


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text).strip()


def _span(event: _Event, start: dt.date) -> int:
    """How many days the event covers (1 when it names no end)."""
    if "DTEND" in event.props:
        params, value = event.props["DTEND"]
        end = _date(value, event.lines["DTEND"], "DTEND")
        all_day = "VALUE=DATE" in params.upper() or "T" not in value
        ends_midnight = value.strip().upper().endswith("T000000") or value.strip().upper().endswith("T000000Z")
        days = (end - start).days + (0 if all_day or ends_midnight else 1)
    elif "DURATION" in event.props:
        match = _DAYS.match(event.props["DURATION"][1].strip().upper())
        days = (int(match.group(1) or 0) + 7 * int(match.group(2) or 0)) if match else 1
    else:
        days = 1
    return min(max(days, 1), MAX_SPAN_DAYS)


def _yearly(rule: dict[str, str], start: dt.date, until: dt.date, line: int) -> list[dt.date] | str:
    """The starts of a yearly rule up to ``until``, or why it cannot be expanded."""
    if rule.get("FREQ") != "YEARLY":
        return f"RRULE FREQ={rule.get('FREQ', '?')} is not supported (only FREQ=YEARLY)"
    unsupported = sorted(set(rule) - {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYMONTHDAY", "WKST"})
    fixed = rule.get("BYMONTH", str(start.month)) == str(start.month) and rule.get(
        "BYMONTHDAY", str(start.day)) == str(start.day)  # fmt: skip
    if unsupported or not fixed:
        return f"RRULE {';'.join(f'{k}={v}' for k, v in rule.items())} is not supported (fixed dates only)"
    step = max(1, int(rule.get("INTERVAL", "1") or 1))
    count = int(rule["COUNT"]) if rule.get("COUNT", "").isdigit() else None
    last = min(until, _date(rule["UNTIL"], line, "UNTIL")) if "UNTIL" in rule else until
    out, year = [], start.year
    while (count is None or len(out) < count) and year <= last.year:
        try:
            day = start.replace(year=year)
        except ValueError:  # 29 February in a common year: no occurrence
            day = None
        if day is not None and day <= last:
            out.append(day)
        year += step
    return out


def parse_ics(text: str, *, until: dt.date) -> IcsDates:
    """The dates ``text`` (an iCalendar file) excludes; yearly rules are expanded up to ``until``.

    Raises ``ValidationError`` naming ``ics`` for a file that is not iCalendar, too large,
    or with a malformed date (the line is named).
    """
    if len(text.encode()) > MAX_BYTES:
        raise ValidationError(f"ics: the file is larger than {MAX_BYTES // 1_000_000} MB", field="ics")
    if "BEGIN:VCALENDAR" not in text.upper():
        raise ValidationError("ics: not an iCalendar file (no BEGIN:VCALENDAR)", field="ics")
    dates: dict[dt.date, str | None] = {}
    warnings: list[str] = []
    events = 0
    for event in _events(text):
        events += 1
        if "DTSTART" not in event.props:
            warnings.append(f"line {event.line}: an event without DTSTART was ignored")
            continue
        start = _date(event.props["DTSTART"][1], event.lines["DTSTART"], "DTSTART")
        label = _unescape(event.props["SUMMARY"][1])[:200] if "SUMMARY" in event.props else None
        starts: list[dt.date] | str = [start]
        if "RRULE" in event.props:
            rule = dict(p.partition("=")[::2] for p in event.props["RRULE"][1].upper().split(";") if p)
            starts = _yearly(rule, start, until, event.lines["RRULE"])
        if isinstance(starts, str):
            warnings.append(f"line {event.line}: {label or 'an event'}: {starts}; ignored")
            continue
        skip = {_date(x, event.line, "EXDATE") for x in event.exdates if x.strip()}
        days = _span(event, start)
        for first in starts:
            if first in skip:
                continue
            for n in range(days):
                dates.setdefault(first + dt.timedelta(days=n), label)
        if len(dates) > MAX_DATES:
            raise ValidationError(f"ics: more than {MAX_DATES} dates", field="ics")
    return IcsDates(dict(sorted(dates.items())), events, tuple(warnings))
