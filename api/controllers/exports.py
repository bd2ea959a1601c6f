"""``GET /api/admin/job-runs/{run_id}/export?format=csv|jsonl``: a run's answers and scores, streamed.

The format and the run are checked before the response starts (400 naming
``format``; 404 for an unknown run or another customer's, exactly as the other
run routes). The rows then flow from a server-side cursor to the client in
chunks of about 64 KiB; the pooled connection is held for the download and
given back when it ends or the client leaves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated

import anyio
import anyio.to_thread
from litestar import Controller, get
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import QueryParameter
from litestar.response import Stream
from psycopg_pool import ConnectionPool

from cronkeeper import exports, runs
from cronkeeper.api.params import READ, AccessDep, IntPath, PoolDep, int_param

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


def _rows_in(pool: ConnectionPool, run_id: int, fmt: str) -> Iterator[bytes]:
    with pool.connection() as conn:
        yield from exports.iter_export(conn, run_id, fmt)


async def _stream(pool: ConnectionPool, run_id: int, fmt: str) -> AsyncIterator[bytes]:
    """Drive the blocking export from worker threads; always close it (and free the connection)."""
    chunks = _rows_in(pool, run_id, fmt)
    try:
        while (chunk := await anyio.to_thread.run_sync(next, chunks, None)) is not None:
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(chunks.close)


class JobRunExportController(Controller):
    path = "/job-runs"
    tags = ["job runs"]

    @get(
        "/{run_id:str}/export", operation_id="exportJobRun", responses=READ, sync_to_thread=True,
        operation_class=_ExportOperation,
    )  # fmt: skip
    def export_run(
        self, run_id: IntPath, pool: PoolDep, access: AccessDep, fmt: Format = "csv"
    ) -> Stream:
        """The run's collected answers with their scores as CSV or JSON Lines (see docs/exports.md)."""
        ident = int_param(run_id, "run_id")
        fmt = exports.check_format(fmt)
        with pool.connection() as conn:
            run = runs.get_run(conn, ident, customer_id=access.customer_id)
        return Stream(
            _stream(pool, run.id, fmt),
            media_type=exports.CONTENT_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="run-{run.id}.{fmt}"'},
        )
