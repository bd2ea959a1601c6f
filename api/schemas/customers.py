"""Customer requests and responses."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

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


Limit = Annotated[int, Meta(ge=0, le=1_000_000)]


class QuotasIn(Input):
    """Per-customer limits to override; ``null`` puts one back to the installation's default."""

    max_jobs: Limit | None | UnsetType = UNSET
    max_active_jobs: Limit | None | UnsetType = UNSET
    manual_triggers_per_minute: Limit | None | UnsetType = UNSET
    max_sync_runs: Limit | None | UnsetType = UNSET


class QuotaValues(Struct, kw_only=True):
    max_jobs: int | None
    max_active_jobs: int | None
    manual_triggers_per_minute: int | None
    max_sync_runs: int | None


class QuotasOut(Struct, kw_only=True):
    """``limits``: in force; ``overrides``: the customer's own (``null``: the default); ``defaults``."""

    customer_id: UUID
    limits: QuotaValues
    overrides: QuotaValues
    defaults: QuotaValues

    @classmethod
    def of(cls, q: dict[str, Any]) -> QuotasOut:
        return cls(customer_id=q["customer_id"], limits=QuotaValues(**q["limits"]),
                   overrides=QuotaValues(**q["overrides"]), defaults=QuotaValues(**q["defaults"]))  # fmt: skip
