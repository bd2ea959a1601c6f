"""Customer requests and responses."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from msgspec import Struct

from cronkeeper.api.schemas.common import Input, Name, utc
from cronkeeper.models import Customer


class CustomerIn(Input):
    name: Name


class CustomerOut(Struct, kw_only=True):
    id: UUID
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, c: Customer) -> CustomerOut:
        return cls(id=c.id, name=c.name, created_at=utc(c.created_at), updated_at=utc(c.updated_at))


class CustomerPage(Struct):
    data: list[CustomerOut]
    next_cursor: str | None
