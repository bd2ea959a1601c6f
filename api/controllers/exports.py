"""``GET /api/admin/job-runs/{run_id}/export?format=csv|jsonl``: a run's answers and scores, streamed.

The format and the run are checked before the response starts (400 naming
``format``; 404 for an unknown run or another customer's, exactly as the other
run routes). The rows then flow to the client in chunks of about 64 KiB, read
page by page (``exports.iter_export_pages``): each page takes a pooled
connection for one short statement and gives it back, so a client that stops
reading holds no connection and no transaction.

A download also holds an export slot: at most ``CRONKEEPER_EXPORTS_PER_CUSTOMER``
(default 2) at once for the run's customer and ``CRONKEEPER_EXPORTS_PER_PROCESS``
(default 8) in this process; beyond that the answer is a 429 with
``Retry-After``. A client that accepts no data for ``CRONKEEPER_EXPORT_IDLE_SECONDS``
(default 30) is cut off (the connection closed) and its slot freed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import anyio
import anyio.to_thread
from litestar import Controller, get
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import QueryParameter
from litestar.response import Stream
from litestar.response.streaming import ASGIStreamingResponse

from cronkeeper import audit, exports, runs
from cronkeeper.api.params import AccessDep, IntPath, PoolDep, errors, int_param
from cronkeeper.errors import ConfigurationError, RateLimited

log = logging.getLogger("cronkeeper.api.exports")
LIMIT_ENV = {
    "per_customer": ("CRONKEEPER_EXPORTS_PER_CUSTOMER", 2),
    "per_process": ("CRONKEEPER_EXPORTS_PER_PROCESS", 8),
    "idle_seconds": ("CRONKEEPER_EXPORT_IDLE_SECONDS", 30),
}
RETRY_AFTER_SECONDS = 10

Format = Annotated[
    str,
    QueryParameter(
        name="format",
        description="`csv` (default) or `jsonl` (JSON Lines).",
        schema_extra={"enum": list(exports.FORMATS)},
    ),
]


@dataclass
class _ExportOperation(Operation):
    """The generated operation, with the 200 response in both formats' media types."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            schema = Schema(
                type=OpenAPIType.STRING, description="The export; columns in docs/exports.md."
            )
            ok.content = {
                t: OpenAPIMediaType(schema=schema) for t in exports.CONTENT_TYPES.values()
            }


def _limit(name: str) -> int:
    """One of ``LIMIT_ENV``'s settings, read at each request (a positive whole number)."""
    var, default = LIMIT_ENV[name]
    text = os.environ.get(var, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ConfigurationError(f"{var} must be a positive whole number; got {text[:40]!r}")
    return int(text)


class ExportSlots:
    """The downloads in progress in this process, in total and per customer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_customer: Counter[UUID] = Counter()

    @property
    def in_use(self) -> int:
        return sum(self._by_customer.values())

    def take(self, customer_id: UUID) -> Callable[[], None]:
        """A slot for ``customer_id`` and the function that gives it back (idempotent);
        ``RateLimited`` when the customer's or the process's limit is reached."""
        per_customer, per_process = _limit("per_customer"), _limit("per_process")
        with self._lock:
            if self._by_customer[customer_id] >= per_customer or self.in_use >= per_process:
                raise RateLimited(
                    f"too many exports at once (at most {per_customer} per customer, {per_process} per "
                    "server); try again when one has finished",
                    retry_after=RETRY_AFTER_SECONDS,
                )
            self._by_customer[customer_id] += 1
        given_back = threading.Event()

        def release() -> None:
            with self._lock:
                if not given_back.is_set():
                    given_back.set()
                    self._by_customer[customer_id] -= 1
                    if self._by_customer[customer_id] <= 0:
                        del self._by_customer[customer_id]

        return release


SLOTS = ExportSlots()


class _Chunks:
    """The export's chunks, made in worker threads page by page; holds a slot until closed."""

    def __init__(self, pages: Iterator[bytes], release: Callable[[], None], idle_seconds: float) -> None:
        self._pages = pages
        self._release = release
        self.idle_seconds = idle_seconds
        self._closed = False

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await anyio.to_thread.run_sync(next, self._pages, None)
        except BaseException:
            await self.aclose()
            raise
        if chunk is None:
            await self.aclose()
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self._pages.close)
        self._release()


class _IdleCutResponse(ASGIStreamingResponse):
    """Litestar's streaming response, but a send that waits longer than the iterator's
    ``idle_seconds`` (the client reads nothing) ends the response unfinished, which makes
    the server close the connection; the iterator is always closed."""

    __slots__ = ()

    async def send_body(self, send: Any, receive: Any) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(self._stream_or_cut, send, group.cancel_scope)
            await self._listen_for_disconnect(cancel_scope=group.cancel_scope, receive=receive)

    async def _stream_or_cut(self, send: Any, scope: anyio.CancelScope) -> None:
        chunks = self.iterator
        idle = getattr(chunks, "idle_seconds", None)
        try:
            async for chunk in chunks:
                body = chunk if isinstance(chunk, bytes) else chunk.encode(self.encoding)
                with anyio.fail_after(idle):
                    await send({"type": "http.response.body", "body": body, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except TimeoutError:
            log.info("export_reader_idle", extra={"idle_seconds": idle})
            scope.cancel()  # stop waiting for the client: the response stays unfinished
        finally:
            closer = getattr(chunks, "aclose", None)
            if closer is not None:
                await closer()


class _ExportStream(Stream):
    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        response = super().to_asgi_response(*args, **kwargs)
        if isinstance(response, ASGIStreamingResponse):
            response.__class__ = _IdleCutResponse
        return response


class JobRunExportController(Controller):
    path = "/job-runs"
    tags = ["job runs"]

    @get(
        "/{run_id:str}/export", operation_id="exportJobRun", responses=errors(400, 401, 403, 404, 429),
        sync_to_thread=True,
        operation_class=_ExportOperation,
    )  # fmt: skip
    def export_run(
        self, run_id: IntPath, pool: PoolDep, access: AccessDep, fmt: Format = "csv"
    ) -> Stream:
        """The run's collected answers with their scores as CSV or JSON Lines (see docs/exports.md).

        429 with ``Retry-After`` when the customer or the server has too many exports running."""
        ident = int_param(run_id, "run_id")
        fmt = exports.check_format(fmt)
        with pool.connection() as conn:
            run = runs.get_run(conn, ident, customer_id=access.customer_id)
            slot = SLOTS.take(run.customer_id)  # a refused download (429) is not recorded
            try:
                audit.exported(conn, run, fmt)
            except BaseException:
                slot()  # give the slot back: nothing is streamed
                raise
        idle = float(_limit("idle_seconds"))
        pages = exports.iter_export_pages(pool.connection, run.id, fmt)
        return _ExportStream(
            _Chunks(pages, slot, idle),
            media_type=exports.CONTENT_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="run-{run.id}.{fmt}"'},
        )
