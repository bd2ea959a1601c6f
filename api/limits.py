"""What one API process allows before it refuses: connections, slow clients, auth failures, writes.

Everything here is counted in the memory of one process, never shared: with
``cronkeeper api --workers N`` each process keeps its own counts (a token may make up to
N times ``CRONKEEPER_API_WRITE_RATE`` writes a minute in all). A reverse proxy in front
(``ops/nginx.conf``) is where limits across processes and machines belong.

| variable | default | what |
|---|---|---|
| ``CRONKEEPER_API_KEEP_ALIVE_SECONDS`` | 5 | an idle connection (new, or between requests) is closed after this |
| ``CRONKEEPER_API_REQUEST_TIMEOUT_SECONDS`` | 10 | a request must arrive whole (head and body) within this of its first byte |
| ``CRONKEEPER_API_MAX_CONNECTIONS`` | 1000 | from this many open connections (or requests) on, requests get 503; |
| | | beyond twice as many, new connections are closed unanswered |
| ``CRONKEEPER_API_BACKLOG`` | 2048 | connections the kernel queues before the process accepts them |
| ``CRONKEEPER_API_AUTH_FAILURES`` | 20 | failed tokens per client address in 10 s before it is blocked (0: off) |
| ``CRONKEEPER_API_AUTH_BLOCK_SECONDS`` | 30 | how long a blocked address gets 429 (no database lookup) |
| ``CRONKEEPER_API_WRITE_RATE`` | 600 | writes a minute per token, with bursts up to as many (0: off) |

A request head (request line and headers) larger than ``MAX_HEAD_BYTES`` is refused with 431.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cronkeeper.errors import ConfigurationError

PROTOCOL = "cronkeeper.api.protocol:GuardedHttpToolsProtocol"
MAX_HEAD_BYTES = 64 * 1024
AUTH_WINDOW_SECONDS = 10.0
MAX_KEYS = 10_000  # addresses or tokens remembered; beyond, the idle ones are forgotten

# variable -> (default, minimum, maximum)
_BOUNDS: dict[str, tuple[float, float, float]] = {
    "CRONKEEPER_API_KEEP_ALIVE_SECONDS": (5, 1, 300),
    "CRONKEEPER_API_REQUEST_TIMEOUT_SECONDS": (10, 1, 300),
    "CRONKEEPER_API_MAX_CONNECTIONS": (1000, 2, 100_000),
    "CRONKEEPER_API_BACKLOG": (2048, 1, 65_535),
    "CRONKEEPER_API_AUTH_FAILURES": (20, 0, 1_000_000),
    "CRONKEEPER_API_AUTH_BLOCK_SECONDS": (30, 1, 86_400),
    "CRONKEEPER_API_WRITE_RATE": (600, 0, 1_000_000),
}


def _number(env: Mapping[str, str], name: str) -> float:
    default, low, high = _BOUNDS[name]
    raw = env.get(name) or str(default)
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # NaN fails too
        raise ConfigurationError(f"{name} must be a number from {low:g} to {high:g}, got {raw!r}", field=name)
    return value


def _whole(env: Mapping[str, str], name: str) -> int:
    value = _number(env, name)
    if value != int(value):
        raise ConfigurationError(f"{name} must be a whole number, got {env.get(name)!r}", field=name)
    return int(value)


@dataclass(frozen=True)
class ServerLimits:
    """How long and how many connections a process keeps (uvicorn's settings and ours)."""

    keep_alive_seconds: float = 5.0
    request_seconds: float = 10.0
    max_connections: int = 1000
    backlog: int = 2048

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ServerLimits:
        """Read and check the variables; a bad one raises ``ConfigurationError`` naming it."""
        return cls(
            keep_alive_seconds=_number(env, "CRONKEEPER_API_KEEP_ALIVE_SECONDS"),
            request_seconds=_number(env, "CRONKEEPER_API_REQUEST_TIMEOUT_SECONDS"),
            max_connections=_whole(env, "CRONKEEPER_API_MAX_CONNECTIONS"),
            backlog=_whole(env, "CRONKEEPER_API_BACKLOG"),
        )

    def uvicorn_options(self) -> dict[str, Any]:
        """Keyword arguments for ``uvicorn.Config``: our protocol (``cronkeeper.api.protocol``) and its limits."""
        return {
            "http": PROTOCOL,
            "timeout_keep_alive": self.keep_alive_seconds,
            "limit_concurrency": self.max_connections,
            "backlog": self.backlog,
            "h11_max_incomplete_event_size": MAX_HEAD_BYTES,  # our protocol reads it as its head limit too
        }


@dataclass(frozen=True)
class RequestLimits:
    """The per-address and per-token limits of the admin API."""

    auth_failures: int = 20
    auth_block_seconds: float = 30.0
    write_rate: int = 600

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RequestLimits:
        return cls(
            auth_failures=_whole(env, "CRONKEEPER_API_AUTH_FAILURES"),
            auth_block_seconds=_number(env, "CRONKEEPER_API_AUTH_BLOCK_SECONDS"),
            write_rate=_whole(env, "CRONKEEPER_API_WRITE_RATE"),
        )


class AuthFailures:
    """Failed authentications per client address, in windows of ``window`` seconds.

    An address that presents more than ``limit`` wrong tokens in a window is
    blocked for ``block`` seconds (never when ``limit`` is 0); a request without
    a token costs no lookup and guesses nothing, so it is not counted. ``record``
    says when to log, so a flood costs one log line per address and window: its
    first failure, and the start of a block. Used from the event loop only (no lock).
    """

    def __init__(
        self, limit: int, block: float, *, window: float = AUTH_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS,
    ) -> None:  # fmt: skip
        self.limit, self.block, self.window, self.clock, self.max_keys = limit, block, window, clock, max_keys
        # address -> [window start, failures, wrong tokens, blocked until]
        self._seen: dict[str, list[float]] = {}

    def blocked_for(self, address: str) -> int | None:
        """Whole seconds until ``address`` may try again, or None when it is not blocked."""
        entry = self._seen.get(address)
        if entry is None:
            return None
        left = entry[3] - self.clock()
        return math.ceil(left) if left > 0 else None

    def record(self, address: str, *, wrong_token: bool) -> str | None:
        """Count a failure: ``"first"`` for the window's first (log it), ``"blocked"`` when this one
        starts a block (log that), else None."""
        now = self.clock()
        entry = self._seen.get(address)
        if entry is None or now - entry[0] >= self.window:
            if entry is None and len(self._seen) >= self.max_keys:
                self._forget(now)
            entry = self._seen[address] = [now, 0.0, 0.0, entry[3] if entry else 0.0]
        entry[1] += 1
        entry[2] += wrong_token
        if wrong_token and 0 < self.limit < entry[2] and entry[3] <= now:
            entry[3] = now + self.block
            return "blocked"
        return "first" if entry[1] == 1 else None

    def _forget(self, now: float) -> None:
        self._seen = {a: e for a, e in self._seen.items() if e[3] > now or now - e[0] < self.window}
        if len(self._seen) >= self.max_keys:  # a flood from many addresses: start again rather than grow
            self._seen.clear()


class WriteRate:
    """A token bucket per key (a token's id): ``per_minute`` writes a minute, bursts up to as many.
    Used from the event loop only (no lock)."""

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS
    ) -> None:
        self.per_minute, self.clock, self.max_keys = per_minute, clock, max_keys
        self._buckets: dict[Any, list[float]] = {}  # key -> [tokens left, when counted]

    def take(self, key: Any) -> int | None:
        """Take one write for ``key``: None when allowed, else whole seconds until one is free."""
        if self.per_minute <= 0:
            return None
        now, rate = self.clock(), self.per_minute / 60.0
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._buckets = {k: b for k, b in self._buckets.items() if b[0] + (now - b[1]) * rate < self.per_minute}
                if len(self._buckets) >= self.max_keys:
                    self._buckets.clear()
            bucket = self._buckets[key] = [float(self.per_minute), now]
        tokens = min(float(self.per_minute), bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return max(1, math.ceil((1.0 - tokens) / rate))
        bucket[0] = tokens - 1.0
        return None


class Limits:
    """This process's ``AuthFailures`` and ``WriteRate`` (``app.state.limits``)."""

    def __init__(self, config: RequestLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.auth = AuthFailures(config.auth_failures, config.auth_block_seconds, clock=clock)
        self.writes = WriteRate(config.write_rate, clock=clock)
