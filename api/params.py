"""Parameters shared by the controllers, and the error responses they declare.

Ids in paths are taken as strings and parsed here, so a malformed one is a
400 naming the parameter rather than a bare 404 from the router.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter, SkipValidation
from psycopg_pool import ConnectionPool

from cronkeeper import fields
from cronkeeper.api import cursors
from cronkeeper.api.auth import Access
from cronkeeper.api.schemas.common import ErrorOut
from cronkeeper.clock import Clock
from cronkeeper.errors import ValidationError
from cronkeeper.repo.pages import Pools
from cronkeeper.settings import Settings

T = TypeVar("T")

PoolDep = NamedDependency[ConnectionPool]
PagePoolsDep = NamedDependency[Pools]
AccessDep = NamedDependency[Access]
ClockDep = NamedDependency[SkipValidation[Clock]]  # a Protocol: no isinstance check
SettingsDep = NamedDependency[Settings]

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size (1-200).")]
Cursor = Annotated[
    str | None,
    QueryParameter(max_length=512, description="The `next_cursor` of the previous page; omit for the first."),
]
Search = Annotated[
    str | None, QueryParameter(max_length=200, description="Part of the brand's name (case-insensitive).")
]
UuidPath = Annotated[str, PathParameter(description="A UUID.", schema_extra={"format": "uuid"})]
IntPath = Annotated[str, PathParameter(description="A positive integer id.", pattern=r"^[0-9]{1,18}$")]

_DESCRIPTIONS = {
    400: "Invalid input; `field` names the culprit",
    401: "Missing, invalid or revoked token",
    403: "The token may not do this",
    404: "No such object (or not visible to this token)",
    409: "Conflicts with the object's current state",
    413: "Request body too large",
    429: "A rate limit was reached; see Retry-After",
    503: "The database cannot be reached or did not answer in time (see Retry-After)",
}


def page(rows: list[T], limit: int, key: Callable[[T], tuple[Any, ...]]) -> tuple[list[T], str | None]:
    """The rows of a page fetched with ``limit + 1``, and the cursor of the next page
    (``key`` of its last row), ``None`` when no page follows."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, cursors.encode(*key(rows[-1]))


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for these error statuses, all with the ``ErrorOut`` body. A route that
    takes a token (401) may also answer 429: its address tried too many wrong ones (``api.limits``)."""
    if 401 in codes and 429 not in codes:
        codes = (*codes, 429)
    return {
        code: ResponseSpec(data_container=ErrorOut, description=_DESCRIPTIONS[code], generate_examples=False)
        for code in codes
    }


# 503: the database cannot be reached, or did not answer within the request's deadline
READ = errors(400, 401, 403, 404, 503)
WRITE = errors(400, 401, 403, 404, 409, 413, 429)


def search_param(value: str | None) -> str | None:
    if value and "\x00" in value:
        raise ValidationError("search must not contain NUL characters", field="search")
    return value or None


def uuid_param(value: str, field: str) -> UUID:
    return fields.uuid(value, field)


def int_param(value: str, field: str) -> int:
    return fields.whole_number(value, field, 1)
