"""A collector's limits held across processes, through the database.

A provider's ``max_concurrency`` and ``rate_per_second`` are its own, not one
process's: however many workers run, together they must stay under them.

- **Concurrency**: slot ``i`` of a collector (``0 <= i < max_concurrency``) is
  the session advisory lock ``(ns, i)`` (``ns``: a hash of the collector's
  key). A process sends a request only while it holds a slot, so at most
  ``max_concurrency`` requests are in flight in all processes together. A slot
  goes from one call to the next in the same process without a round trip; it
  is given back when idle for ``IDLE_SECONDS``, or after ``ROTATE_SECONDS`` of
  holding it, so that other busy processes get their turn. A process that dies
  loses its session, and so its slots.
- **Rate**: one row per collector in ``collector_rate_limits`` holds the
  theoretical arrival time of the next request (GCRA, the token bucket's twin):
  a process reserves several tokens per round trip (at most ``BATCH_SECONDS``
  worth of the rate) and sleeps until each is due. A reserved token left unused
  for more than half an interval past its time is dropped (the limit errs on
  the slow side). As with any token bucket, a window of T seconds may hold
  ``burst + rate * T`` requests; tokens are paced at ``PACE`` of the rate, so
  that the network's jitter does not push the provider's count over.

Round trips: one per batch of slots or tokens, on one connection per process
(``Db``), never one per call. If that connection breaks, the slots it held are
forgotten (the calls in flight finish; new ones wait for new slots).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import psycopg

from cronkeeper.repo.queries import load

log = logging.getLogger("cronkeeper.collectors")

Q = load("collector_rate_limits")

IDLE_SECONDS = 0.1  # a held slot idle this long is given back
ROTATE_SECONDS = 1.0  # a slot held this long goes back after its call, so other processes get a turn
BATCH_SECONDS = 0.25  # tokens reserved per round trip: at most this much of the rate
PACE = 0.95  # tokens are spaced for 95 % of the rate: requests sent on time may still arrive bunched
RETRY_SECONDS = (0.01, 0.2)  # waiting for a slot another process holds: first and longest pause


def lock_namespace(key: str) -> int:
    """The advisory-lock class id (a signed int4) of a collector's slots."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)


class Db:
    """One autocommit connection of this process for every gate, one statement at a time.

    Lives on the hub's event loop (``collectors.hub``). ``epoch`` grows each
    time the connection is made anew: slots taken before are gone.
    """

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.epoch = 0
        self._conn: psycopg.AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self.round_trips = 0

    async def fetch(self, query: bytes, params: dict) -> tuple:
        async with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
                self.epoch += 1
            try:
                cur = await self._conn.execute(query, params)
                row = await cur.fetchone()
            except psycopg.OperationalError:
                await self._conn.close()
                self._conn = None
                raise
            self.round_trips += 1
            return row

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


