"""uvicorn's HTTP protocol (httptools) with the waits it lacks: ``cronkeeper api`` serves with this one.

uvicorn closes a connection idle between two requests after ``timeout_keep_alive``,
but a connection that never sends a byte, or sends its request a byte at a time,
is kept for ever (idle and slow-loris sockets exhausted the process's file
descriptors). Here:

- a new connection idle for ``timeout_keep_alive`` is closed, as an idle keep-alive one is;
- a request must arrive whole (head and body) within ``CRONKEEPER_API_REQUEST_TIMEOUT_SECONDS``
  of its first byte, else 408 (when nothing was answered yet) and the connection is closed;
- a request head over ``h11_max_incomplete_event_size`` bytes gets 431 and the connection is closed;
- beyond twice ``limit_concurrency`` open connections, a new one is closed at once (below that,
  uvicorn answers 503 to requests once ``limit_concurrency`` is reached).

Cut connections are logged as one ``slow_clients_cut`` line per ``LOG_EVERY_SECONDS`` at most.

A response's head goes out with its body in one write (``_HeadWithBody``): uvicorn writes the head
on ``http.response.start`` and the body on ``http.response.body``, two sends (and two wake-ups of
the client) where one does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from functools import cache
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from cronkeeper.api.limits import MAX_HEAD_BYTES, ServerLimits

log = logging.getLogger("cronkeeper.api")

LOG_EVERY_SECONDS = 10.0
_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class _CutLog:
    """Counts cut connections by reason and logs them at most once per ``LOG_EVERY_SECONDS``."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.logged_at = -LOG_EVERY_SECONDS

    def note(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        now = time.monotonic()
        if now - self.logged_at >= LOG_EVERY_SECONDS:
            log.warning("slow_clients_cut", extra={"counts": dict(self.counts), "since_seconds": LOG_EVERY_SECONDS})
            self.counts.clear()
            self.logged_at = now


CUT_LOG = _CutLog()


@cache
def request_seconds() -> float:
    """``CRONKEEPER_API_REQUEST_TIMEOUT_SECONDS`` of this process, read once (``cronkeeper api`` checked it)."""
    return ServerLimits.from_env(os.environ).request_seconds


class _HeadWithBody:
    """The transport of one request's response cycle, holding the response head until the body.

    uvicorn writes the head as soon as the app starts the response; held here, it goes out with
    the first body write when that comes in the same step of the event loop (a whole response:
    Litestar sends both back to back), else at the end of that step (a stream that waits for its
    first chunk, a HEAD answer without a body), or before a close. Writes before the response
    starts (``100 Continue``) pass at once. Everything else is the transport's.
    """

    __slots__ = ("transport", "cycle", "loop", "held")

    def __init__(self, transport: asyncio.Transport, cycle: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.transport, self.cycle, self.loop = transport, cycle, loop
        self.held: bytes | None = None  # the head, while held; b"" once it went out

    def write(self, data: bytes) -> None:
        if self.held is None and self.cycle.response_started:  # the head, written as the response starts
            self.held = data
            self.loop.call_soon(self.flush)
            return
        if self.held:
            data, self.held = self.held + data, b""
        self.transport.write(data)

    def flush(self) -> None:
        if self.held:
            self.transport.write(self.held)
            self.held = b""

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self, config: Config, server_state: ServerState, app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:  # fmt: skip
        super().__init__(config, server_state, app_state, _loop)
        self.max_head_bytes = config.h11_max_incomplete_event_size or MAX_HEAD_BYTES
        self.request_seconds = request_seconds()
        self.request_deadline: asyncio.TimerHandle | None = None
        self.in_head = True  # until the current request's head is complete
        self.head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limit = self.limit_concurrency
        if limit is not None and len(self.connections) > 2 * limit:
            CUT_LOG.note("over_connection_limit")
            transport.abort()
            return
        # idle before its first byte: closed like a connection idle between requests
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.request_deadline is None:
            self.request_deadline = self.loop.call_later(self.request_seconds, self._request_timed_out)
        if self.in_head:
            self.head_bytes += len(data)
        super().data_received(data)
        if self.in_head and self.head_bytes > self.max_head_bytes and not self.transport.is_closing():
            CUT_LOG.note("head_too_large")
            self._refuse(431, "the request head is too large")

    def on_headers_complete(self) -> None:
        self.in_head = False
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.transport is self.transport:
            self.cycle.transport = _HeadWithBody(self.transport, self.cycle, self.loop)  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        self._cancel_deadline()
        self.in_head, self.head_bytes = True, 0
        super().on_message_complete()

    def _cancel_deadline(self) -> None:
        if self.request_deadline is not None:
            self.request_deadline.cancel()
            self.request_deadline = None

    def _request_timed_out(self) -> None:
        self.request_deadline = None
        if self.transport.is_closing():
            return
        CUT_LOG.note("request_timeout")
        answered = self.cycle is not None and not self.cycle.response_complete and self.cycle.response_started
        if self.in_head and not answered:
            self._refuse(408, "the request did not arrive in time")
        else:  # its body is late: the handler waiting for it sees the client gone
            self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        body = message.encode()
        head = (
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n" % (status, _REASONS[status], len(body))
        )
        self.transport.write(head + body)
        self.transport.close()
