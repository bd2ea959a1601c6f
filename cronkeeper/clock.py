"""Time as a parameter: every loop asks a clock, tests inject a fixed one; services use the database's
(``DatabaseClock``)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

UTC = dt.UTC
log = logging.getLogger("cronkeeper.clock")


def utcnow() -> dt.datetime:
    """The current instant, timezone-aware in UTC."""
    return dt.datetime.now(UTC)


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        return utcnow()


class FixedClock:
    """A clock that only moves when told to (for tests)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def set(self, when: dt.datetime) -> None:
        with self._lock:
            self._now = when.astimezone(UTC)

    def advance(self, seconds: float = 0, **kwargs: float) -> dt.datetime:
        with self._lock:
            self._now += dt.timedelta(seconds=seconds, **kwargs)
            return self._now


class SkewedClock:
    """Another clock moved by ``seconds`` (tests: a process whose wall clock is wrong)."""

    def __init__(self, base: Clock, seconds: float) -> None:
        self.base, self.offset = base, dt.timedelta(seconds=seconds)

    def now(self) -> dt.datetime:
        return self.base.now() + self.offset


class DatabaseClock:
    """The database server's time, without asking it at every ``now()``.

    ``sync(conn)`` reads the server's ``clock_timestamp()`` and anchors it to
    this process's monotonic clock; ``now()`` is that instant plus the monotonic
    time since, so a wall clock that is wrong or stepped changes nothing. The
    scheduler syncs at every tick, a worker at every heartbeat. Before the first
    sync ``now()`` is the ``local`` clock's.

    ``skew`` is ``local`` minus the server (seconds, from the last sync); past
    ``max_skew_seconds`` each sync logs ``clock_skew`` (a warning, at most once
    per ``WARN_EVERY_SECONDS``) with ``log_extra``.
    """

    WARN_EVERY_SECONDS = 60.0

    def __init__(
        self,
        local: Clock | None = None,
        *,
        max_skew_seconds: float = 2.0,
        log_extra: dict | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.local = local or SystemClock()
        self.max_skew_seconds = max_skew_seconds
        self.log_extra = log_extra or {}
        self._monotonic = monotonic
        self._anchor: tuple[dt.datetime, float] | None = None
        self._lock = threading.Lock()
        self._warned_at: float | None = None
        self.skew: float | None = None

    def now(self) -> dt.datetime:
        with self._lock:
            anchor = self._anchor
        if anchor is None:
            return self.local.now()
        server, at = anchor
        return server + dt.timedelta(seconds=self._monotonic() - at)

    def sync(self, conn: Any) -> float:
        """Anchor to the server's clock (one query on ``conn``); returns the skew in seconds."""
        before = self._monotonic()
        local = self.local.now()
        row = conn.execute("SELECT clock_timestamp() AS now").fetchone()
        after = self._monotonic()
        server = (row["now"] if isinstance(row, dict) else row[0]).astimezone(UTC)
        half = (after - before) / 2  # the server read its clock about half-way through the round trip
        skew = (local + dt.timedelta(seconds=half) - server).total_seconds()
        with self._lock:
            self._anchor = (server, before + half)
            self.skew = skew
        if abs(skew) > self.max_skew_seconds:
            self._warn(skew, after)
        return skew

    def _warn(self, skew: float, at: float) -> None:
        if self._warned_at is not None and at - self._warned_at < self.WARN_EVERY_SECONDS:
            return
        self._warned_at = at
        log.warning(
            "clock_skew",
            extra={**self.log_extra, "skew_seconds": round(skew, 3), "max_skew_seconds": self.max_skew_seconds,
                   "note": "this process's clock differs from the database's; cronkeeper uses the database's"},
        )  # fmt: skip


def sync_clock(clock: Clock, conn: Any) -> float | None:
    """Sync ``clock`` to the server when it is a ``DatabaseClock``; its skew, else None (a test's clock)."""
    return clock.sync(conn) if isinstance(clock, DatabaseClock) else None
