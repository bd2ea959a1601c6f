"""List responses assembled from the JSON PostgreSQL wrote (``cronkeeper.repo.pages``).

The handlers return ``Response[RunPage]`` / ``Response[JobPage]``: the
OpenAPI schema is the structs', the body is the rows' JSON joined, with no
decoding and encoding in between.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec
from litestar import Response
from litestar.enums import MediaType

from cronkeeper.api.schemas.jobs import JobPage, describe_schedule
from cronkeeper.api.schemas.runs import RunPage
from cronkeeper.repo.pages import JobRow

_encode = msgspec.json.encode


def page_response(items: Iterable[str], next_cursor: str | None) -> Response:
    """``{"data": [...], "next_cursor": ...}`` around JSON objects already encoded."""
    body = (
        b'{"data":[' + ",".join(items).encode() + b'],"next_cursor":' + _encode(next_cursor) + b"}"
    )
    return Response(content=body, media_type=MediaType.JSON)


# schedule_key -> the JSON's end: ',"schedule_description":"..."}'. Most pages share a
# few schedules; bounded by clearing (a miss costs one description, ~0.1 ms).
_DESCRIBED: dict[str, str] = {}
_DESCRIBED_MAX = 4096


def job_json(row: JobRow) -> str:
    """A job's JSON with its ``schedule_description`` (the one field PostgreSQL cannot write)."""
    tail = _DESCRIBED.get(row.schedule_key)
    if tail is None:
        tail = _describe(row)
    return row.json[:-1] + tail


def _describe(row: JobRow) -> str:
    f = msgspec.json.decode(row.json)
    run_at = dt.datetime.fromisoformat(f["run_at"]) if f["run_at"] else None
    text = describe_schedule(f["schedule_kind"], f["cron_expression"], f["timezone"], f["interval_seconds"],
                             f["jitter_seconds"], run_at)  # fmt: skip
    tail = ',"schedule_description":' + _encode(text).decode() + "}"
    if len(_DESCRIBED) >= _DESCRIBED_MAX:
        _DESCRIBED.clear()
    _DESCRIBED[row.schedule_key] = tail
    return tail


RunPageResponse = Response[RunPage]
JobPageResponse = Response[JobPage]
