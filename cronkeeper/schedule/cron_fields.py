"""The five fields of a cron expression, checked one by one.

Each check names the field and the problem (``minute value '-1' is negative:
minute takes 0-59``), raising ``InvalidSchedule`` with field
``cron_expression``; ``cron.py`` builds the expression croniter sees from the
value sets these return.
"""

from __future__ import annotations

from dataclasses import dataclass

from cronkeeper.errors import InvalidSchedule

CRON_FIELD = "cron_expression"


@dataclass(frozen=True)
class Spec:
    """A field: its name, its bounds, and its names (``names[0]`` is value ``names_base``)."""

    name: str
    lo: int
    hi: int
    names: tuple[str, ...] = ()
    names_base: int = 0


MINUTES = Spec("minute", 0, 59)
HOURS = Spec("hour", 0, 23)
DAYS_OF_MONTH = Spec("day-of-month", 1, 31)
MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTHS = Spec("month", 1, 12, MONTH_NAMES, 1)
DAYS_OF_WEEK = Spec("day-of-week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 0)
WEEKDAYS = Spec("day-of-week", 0, 6)  # after folding 7 (Sunday) onto 0
# Quartz's day-of-month extensions people try: say so rather than "not a number"
_UNSUPPORTED = {
    "?": "; '?' is Quartz syntax, write '*'",
    "W": "; 'W' (nearest weekday) is not supported",
}


def bad(message: str) -> InvalidSchedule:
    return InvalidSchedule(message, field=CRON_FIELD)


def _value(token: str, spec: Spec) -> int:
    if spec.names and token.upper() in spec.names:
        return spec.names.index(token.upper()) + spec.names_base
    if not (token.isascii() and token.isdigit()):
        kind = "a number or a name" if spec.names else "a number"
        hint = _UNSUPPORTED.get(token[-1:].upper(), "") if spec is DAYS_OF_MONTH else ""
        raise bad(f"{spec.name} value {token!r} is not {kind} ({spec.lo}-{spec.hi}){hint}")
    if len(token.lstrip("0")) > 2:  # past every field's range; int() of thousands of digits fails
        raise bad(f"{spec.name} value {token[:12]}{'...' if len(token) > 12 else ''} out of range {spec.lo}-{spec.hi}")
    value = int(token)
    if not spec.lo <= value <= spec.hi:
        raise bad(f"{spec.name} value {value} out of range {spec.lo}-{spec.hi}")
    return value


def _step(item: str, step_text: str, spec: Spec) -> int:
    if not step_text:
        raise bad(f"{spec.name} item {item!r} has no step after '/' (write e.g. '*/15')")
    if len(item) > 40:  # thousands of digits: say so without int() or echoing them
        raise bad(f"{spec.name} item {item[:12] + '...'!r} is too long")
    if not (step_text.isascii() and step_text.isdigit()) or int(step_text) < 1:
        raise bad(f"{spec.name} step must be at least 1, got {step_text!r} in {item!r}")
    return int(step_text)


def _range(item: str, base: str, spec: Spec) -> tuple[int, int]:
    """The bounds of ``a-b``, with a message for each way of getting it wrong."""
    first, _, last = base.partition("-")
    if not first:
        if last.isascii() and last.isdigit():
            raise bad(
                f"{spec.name} value {base!r} is negative: {spec.name} takes {spec.lo}-{spec.hi}"
            )
        raise bad(f"{spec.name} range {base!r} has no start (a range is 'a-b')")
    if not last:
        raise bad(f"{spec.name} range {base!r} has no end (a range is 'a-b')")
    if "-" in last:
        raise bad(f"{spec.name} item {item!r} has more than one '-' (a range is 'a-b')")
    lo, hi = _value(first, spec), _value(last, spec)
    if lo > hi:
        raise bad(f"{spec.name} range {base!r} is reversed (wrap-around ranges are not supported)")
    return lo, hi


def _item(item: str, spec: Spec) -> range:
    """The values of one list item: ``*``, ``n``, ``a-b``, each optionally ``/step``."""
    if item.count("/") > 1:
        raise bad(f"{spec.name} item {item!r} has more than one '/' (a step is 'a-b/s' or '*/s')")
    base, slash, step_text = item.partition("/")
    step = _step(item, step_text, spec) if slash else 1
    if not base:
        raise bad(f"{spec.name} item {item!r} has nothing before '/' (write e.g. '*/{step}')")
    if base == "*":
        lo, hi = spec.lo, spec.hi
    elif "-" in base:
        lo, hi = _range(item, base, spec)
    else:
        lo = _value(base, spec)
        hi = spec.hi if slash else lo
    return range(lo, hi + 1, step)


def field_values(text: str, spec: Spec) -> set[int]:
    out: set[int] = set()
    for item in text.split(","):
        if not item:
            raise bad(f"{spec.name} field {text!r} has an empty list item")
        out.update(_item(item, spec))
    return out


def as_list(values: set[int], spec: Spec) -> str:
    if values >= set(range(spec.lo, spec.hi + 1)):
        return "*"
    return ",".join(str(v) for v in sorted(values))


def _day_of_week_special(item: str) -> str | None:
    """croniter's spelling of ``n#k`` / ``nL`` (``None`` for a plain item)."""
    if "#" in item:
        day, _, nth = item.partition("#")
        if not day:
            raise bad(f"day-of-week {item!r} needs a day before '#', e.g. '5#2' (second Friday)")
        if not (nth.isascii() and nth.isdigit()) or not 1 <= int(nth) <= 5:
            raise bad(f"day-of-week {item!r}: the week number after '#' must be 1-5")
        return f"{_value(day, DAYS_OF_WEEK) % 7}#{nth}"
    if item[-1:].upper() == "L":
        if len(item) == 1:
            raise bad("day-of-week 'L' needs a day before it, e.g. '5L' (last Friday)")
        return f"l{_value(item[:-1], DAYS_OF_WEEK) % 7}"
    return None


def day_fields(dom: str, dow: str) -> tuple[str, str, bool]:
    """croniter's day-of-month and day-of-week fields and its ``day_or`` flag."""
    day_and = dom.startswith("*") or dow.startswith("*")
    items = dom.split(",")
    last = any(item.upper() == "L" for item in items)
    plain = [item for item in items if item.upper() != "L"]
    dom_values = field_values(",".join(plain), DAYS_OF_MONTH) if plain else set()
    specials = [_day_of_week_special(item) for item in dow.split(",")]
    if any(specials):
        if not all(specials):
            raise bad("day-of-week cannot mix 'n#k' or 'nL' with plain days")
        if dom != "*":
            raise bad("day-of-week 'n#k' and 'nL' need day-of-month '*'")
        return "*", ",".join(s for s in specials if s), False
    dow_values = {v % 7 for v in field_values(dow, DAYS_OF_WEEK)}
    dow_text = as_list(dow_values, WEEKDAYS)
    dom_text = "*" if dom_values >= set(range(1, 32)) else as_list(dom_values, DAYS_OF_MONTH)
    if last and dom_text != "*":
        dom_text = ",".join([*(str(v) for v in sorted(dom_values)), "l"])
    if not day_and and "*" in (dom_text, dow_text):
        return "*", "*", False  # either side matching every day makes every day match
    return dom_text, dow_text, not day_and
