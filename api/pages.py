"""List responses assembled from the JSON PostgreSQL wrote (``cronkeeper.repo.pages``).

The handlers return ``Response[RunPage]`` / ``Response[JobPage]``: the
OpenAPI schema is the structs', the body is the rows' JSON joined, with no
decoding and encoding in between.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from litestar import Response
from litestar.enums import MediaType

from api.schemas import JobPage, RunPage, describe_schedule
from cronkeeper.repo.pages import JobRow

_encode = msgspec.json.encode


def page_response(items: Iterable[str], next_cursor: str | None) -> Response:
    """``{"data": [...], "next_cursor": ...}`` around JSON objects already encoded."""
    body = (
        b'{"data":[' + ",".join(items).encode() + b'],"next_cursor":' + _encode(next_cursor) + b"}"
    )
    return Response(content=body, media_type=MediaType.JSON)


def job_json(row: JobRow) -> str:
    """A job's JSON with its ``schedule_description`` (the one field PostgreSQL cannot write)."""
    description = _encode(describe_schedule(*row.schedule)).decode()
    return f'{row.json[:-1]},"schedule_description":{description}}}'


RunPageResponse = Response[RunPage]
JobPageResponse = Response[JobPage]
