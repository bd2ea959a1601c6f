"""What every collector shares: its error, its answer, its shape, and how it waits.

Nothing here does I/O. ``Timing`` bundles the clocks and the sleep a collector
uses so tests can run retries and rate limits without waiting.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import httpx

from cronkeeper.clock import Clock, SystemClock
from cronkeeper.errors import CronkeeperError
from cronkeeper.redaction import redact

Sleep = Callable[[float], Awaitable[None]]


class CollectorError(CronkeeperError):
    """An answer engine could not be asked.

    ``reason`` is redacted (``cronkeeper.redaction``): it is stored on the run,
    logged and sent in webhooks, and may quote an upstream error body.
    """

    def __init__(self, collector: str, reason: str) -> None:
        self.collector = collector
        self.reason = redact(reason) or ""
        super().__init__(f"{collector}: {reason}")


@dataclass(frozen=True)
class Answer:
    """One answer engine's reply to one query.

    ``sources`` are the URLs the engine cited, in order, without duplicates.
    ``latency_ms`` is the duration of the HTTP request that succeeded (waits
    for retries and rate limits are not included).
    """

    collector: str
    model: str | None
    query: str
    text: str
    sources: list[str] = field(default_factory=list)
    latency_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``jsonl`` output and logs)."""
        return asdict(self)


class Collector(Protocol):
    """Anything that can ask one answer engine one query.

    ``ask`` returns an ``Answer`` or raises ``CollectorError`` for every
    expected failure (missing key, HTTP error after retries, bad response).
    Any other exception is a bug; ``collect`` still records it as a failed call.
    """

    name: str

    async def ask(self, client: httpx.AsyncClient, query: str) -> Answer: ...


@dataclass(frozen=True)
class Timing:
    """How a collector waits and reads time; tests pass fakes.

    ``monotonic`` measures latency and refills rate-limit buckets, ``clock``
    resolves HTTP-date ``Retry-After`` values, ``jitter`` returns a float in
    [0, 1) that spreads backoff delays.
    """

    sleep: Sleep = asyncio.sleep
    monotonic: Callable[[], float] = time.monotonic
    clock: Clock = field(default_factory=SystemClock)
    jitter: Callable[[], float] = random.random
