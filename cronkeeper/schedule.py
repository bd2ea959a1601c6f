"""A job's schedule as a value: a cron expression in a zone, an interval, or one run.

``Schedule`` validates itself on construction (``InvalidSchedule`` naming the
field) and answers the scheduler's two questions: the first slot after a
moment (``first_run``) and the slot after a slot (``next_after``). The
builders mirror what users of APScheduler-style APIs know: ``once``,
``hourly``, ``daily``, ``weekly`` (0 = Monday), ``monthly``, ``custom``,
``every``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cronkeeper.cron import describe_cron, next_fire, validate_cron, validate_timezone
from cronkeeper.errors import InvalidSchedule

UTC = dt.UTC
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class ScheduleKind(StrEnum):
    CRON = "cron"
    INTERVAL = "interval"
    ONCE = "once"


def _parse_time(value: str) -> tuple[int, int]:
    match = _TIME.match(value.strip()) if isinstance(value, str) else None
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise InvalidSchedule(f"time must be HH:MM (00:00-23:59), got {value!r}", field="time")
    return int(match.group(1)), int(match.group(2))


def _int_in(value: Any, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidSchedule(f"{field} must be a whole number {lo}-{hi}, got {value!r}", field=field)
    return value


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _duration(seconds: int) -> str:
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else _plural(n, unit)
    return _plural(seconds, "second")


@dataclass(frozen=True)
class Schedule:
    kind: ScheduleKind
    cron_expression: str | None = None
    timezone: str = "UTC"
    interval_seconds: int | None = None
    jitter_seconds: int = 0
    run_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ScheduleKind(self.kind))
        validate_timezone(self.timezone)
        if self.kind is ScheduleKind.CRON:
            object.__setattr__(self, "cron_expression", validate_cron(self.cron_expression))
            self._only("cron_expression")
        elif self.kind is ScheduleKind.INTERVAL:
            _int_in(self.interval_seconds, "interval_seconds", 1, 10 * 365 * 86400)
            jitter = self.jitter_seconds or 0
            _int_in(jitter, "jitter_seconds", 0, 10 * 365 * 86400)
            if jitter >= self.interval_seconds:
                raise InvalidSchedule("jitter_seconds must be smaller than interval_seconds", field="jitter_seconds")
            object.__setattr__(self, "jitter_seconds", jitter)
            self._only("interval_seconds")
        else:
            if not isinstance(self.run_at, dt.datetime) or self.run_at.tzinfo is None:
                raise InvalidSchedule("run_at must be a date and time with a UTC offset", field="run_at")
            object.__setattr__(self, "run_at", self.run_at.astimezone(UTC))
            self._only("run_at")

    def _only(self, field: str) -> None:
        others = {"cron_expression", "interval_seconds", "run_at"} - {field}
        for other in others:
            if getattr(self, other) is not None:
                raise InvalidSchedule("give only one of cron_expression, interval_seconds, run_at", field=other)
        if field != "interval_seconds" and self.jitter_seconds:
            raise InvalidSchedule("jitter_seconds applies to interval schedules only", field="jitter_seconds")

    # -- what the scheduler asks ------------------------------------------
    def first_run(self, now: dt.datetime) -> dt.datetime | None:
        if self.kind is ScheduleKind.CRON:
            return next_fire(self.cron_expression, self.timezone, now)
        if self.kind is ScheduleKind.INTERVAL:
            return now.astimezone(UTC) + dt.timedelta(seconds=self.interval_seconds)
        return self.run_at

    def next_after(self, slot: dt.datetime) -> dt.datetime | None:
        if self.kind is ScheduleKind.CRON:
            return next_fire(self.cron_expression, self.timezone, slot)
        if self.kind is ScheduleKind.INTERVAL:
            return slot.astimezone(UTC) + dt.timedelta(seconds=self.interval_seconds)
        return None

    def upcoming(self, after: dt.datetime, count: int) -> list[dt.datetime]:
        """The next ``count`` slots after ``after`` (for previews)."""
        if self.kind is ScheduleKind.ONCE:
            return [self.run_at] if self.run_at > after and count > 0 else []
        out, slot = [], self.first_run(after)
        while slot is not None and len(out) < count:
            out.append(slot)
            slot = self.next_after(slot)
        return out

    def get_next_run_time(self, from_time: dt.datetime | None = None) -> dt.datetime | None:
        """The next slot after ``from_time`` (default: now) — the seeds' name for it."""
        after = from_time or dt.datetime.now(UTC)
        if after.tzinfo is None:
            after = after.replace(tzinfo=UTC)
        upcoming = self.upcoming(after, 1)
        return upcoming[0] if upcoming else None

    def describe(self) -> str:
        if self.kind is ScheduleKind.CRON:
            return describe_cron(self.cron_expression, self.timezone)
        if self.kind is ScheduleKind.INTERVAL:
            text = f"Every {_duration(self.interval_seconds)}"
            return text + (f" (jitter up to {self.jitter_seconds} s)" if self.jitter_seconds else "")
        local = self.run_at.astimezone(validate_timezone(self.timezone))
        return f"Once at {local:%Y-%m-%d %H:%M} ({self.timezone})"

    def to_fields(self) -> dict[str, Any]:
        return {
            "schedule_kind": str(self.kind),
            "cron_expression": self.cron_expression,
            "timezone": self.timezone,
            "interval_seconds": self.interval_seconds,
            "jitter_seconds": self.jitter_seconds or 0,
            "run_at": self.run_at,
        }

    @classmethod
    def from_fields(
        cls,
        *,
        cron_expression: str | None = None,
        timezone: str | None = "UTC",
        interval_seconds: int | None = None,
        jitter_seconds: int | None = 0,
        run_at: dt.datetime | str | None = None,
        schedule_kind: str | None = None,
    ) -> Schedule:
        """Infer the kind from which of cron_expression / interval_seconds / run_at is given."""
        if isinstance(run_at, str):
            try:
                run_at = dt.datetime.fromisoformat(run_at)
            except ValueError:
                raise InvalidSchedule(f"run_at must be an ISO 8601 date and time, got {run_at!r}", field="run_at") from None
        given = [k for k, v in (("cron_expression", cron_expression), ("interval_seconds", interval_seconds),
                                ("run_at", run_at)) if v is not None]  # fmt: skip
        if len(given) != 1:
            raise InvalidSchedule(
                "give exactly one of cron_expression, interval_seconds or run_at"
                + (f" (got {', '.join(given)})" if given else ""),
                field="cron_expression",
            )
        kind = schedule_kind or {"cron_expression": "cron", "interval_seconds": "interval", "run_at": "once"}[given[0]]
        return cls(
            kind=ScheduleKind(kind),
            cron_expression=cron_expression,
            timezone=timezone or "UTC",
            interval_seconds=interval_seconds,
            jitter_seconds=jitter_seconds or 0,
            run_at=run_at,
        )

    # -- builders --------------------------------------------------------
    @classmethod
    def cron(cls, expression: str, timezone: str = "UTC") -> Schedule:
        return cls(ScheduleKind.CRON, cron_expression=expression, timezone=timezone)

    @classmethod
    def custom(cls, cron_expression: str, timezone: str = "UTC") -> Schedule:
        return cls.cron(cron_expression, timezone)

    @classmethod
    def once(cls, date: str, time: str, timezone: str = "UTC") -> Schedule:
        try:
            day = dt.date.fromisoformat(date)
        except (TypeError, ValueError):
            raise InvalidSchedule(f"date must be YYYY-MM-DD, got {date!r}", field="date") from None
        hour, minute = _parse_time(time)
        local = validate_timezone(timezone).localize(dt.datetime(day.year, day.month, day.day, hour, minute))
        return cls(ScheduleKind.ONCE, run_at=local.astimezone(UTC), timezone=timezone)

    @classmethod
    def hourly(cls, minute: int = 0, timezone: str = "UTC") -> Schedule:
        return cls.cron(f"{_int_in(minute, 'minute', 0, 59)} * * * *", timezone)

    @classmethod
    def daily(cls, time: str, timezone: str = "UTC") -> Schedule:
        hour, minute = _parse_time(time)
        return cls.cron(f"{minute} {hour} * * *", timezone)

    @classmethod
    def weekly(cls, day_of_week: int, time: str, timezone: str = "UTC") -> Schedule:
        day = _int_in(day_of_week, "day_of_week", 0, 6)  # 0 = Monday
        hour, minute = _parse_time(time)
        return cls.cron(f"{minute} {hour} * * {(day + 1) % 7}", timezone)

    @classmethod
    def monthly(cls, day_of_month: int, time: str, timezone: str = "UTC") -> Schedule:
        day = _int_in(day_of_month, "day_of_month", 1, 31)
        hour, minute = _parse_time(time)
        return cls.cron(f"{minute} {hour} {day} * *", timezone)

    @classmethod
    def every(cls, seconds: int, jitter: int = 0, timezone: str = "UTC") -> Schedule:
        return cls(ScheduleKind.INTERVAL, interval_seconds=seconds, jitter_seconds=jitter, timezone=timezone)
