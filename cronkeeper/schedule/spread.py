"""Hashed cron fields (``H``, as in Jenkins): a value chosen per job from its id.

``H 9 * * *`` runs each job daily at 9 at a minute of its own, so a thousand
jobs saved with it do not all fire at 09:00. A field item may be:

* ``H``: one value in the field's range (day-of-month: 1-28, so every month has it);
* ``H/s``: every ``s`` from an offset below ``s`` (``H/15`` -> ``7-59/15``);
* ``H(a-b)``: one value from ``a`` to ``b``; ``H(a-b)/s``: every ``s`` from ``a`` plus an offset.

The value is a hash (SHA-256) of the job id and the field's position, so it is
the same on every host and release, and differs between the fields of one job.
The stored expression keeps ``H``; ``resolve`` gives the plain expression for
one job. ``variants`` lists the expression under every possible choice (for
checks that must hold whichever id a job gets: the minimum interval, jitter).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from functools import lru_cache

from cronkeeper.schedule.cron_fields import (
    DAYS_OF_MONTH,
    HOURS,
    MINUTES,
    MONTHS,
    Spec,
    bad,
    field_values,
)

# the ranges H draws from, by field position (day-of-week: 0-6, Sunday once)
_SPECS = (
    MINUTES,
    HOURS,
    Spec(DAYS_OF_MONTH.name, 1, 28),
    MONTHS,
    Spec("day-of-week", 0, 6),
)
_BOUNDS = (MINUTES, HOURS, DAYS_OF_MONTH, MONTHS, Spec("day-of-week", 0, 6))
_ITEM = re.compile(r"H(?:\((\d{1,2})-(\d{1,2})\))?(?:/(\d{1,2}))?")
_DAY = 86400


def has_hash(expr: str) -> bool:
    """Whether ``expr`` has an ``H`` item (macros never do)."""
    if not isinstance(expr, str) or expr.lstrip().startswith("@"):
        return False
    return any(item[:1] in "Hh" and item for text in expr.split() for item in text.split(","))


def _choices(item: str, position: int) -> tuple[int, int, int | None]:
    """(first value, how many choices, step) of an ``H`` item; ``InvalidSchedule`` when malformed."""
    spec, bounds = _SPECS[position], _BOUNDS[position]
    match = _ITEM.fullmatch(item)
    if not match:
        raise bad(f"{spec.name} item {item!r}: write H, H/step, H(a-b) or H(a-b)/step")
    lo, hi = spec.lo, spec.hi
    if match[1] is not None:
        lo, hi = int(match[1]), int(match[2])
        if not bounds.lo <= lo <= hi <= bounds.hi:
            raise bad(
                f"{spec.name} item {item!r}: H's range must lie in {bounds.lo}-{bounds.hi}, low to high"
            )
    if match[3] is None:
        return lo, hi - lo + 1, None
    step = int(match[3])
    if not 1 <= step <= hi - lo + 1:
        raise bad(f"{spec.name} item {item!r}: the step must be 1-{hi - lo + 1}")
    return lo, step, step


def _plain(item: str, position: int, draw: int) -> str:
    lo, count, step = _choices(item, position)
    value = lo + draw % count
    if step is None:
        return str(value)
    match = _ITEM.fullmatch(item)
    hi = int(match[2]) if match and match[2] is not None else _BOUNDS[position].hi
    return f"{value}-{hi}/{step}"


def _draw(key: str, position: int) -> int:
    digest = hashlib.sha256(f"{key}/{position}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _fields(expr: str) -> list[str]:
    fields = expr.split()
    if len(fields) != 5:
        raise bad(f"an expression with H needs 5 fields, got {len(fields)}")
    for position, text in enumerate(fields):
        items = text.split(",")
        hashed = [i for i in items if i.upper().startswith("H")]
        if len(hashed) > 1:
            raise bad(f"{_SPECS[position].name} field {text!r} has more than one H item")
        for item in hashed:
            if not item.startswith("H"):
                raise bad(f"{_SPECS[position].name} item {item!r}: write H in capitals")
            _choices(item, position)
    return fields


def _with(fields: list[str], draws: dict[int, int]) -> str:
    out = []
    for position, text in enumerate(fields):
        items = [
            _plain(i, position, draws[position]) if i.startswith("H") else i
            for i in text.split(",")
        ]
        out.append(",".join(items))
    return " ".join(out)


@lru_cache(maxsize=65536)
def resolve(expr: str, key: str) -> str:
    """``expr`` with each ``H`` item replaced by the value chosen for ``key`` (a job id)."""
    if not has_hash(expr):
        return expr
    fields = _fields(expr)
    return _with(fields, {p: _draw(key, p) for p in range(5)})


def variants(expr: str, positions: tuple[int, ...] = (0, 1, 2, 3, 4)) -> Iterator[str]:
    """``expr`` under every possible choice of the ``H`` items in ``positions`` (the others take
    their first choice); ``expr`` itself when it has no ``H``."""
    if not has_hash(expr):
        yield expr
        return
    fields = _fields(expr)
    ranges = []
    for position in range(5):
        hashed = [i for i in fields[position].split(",") if i.startswith("H")]
        count = _choices(hashed[0], position)[1] if hashed and position in positions else 1
        ranges.append(range(count))
    for draws in itertools.product(*ranges):
        yield _with(fields, dict(enumerate(draws)))


@lru_cache(maxsize=4096)
def min_gap_seconds(expr: str) -> int:
    """The shortest time between two fire times of a valid 5-field expression, in seconds,
    whichever values its ``H`` items take.

    From its minute and hour fields: the gaps between consecutive times of day,
    and from the day's last time to the next day's first (counted as if the next
    day fires too, which errs on the short side).
    """
    shortest = _DAY
    for text in variants(expr, (0, 1)):
        minute, hour = text.split()[:2]
        times = sorted(
            h * 60 + m for h in field_values(hour, HOURS) for m in field_values(minute, MINUTES)
        )
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        gaps.append(times[0] + 1440 - times[-1])
        shortest = min(shortest, min(gaps) * 60)
    return shortest
