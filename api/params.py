"""Parameters shared by the controllers, and the error responses they declare.

Ids in paths are taken as strings and parsed here, so a malformed one is a
400 naming the parameter rather than a bare 404 from the router.
"""

from __future__ import annotations

import re
from typing import Annotated
from uuid import UUID

from cronkeeper.api.auth import Access
from cronkeeper.api.schemas import ErrorOut
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter, SkipValidation
from psycopg_pool import ConnectionPool

from cronkeeper.clock import Clock
from cronkeeper.errors import ValidationError
from cronkeeper.repo.pages import Pools
from cronkeeper.settings import Settings

_DIGITS = re.compile(r"[0-9]{1,18}")

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
    503: "The database cannot be reached",
}


def page(rows: list, limit: int) -> tuple[list, bool]:
    """The rows of a page fetched with ``limit + 1``, and whether another page follows."""
    return rows[:limit], len(rows) > limit


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for these error statuses, all with the ``ErrorOut`` body."""
    return {
        code: ResponseSpec(data_container=ErrorOut, description=_DESCRIPTIONS[code], generate_examples=False)
        for code in codes
    }


READ = errors(400, 401, 403, 404)
WRITE = errors(400, 401, 403, 404, 409, 413)


def search_param(value: str | None) -> str | None:
    if value and "\x00" in value:
        raise ValidationError("search must not contain NUL characters", field="search")
    return value or None


def uuid_param(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ValidationError(f"{field} must be a UUID; got {value[:60]!r}", field=field) from None


def int_param(value: str, field: str) -> int:
    if not _DIGITS.fullmatch(value):
        raise ValidationError(f"{field} must be a positive integer; got {value[:60]!r}", field=field)
    return int(value)
