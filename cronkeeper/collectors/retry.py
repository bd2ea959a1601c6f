"""Sending one request politely: concurrency cap, rate limit, timeout, retries.

``send_with_retries`` is the only place that talks to the network for a
collector. Each attempt waits for a concurrency slot, then for a rate-limit
token, then sends. It retries on 429, on 5xx and on connection errors and
timeouts, with exponential backoff; a ``Retry-After`` header (seconds or an
HTTP date) is a floor for the next delay. A ``Retry-After`` longer than the
policy allows ends the call at once instead of waiting less than asked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from cronkeeper.collectors.base import CollectorError, Sleep, Timing


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, or None if absent or unreadable.

    Accepts delta-seconds (``"120"``, also ``"1.5"``) and HTTP dates
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``, compared with ``now``). Never negative.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


class TokenBucket:
    """An async token bucket: ``rate`` requests per second, bursts of ``burst``.

    One bucket is shared by every call that must respect the same limit (all
    calls of one collector in this process, ``collectors.hub``). ``acquire`` reserves a token at once and
    then sleeps until it is due, so waiters are served in arrival order and a
    fake sleep that does not advance the clock still yields the right delays.
    A cancelled waiter's token is not given back (the limit errs on the slow side).
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = monotonic()

    def reserve(self) -> float:
        """Take a token (possibly going into debt) and return the seconds until it is due."""
        now = self._monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    async def acquire(self) -> float:
        """Wait for a token; returns how long it waited (seconds)."""
        wait = self.reserve()
        if wait > 0:
            await self._sleep(wait)
        return wait


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry one call.

    Attempt ``n`` (1-based) that fails retryably is followed by a delay of
    ``backoff_seconds * 2**(n-1)`` (capped at ``max_backoff_seconds``) plus up
    to 25 % jitter, and never less than the server's ``Retry-After``.
    """

    max_retries: int = 2
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    max_retry_after_seconds: float = 120.0
    timeout_seconds: float = 60.0

    @property
    def attempts(self) -> int:
        return self.max_retries + 1

    def delay(self, attempt: int, retry_after: float | None, jitter: float) -> float:
        backoff = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1))
        return max(backoff * (1 + 0.25 * jitter), retry_after or 0.0)


class Gate(Protocol):
    """Limits held beyond this process (``collectors.gate``: the database's slots and rate)."""

    def slot(self) -> AbstractAsyncContextManager[object]: ...

    async def token(self) -> None: ...


@dataclass
class CallLimits:
    """The concurrency cap and optional rate limit shared by one collector's calls.

    ``gate`` (optional) adds the limits every process shares: a call holds a
    local slot, then a shared slot, then waits for a local token, then a shared one.
    """

    semaphore: asyncio.Semaphore
    bucket: TokenBucket | None = None
    gate: Gate | None = None

    @asynccontextmanager
    async def permit(self) -> AsyncIterator[None]:
        """Hold every limit for one attempt."""
        async with self.semaphore:
            if self.gate is None:
                if self.bucket is not None:
                    await self.bucket.acquire()
                yield
                return
            async with self.gate.slot():
                if self.bucket is not None:
                    await self.bucket.acquire()
                await self.gate.token()
                yield


def is_retryable(status_code: int) -> bool:
    return status_code == 429 or status_code >= 500


def where(url: httpx.URL | str) -> str:
    """``scheme://host[:port]`` of a URL: enough to say what failed, never a secret."""
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def error_detail(response: httpx.Response, limit: int = 200) -> str:
    """A short, single-line reason from an error response's body."""
    detail = ""
    try:
        body = response.json()
    except ValueError:
        detail = response.text
    else:
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                error = error.get("message")
            detail = str(error or body.get("message") or body.get("detail") or "")
    detail = " ".join(detail.split())
    return detail if len(detail) <= limit else detail[: limit - 1] + "…"


async def send_with_retries(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    collector: str,
    policy: RetryPolicy,
    limits: CallLimits,
    timing: Timing,
) -> tuple[httpx.Response, float]:
    """Send ``request`` until it succeeds; returns the response and its latency in ms.

    Only a 2xx is a success (redirects are followed only if the client does).
    Raises ``CollectorError`` when a non-retryable status (3xx, 4xx other than
    429) comes back, or when the last attempt fails; the message says what failed
    and how many attempts were made, e.g. ``"HTTP 503 after 3 attempts"``.
    """
    for attempt in range(1, policy.attempts + 1):
        retry_after: float | None = None
        async with limits.permit():
            started = timing.monotonic()
            try:
                response = await client.send(request)
            except httpx.TimeoutException as exc:
                cause = f"timed out after {policy.timeout_seconds:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                cause = f"cannot reach {where(request.url)} ({type(exc).__name__})"
            else:
                latency_ms = (timing.monotonic() - started) * 1000.0
                if response.is_success:
                    return response, latency_ms
                cause = f"HTTP {response.status_code}"
                if not is_retryable(response.status_code):
                    detail = error_detail(response)
                    raise CollectorError(collector, f"{cause}: {detail}" if detail else cause)
                retry_after = parse_retry_after(response.headers.get("retry-after"), timing.clock.now())
        if attempt == policy.attempts:
            break
        if retry_after is not None and retry_after > policy.max_retry_after_seconds:
            raise CollectorError(
                collector,
                f"{cause}; the server asked to retry after {retry_after:g} s, more than "
                f"max_retry_after_seconds ({policy.max_retry_after_seconds:g}), after {attempt} attempts",
            )
        await timing.sleep(policy.delay(attempt, retry_after, timing.jitter()))
    noun = "attempt" if policy.attempts == 1 else "attempts"
    raise CollectorError(collector, f"{cause} after {policy.attempts} {noun}")
