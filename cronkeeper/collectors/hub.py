"""One home per process for the collectors' HTTP calls: one client and one set of limits per collector.

An ``httpx.AsyncClient``'s connections and an ``asyncio.Semaphore`` belong to
one loop. So every call of a shared collector runs on the hub's event loop (a
daemon thread started at first use), which is also where the worker runs its
async handlers (``services.worker.executor``: no hop between loops per call;
a caller on another loop is served through ``run``), with that collector's one client
(keep-alive connections reused by every run of the process) and its one
semaphore and token bucket: ``max_concurrency`` and ``rate_per_second`` hold
for the collector across all runs of the process, not per run.

With a ``dsn``, the limits also hold across processes (``collectors.gate``:
advisory-lock slots and a rate row in the database).

    hub = process_hub()
    collectors = [hub.share(c, dsn) for c in build_collectors(configs, names)]
    await collect(client, collectors, queries)      # ``client`` is not used by shared collectors

Shared state is keyed by the collector's name and a hash of its settings, so
a changed configuration gets a fresh client and fresh limits.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import httpx

from cronkeeper.collectors.base import Answer
from cronkeeper.collectors.engines import HttpCollector
from cronkeeper.collectors.gate import Db, DbGate
from cronkeeper.collectors.retry import CallLimits

KEEPALIVE_SECONDS = 30.0
# httpcore's pool checks every connection at each request and each response's close (O(connections),
# with a syscall and anyio's attribute lookups per idle one): a collector's connections are spread over
# clients of this many (one: 0.3 ms of CPU less per call than eight, bench/bench_collect.py)
CONNECTIONS_PER_CLIENT = 1


def _shards(max_concurrency: int) -> list[int]:
    """How many connections each of a collector's clients may open (together: ``max_concurrency``)."""
    n = -(-max_concurrency // CONNECTIONS_PER_CLIENT)
    return [max_concurrency // n + (1 if i < max_concurrency % n else 0) for i in range(n)]


def _client(connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections,
                          keepalive_expiry=KEEPALIVE_SECONDS)  # fmt: skip
    return httpx.AsyncClient(limits=limits, verify=ssl_context())


_SSL: list = []
_SSL_LOCK = threading.Lock()


def ssl_context():
    """One TLS context for every client of the process (building one costs 25-400 ms)."""
    with _SSL_LOCK:
        if not _SSL:
            _SSL.append(httpx.create_ssl_context())
        return _SSL[0]


def config_key(collector: HttpCollector) -> str:
    """``name:hash`` of a collector's settings (no secrets: the settings only name variables)."""
    raw = json.dumps(collector.config.to_dict(), sort_keys=True, default=str)
    return f"{collector.name}:{hashlib.sha256(raw.encode()).hexdigest()[:12]}"


class Clients:
    """A collector's clients, used as one: each request goes to an idle client (the one used last
    first, whose connection is warm), else to the one with the fewest in flight.

    Requests are sent while the call holds its slot (``CallLimits.permit``), so
    at most ``max_concurrency`` are in flight and no client ever has to queue one.
    """

    def __init__(self, max_concurrency: int) -> None:
        self.clients = [_client(n) for n in _shards(max_concurrency)]
        self.busy = [0] * len(self.clients)
        self._idle = list(range(len(self.clients) - 1, -1, -1))  # a stack: client 0 on top

    def build_request(self, *args: Any, **kwargs: Any) -> httpx.Request:
        return self.clients[0].build_request(*args, **kwargs)

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        i = self._idle.pop() if self._idle else min(range(len(self.busy)), key=self.busy.__getitem__)
        self.busy[i] += 1
        try:
            return await self.clients[i].send(request, **kwargs)
        finally:
            self.busy[i] -= 1
            if not self.busy[i]:
                self._idle.append(i)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


@dataclass
class _Entry:
    collector: HttpCollector
    clients: Clients | None = None
    calls: int = 0


class Hub:
    """The process's collectors' loop thread, clients and limits (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._entries: dict[tuple[str, str | None], _Entry] = {}
        self._dbs: dict[str, Db] = {}

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="collectors-hub", daemon=True).start()
                self._loop = loop
            return self._loop

    def share(self, collector: Any, dsn: str | None = None) -> Any:
        """The process-wide stand-in for ``collector`` (an ``HttpCollector``); any other kind as it is.

        The first collector seen for a key is kept (with its environment and timing).
        """
        if not isinstance(collector, HttpCollector):
            return collector
        key = (config_key(collector), dsn)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry(collector)
                if dsn is not None:
                    db = self._dbs.setdefault(dsn, Db(dsn))
                    config = collector.config
                    gate = DbGate(db, key[0], config.max_concurrency, config.rate_per_second, config.burst)
                    # the database holds the rate; the local semaphore keeps waiters for slots few
                    collector.limits = CallLimits(collector.limits.semaphore, None, gate)
        return SharedCollector(self, entry)

    async def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Await ``coro`` on the hub's loop from any loop (cancelling the caller cancels it)."""
        loop = self.loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    async def _ask(self, entry: _Entry, query: str) -> Answer:
        if entry.clients is None:
            entry.clients = Clients(entry.collector.config.max_concurrency)
        entry.calls += 1
        return await entry.collector.ask(entry.clients, query)  # type: ignore[arg-type]  (client-shaped)

    def stats(self) -> dict[str, dict[str, int]]:
        """collector key -> ``{"calls": ..., "clients": ...}`` (for tests and benchmarks)."""
        with self._lock:
            return {k[0]: {"calls": e.calls, "clients": len(e.clients.clients) if e.clients else 0}
                    for k, e in self._entries.items()}  # fmt: skip

    def close(self) -> None:
        """Close every client and connection and stop the loop (tests; a worker just exits)."""
        with self._lock:
            loop, self._loop = self._loop, None
            entries, self._entries = list(self._entries.values()), {}
            dbs, self._dbs = list(self._dbs.values()), {}
        if loop is None:
            return

        async def shut() -> None:
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:  # gates' slot keepers, calls still in flight
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            for entry in entries:
                if entry.clients is not None:
                    await entry.clients.aclose()
            for db in dbs:
                await db.close()

        asyncio.run_coroutine_threadsafe(shut(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)


class SharedCollector:
    """A collector whose calls run on the hub, with the process's client and limits."""

    def __init__(self, hub: Hub, entry: _Entry) -> None:
        self._hub = hub
        self._entry = entry
        self.name = entry.collector.name
        self.config = entry.collector.config

    @property
    def inner(self) -> HttpCollector:
        return self._entry.collector

    async def ask(self, client: httpx.AsyncClient, query: str) -> Answer:
        """Ask on the hub; ``client`` is not used (the collector's shared client is)."""
        return await self._hub.run(self._hub._ask(self._entry, query))


_HUB = Hub()


def process_hub() -> Hub:
    """This process's hub."""
    return _HUB
