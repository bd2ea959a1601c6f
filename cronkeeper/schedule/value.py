"""A job's schedule as a value: a cron expression in a zone, a fixed interval, or one run.

``Schedule`` validates itself on construction and raises ``InvalidSchedule``
naming the offending field; a constructed schedule is always storable. It
answers the scheduler's two questions: the first slot after a moment
(``first_run``) and the slot after a slot (``next_after``). All instants in and
out are aware; all instants out are UTC. The builders (``once``, ``hourly``,
``daily``, ``weekly``, ``monthly``, ``every``, ``cron``/``custom``) are the
shapes users know and produce ordinary cron, interval or once schedules.

A cron expression with ``H`` items (``spread.py``) is stored as written and
computed only once resolved for a job: ``for_job(job_id)`` (a job's
``ScheduledJob.schedule`` is). Cron and interval schedules take jitter: each
run may start up to ``jitter_seconds`` after its slot (the slot itself does
not move), less than the shortest time between two slots.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cronkeeper.errors import InvalidSchedule
from cronkeeper.schedule import spread
from cronkeeper.schedule.cron import (
    MACROS,
    describe_cron,
    fire_times,
    next_fire,
    validate_cron,
    validate_timezone,
)
from cronkeeper.schedule.parts import clock_time, cron_weekday, local_instant, whole_number

UTC = dt.UTC
MAX_SECONDS = 2_147_483_647  # the database column is a 32-bit integer
_DEFINING = ("cron_expression", "interval_seconds", "run_at")


class ScheduleKind(StrEnum):
    CRON = "cron"
    INTERVAL = "interval"
    ONCE = "once"


_OWN_FIELD = {
    ScheduleKind.CRON: "cron_expression",
    ScheduleKind.INTERVAL: "interval_seconds",
    ScheduleKind.ONCE: "run_at",
}


def _check_interval(interval: Any, jitter: Any) -> None:
    what = "a whole number of seconds,"
    whole_number(interval, "interval_seconds", 1, None, what)
    if interval > MAX_SECONDS:
        raise InvalidSchedule(
            f"interval_seconds must be at most {MAX_SECONDS}, got {interval}",
            field="interval_seconds",
        )
    whole_number(jitter, "jitter_seconds", 0, None, what)
    if jitter >= interval:
        raise InvalidSchedule(
            f"jitter_seconds must be smaller than interval_seconds ({interval}), got {jitter}",
            field="jitter_seconds",
        )


def _check_cron_jitter(expression: str, jitter: Any) -> None:
    whole_number(jitter, "jitter_seconds", 0, None, "a whole number of seconds,")
    if not jitter:
        return
    gap = spread.min_gap_seconds(MACROS.get(expression, expression))
    if jitter >= gap:
        raise InvalidSchedule(
            f"jitter_seconds must be smaller than the shortest time between two runs "
            f"of {expression!r} ({gap} s), got {jitter}",
            field="jitter_seconds",
        )


def _aware_run_at(run_at: Any) -> dt.datetime:
    if not isinstance(run_at, dt.datetime) or run_at.utcoffset() is None:
        raise InvalidSchedule("run_at must be a date and time with a UTC offset", field="run_at")
    return run_at.astimezone(UTC)


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime")
    return moment.astimezone(UTC)


def _duration(seconds: int) -> str:
    """ "15 minutes", "hour", "90 seconds": the largest unit that divides ``seconds``."""
    size, unit = next(
        (s, u)
        for s, u in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))
        if seconds % s == 0
    )
    n = seconds // size
    return unit if n == 1 else f"{n} {unit}s"


@dataclass(frozen=True)
class Schedule:
    """One of: ``CRON`` (``cron_expression`` in ``timezone``), ``INTERVAL``
    (``interval_seconds``, optional ``jitter_seconds`` below it), ``ONCE``
    (``run_at``, stored in UTC; ``timezone`` is how it is shown). Fields of the
    other kinds are ``None`` (``jitter_seconds`` 0). The expression is stored
    normalized and the zone under its canonical name. ``spread_key`` (a job id,
    never stored) resolves ``H`` items; see ``for_job``.
    """

    kind: ScheduleKind
    cron_expression: str | None = None
    timezone: str = "UTC"
    interval_seconds: int | None = None
    jitter_seconds: int = 0
    run_at: dt.datetime | None = None
    spread_key: str | None = None

    def __post_init__(self) -> None:
        try:
            kind = ScheduleKind(self.kind)
        except ValueError:
            allowed = ", ".join(k.value for k in ScheduleKind)
            raise InvalidSchedule(
                f"schedule kind must be one of {allowed}, got {self.kind!r}",
                field="cron_expression",
            ) from None
        self._set("kind", kind)
        self._set("timezone", validate_timezone(self.timezone).key)
        self._set("jitter_seconds", 0 if self.jitter_seconds is None else self.jitter_seconds)
        own = _OWN_FIELD[kind]
        for other in _DEFINING:
            if other != own and getattr(self, other) is not None:
                raise InvalidSchedule(f"{kind} schedules take no {other}", field=other)
        if getattr(self, own) is None:
            raise InvalidSchedule(f"{kind} schedules need {own}", field=own)
        if kind is ScheduleKind.CRON:
            self._set("cron_expression", validate_cron(self.cron_expression))
        elif kind is ScheduleKind.ONCE:
            self._set("run_at", _aware_run_at(self.run_at))
        if kind is ScheduleKind.INTERVAL:
            _check_interval(self.interval_seconds, self.jitter_seconds)
        elif kind is ScheduleKind.CRON:
            _check_cron_jitter(self.cron_expression, self.jitter_seconds)
        elif self.jitter_seconds:
            raise InvalidSchedule(
                "jitter_seconds applies to interval and cron schedules only", field="jitter_seconds"
            )

    # -- H ---------------------------------------------------------------------------
    @property
    def spread(self) -> bool:
        """Whether the expression has ``H`` items (values chosen per job)."""
        return self.kind is ScheduleKind.CRON and spread.has_hash(self.cron_expression)

    def for_job(self, job_id: Any) -> Schedule:
        """This schedule with its ``H`` items resolved for job ``job_id`` (itself without ``H``)."""
        if not self.spread or self.spread_key == str(job_id):
            return self
        return dataclasses.replace(self, spread_key=str(job_id))

    @property
    def resolved_expression(self) -> str | None:
        """The cron expression computed with: ``H`` resolved for ``spread_key``.

        ``ValueError`` for an expression with ``H`` and no ``spread_key``: its
        times depend on the job, so computing them without one would be a guess.
        """
        if not self.spread:
            return self.cron_expression
        if self.spread_key is None:
            raise ValueError(
                f"cron expression {self.cron_expression!r} has H: its times depend on the job's id "
                "(Schedule.for_job)"
            )
        return spread.resolve(self.cron_expression, self.spread_key)

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)  # normalizing a frozen dataclass in __post_init__

    # -- what the scheduler asks ---------------------------------------------------
    def first_run(self, now: dt.datetime) -> dt.datetime | None:
        """The first slot for a job created at ``now``: the next cron fire after it,
        ``now`` plus the interval, or ``run_at`` (even when past; callers decide)."""
        if self.kind is ScheduleKind.CRON:
            return next_fire(self.resolved_expression, self.timezone, now)
        if self.kind is ScheduleKind.INTERVAL:
            return _utc(now) + dt.timedelta(seconds=self.interval_seconds)
        return self.run_at

    def next_after(self, slot: dt.datetime) -> dt.datetime | None:
        """The slot after ``slot``: the next cron fire, ``slot`` plus the interval, or ``None`` (once)."""
        if self.kind is ScheduleKind.CRON:
            return next_fire(self.resolved_expression, self.timezone, slot)
        if self.kind is ScheduleKind.INTERVAL:
            return _utc(slot) + dt.timedelta(seconds=self.interval_seconds)
        return None

    def upcoming(self, after: dt.datetime, count: int) -> list[dt.datetime]:
        """Up to ``count`` slots strictly after ``after``, for previews (UTC)."""
        if count <= 0:
            return []
        if self.kind is ScheduleKind.CRON:
            return fire_times(self.resolved_expression, self.timezone, after, count)
        if self.kind is ScheduleKind.INTERVAL:
            step = dt.timedelta(seconds=self.interval_seconds)
            return [_utc(after) + step * n for n in range(1, count + 1)]
        return [self.run_at] if self.run_at > _utc(after) else []

    def get_next_run_time(self, from_time: dt.datetime | None = None) -> dt.datetime | None:
        """The next slot after ``from_time`` (default: now; naive means UTC) — the seeds' name."""
        after = from_time or dt.datetime.now(dt.UTC)
        if after.tzinfo is None:
            after = after.replace(tzinfo=dt.UTC)
        upcoming = self.upcoming(after, 1)
        return upcoming[0] if upcoming else None

    def describe(self) -> str:
        """Plain English: "At 09:00, only on Monday (Europe/Berlin)", "Every 15 minutes",
        "Every 90 seconds (jitter up to 10 s)", "Once at 2027-01-05 09:00 (Europe/Berlin)"."""
        jitter = f" (jitter up to {self.jitter_seconds} s)" if self.jitter_seconds else ""
        if self.kind is ScheduleKind.CRON:
            return self._describe_cron() + jitter
        if self.kind is ScheduleKind.INTERVAL:
            return f"Every {_duration(self.interval_seconds)}{jitter}"
        local = self.run_at.astimezone(validate_timezone(self.timezone))
        return f"Once at {local:%Y-%m-%d %H:%M} ({self.timezone})"

    def _describe_cron(self) -> str:
        """ "At 09:00 (Europe/Berlin)"; with H: "At 09:37; H 9 * * * → 37 9 * * * for this job",
        or before the job has an id, that the value is chosen when it is saved."""
        expression = self.cron_expression
        if not self.spread:
            return describe_cron(expression, self.timezone)
        if self.spread_key is None:
            zone = "" if self.timezone == "UTC" else f" ({self.timezone})"
            return f"Cron {expression}{zone}; H is a value of the job's own, chosen from its id when it is saved"
        resolved = self.resolved_expression
        return f"{describe_cron(resolved, self.timezone)}; {expression} → {resolved} for this job"

    # -- storage ---------------------------------------------------------------------
    def to_fields(self) -> dict[str, Any]:
        """The columns of ``scheduled_jobs`` that hold the schedule."""
        return {
            "schedule_kind": str(self.kind),
            "cron_expression": self.cron_expression,
            "timezone": self.timezone,
            "interval_seconds": self.interval_seconds,
            "jitter_seconds": self.jitter_seconds,
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
        spread_key: str | None = None,
    ) -> Schedule:
        """A schedule from stored or submitted fields; the kind is inferred from which one of
        ``cron_expression``, ``interval_seconds``, ``run_at`` is given (``run_at`` may be ISO 8601)."""
        given = [
            name
            for name, value in zip(
                _DEFINING, (cron_expression, interval_seconds, run_at), strict=True
            )
            if value is not None
        ]
        if len(given) != 1:
            got = f" (got {', '.join(given)})" if given else ""
            raise InvalidSchedule(
                f"give exactly one of cron_expression, interval_seconds, run_at{got}",
                field="cron_expression",
            )
        if isinstance(run_at, str):
            try:
                run_at = dt.datetime.fromisoformat(run_at)
            except ValueError:
                raise InvalidSchedule(
                    f"run_at must be an ISO 8601 date and time, got {run_at!r}", field="run_at"
                ) from None
        inferred = {
            "cron_expression": ScheduleKind.CRON,
            "interval_seconds": ScheduleKind.INTERVAL,
            "run_at": ScheduleKind.ONCE,
        }
        return cls(
            kind=schedule_kind or inferred[given[0]],
            cron_expression=cron_expression,
            timezone=timezone or "UTC",
            interval_seconds=interval_seconds,
            jitter_seconds=jitter_seconds or 0,
            run_at=run_at,
            spread_key=spread_key,
        )

    # -- builders ------------------------------------------------------------------------
    @classmethod
    def cron(cls, expression: str, timezone: str = "UTC") -> Schedule:
        """A cron expression (5 fields or a macro) evaluated in ``timezone``."""
        return cls(ScheduleKind.CRON, cron_expression=expression, timezone=timezone)

    @classmethod
    def custom(cls, cron_expression: str, timezone: str = "UTC") -> Schedule:
        """The same as ``cron``."""
        return cls.cron(cron_expression, timezone)

    @classmethod
    def once(cls, date: str | dt.date, time: str | dt.time, timezone: str = "UTC") -> Schedule:
        """One run at local ``date`` (YYYY-MM-DD or a ``datetime.date``) ``time`` (HH:MM or a
        naive ``datetime.time``) in ``timezone``."""
        try:
            is_day = isinstance(date, dt.date) and not isinstance(date, dt.datetime)
            day = date if is_day else dt.date.fromisoformat(date)
        except (TypeError, ValueError):
            raise InvalidSchedule(f"date must be YYYY-MM-DD, got {date!r}", field="date") from None
        hour, minute = clock_time(time)
        return cls(
            ScheduleKind.ONCE, run_at=local_instant(day, hour, minute, timezone), timezone=timezone
        )

    @classmethod
    def hourly(cls, minute: int = 0, timezone: str = "UTC") -> Schedule:
        """Every hour at ``minute`` past."""
        return cls.cron(f"{whole_number(minute, 'minute', 0, 59)} * * * *", timezone)

    @classmethod
    def daily(cls, time: str | dt.time, timezone: str = "UTC") -> Schedule:
        """Every day at local ``time`` (HH:MM)."""
        hour, minute = clock_time(time)
        return cls.cron(f"{minute} {hour} * * *", timezone)

    @classmethod
    def weekly(cls, day_of_week: int | str, time: str | dt.time, timezone: str = "UTC") -> Schedule:
        """Every week on ``day_of_week`` at local ``time``. Days count as in cron:
        0 or 7 = Sunday, 1 = Monday ... 6 = Saturday; a name ("mon", "Monday") works too."""
        day = cron_weekday(day_of_week)
        hour, minute = clock_time(time)
        return cls.cron(f"{minute} {hour} * * {day}", timezone)

    @classmethod
    def monthly(cls, day_of_month: int, time: str | dt.time, timezone: str = "UTC") -> Schedule:
        """Every month on ``day_of_month`` at local ``time``; months without that day are skipped."""
        day = whole_number(day_of_month, "day_of_month", 1, 31)
        hour, minute = clock_time(time)
        return cls.cron(f"{minute} {hour} {day} * *", timezone)

    @classmethod
    def every(cls, seconds: int, jitter: int = 0, timezone: str = "UTC") -> Schedule:
        """Every ``seconds`` seconds, each run delayed by up to ``jitter`` seconds (< ``seconds``)."""
        return cls(
            ScheduleKind.INTERVAL,
            interval_seconds=seconds,
            jitter_seconds=jitter,
            timezone=timezone,
        )