class Slots:
    """The cross-process concurrency slots of one collector (advisory locks)."""

    def __init__(self, db: Db, ns: int, limit: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.db, self.ns, self.limit, self._monotonic = db, ns, limit, monotonic
        self._since: dict[int, float] = {}  # held slot -> when taken
        self._idle: dict[int, float] = {}  # held and unused slot -> since when
        self._release: list[int] = []
        self._waiters: deque[asyncio.Future[int]] = deque()
        self._task: asyncio.Task | None = None
        self._epoch = 0

    @property
    def held(self) -> int:
        return len(self._since)

    async def take(self) -> int:
        if self._idle and not self._waiters:
            return self._idle.popitem()[0]
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self._kick()
        try:
            return await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.give(fut.result())
            raise

    def give(self, slot: int, taken: float | None = None) -> None:
        """Give back ``slot``, taken (by this session) at ``taken`` if given."""
        if slot not in self._since or (taken is not None and self._since[slot] != taken):
            return  # lost with a broken connection (and maybe taken anew since)
        if self._monotonic() - self._since[slot] >= ROTATE_SECONDS:
            self._release.append(slot)
            del self._since[slot]
        else:
            while self._waiters:
                fut = self._waiters.popleft()
                if not fut.done():
                    fut.set_result(slot)
                    return
            self._idle[slot] = self._monotonic()
        self._kick()

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[int]:
        slot = await self.take()
        taken = self._since.get(slot)
        try:
            yield slot
        finally:
            self.give(slot, taken)

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._sync())

    def _live_waiters(self) -> int:
        while self._waiters and self._waiters[0].done():
            self._waiters.popleft()
        return sum(1 for f in self._waiters if not f.done())

    async def _sync(self) -> None:
        """Release what is due back and take what waiters need, one round trip at a time."""
        pause = RETRY_SECONDS[0]
        while True:
            now = self._monotonic()
            waiting = self._live_waiters()
            while self._idle and waiting:  # a slot given back meanwhile
                slot, _ = self._idle.popitem()
                self._hand(slot)
                waiting = self._live_waiters()
            for slot, since in list(self._idle.items()):
                if now - since >= IDLE_SECONDS:
                    del self._idle[slot], self._since[slot]
                    self._release.append(slot)
            want = min(waiting, self.limit - len(self._since))
            if not self._release and want <= 0:
                if not self._idle:
                    return
                await asyncio.sleep(IDLE_SECONDS)
                continue
            release, self._release = self._release, []
            free = [s for s in range(self.limit) if s not in self._since and s not in release]
            random.shuffle(free)  # processes try different slots first
            try:
                row = await self.db.fetch(
                    Q["slots"], {"ns": self.ns, "release": release, "candidates": free, "want": max(want, 0)}
                )
            except psycopg.Error as exc:
                log.warning("collector_slots_failed", extra={"error": f"{type(exc).__name__}: {exc}"})
                await asyncio.sleep(RETRY_SECONDS[1])
                continue
            if self.db.epoch != self._epoch:  # a new connection: what the old one held is gone
                if self._epoch:
                    self._since.clear()
                    self._idle.clear()
                self._epoch = self.db.epoch
            for slot in row[0]:
                self._since[slot] = self._monotonic()
                self._hand(slot)
            if want > 0 and not row[0]:
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_SECONDS[1])
            else:
                pause = RETRY_SECONDS[0]

    def _hand(self, slot: int) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(slot)
                return
        self._idle[slot] = self._monotonic()


class Rate:
    """The cross-process rate limit of one collector (a GCRA row)."""

    def __init__(self, db: Db, key: str, rate: float, burst: int,
                 monotonic: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.db, self.key, self.rate, self.burst, self._monotonic = db, key, rate, burst, monotonic
        self.interval = 1.0 / (rate * PACE)
        self._due: deque[float] = deque()  # monotonic times of the tokens reserved, in order
        self._lock = asyncio.Lock()
        self._waiting = 0

    async def acquire(self) -> None:
        self._waiting += 1
        try:
            while True:
                now = self._monotonic()
                while self._due and self._due[0] < now - self.interval / 2:
                    self._due.popleft()  # stale: spent this late, it would come close behind the next one
                if self._due:
                    wait = self._due.popleft() - now
                    if wait > 0:
                        await asyncio.sleep(wait)
                    return
                async with self._lock:
                    if not self._due:
                        await self._reserve()
        finally:
            self._waiting -= 1

    async def _reserve(self) -> None:
        n = max(1, min(self._waiting, math.ceil(self.rate * BATCH_SECONDS)))
        while True:
            try:
                row = await self.db.fetch(Q["reserve"], {"key": self.key, "n": n, "interval": self.interval})
                break
            except psycopg.Error as exc:
                log.warning("collector_rate_failed", extra={"error": f"{type(exc).__name__}: {exc}"})
                await asyncio.sleep(RETRY_SECONDS[1])
        now, ahead = self._monotonic(), float(row[0])
        for i in range(n):  # token i is due when its arrival time is within the burst of now
            self._due.append(now + max(0.0, ahead - (n - 1 - i) * self.interval - self.burst * self.interval))


class DbGate:
    """``CallLimits.gate`` for one collector: its ``Slots`` and, if it has a rate, its ``Rate``."""

    def __init__(self, db: Db, key: str, max_concurrency: int, rate: float | None, burst: int) -> None:
        self.slots = Slots(db, lock_namespace(key), max_concurrency)
        self.rate = Rate(db, key, rate, burst) if rate is not None else None

    def slot(self):
        return self.slots.hold()

    async def token(self) -> None:
        if self.rate is not None:
            await self.rate.acquire()
