"""Brand and brand-query requests and responses."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from msgspec import UNSET, Struct, UnsetType

from cronkeeper.api.schemas.common import Input, Name, Names, QueryText, utc
from cronkeeper.models import Brand, BrandQuery


class BrandIn(Input):
    name: Name
    customer_id: UUID | None | UnsetType = UNSET
    aliases: Names | None | UnsetType = UNSET
    competitors: Names | None | UnsetType = UNSET


class BrandUpdate(Input):
    name: Name | None | UnsetType = UNSET
    aliases: Names | None | UnsetType = UNSET
    competitors: Names | None | UnsetType = UNSET


class BrandOut(Struct, kw_only=True):
    id: UUID
    customer_id: UUID
    name: str
    aliases: list[str]
    competitors: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, b: Brand) -> BrandOut:
        return cls(
            id=b.id, customer_id=b.customer_id, name=b.name, aliases=list(b.aliases),
            competitors=list(b.competitors), created_at=utc(b.created_at), updated_at=utc(b.updated_at),
        )  # fmt: skip


class BrandPage(Struct):
    data: list[BrandOut]
    next_cursor: str | None


class BrandQueryIn(Input):
    text: QueryText
    is_active: bool | None | UnsetType = UNSET


class BrandQueryUpdate(Input):
    text: QueryText | None | UnsetType = UNSET
    is_active: bool | None | UnsetType = UNSET


class BrandQueryOut(Struct, kw_only=True):
    id: int
    brand_id: UUID
    text: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, q: BrandQuery) -> BrandQueryOut:
        return cls(
            id=q.id, brand_id=q.brand_id, text=q.text, is_active=q.is_active,
            created_at=utc(q.created_at), updated_at=utc(q.updated_at),
        )  # fmt: skip


class BrandQueryList(Struct):
    data: list[BrandQueryOut]
