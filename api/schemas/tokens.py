"""API token requests and responses. A token's secret appears in one response only:
the ``201`` of its creation (``NewTokenOut``); listings never carry it nor its hash."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from cronkeeper.api.schemas.common import Input, Instant, Name, utc
from cronkeeper.tokens import MAX_EXPIRY_DAYS, ApiToken, NewToken, Role, TokenState

ExpiryDays = Annotated[int, Meta(ge=1, le=MAX_EXPIRY_DAYS)]


class TokenIn(Input):
    """A new token: ``expires_at`` or ``expires_in_days`` (not both); neither means it never expires."""

    name: Name
    role: Role = Role.ADMIN
    customer_id: UUID | None = None
    expires_at: Instant | None = None
    expires_in_days: ExpiryDays | None = None


class TokenOut(Struct, kw_only=True):
    id: int
    name: str
    role: Role
    customer_id: UUID | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    expires_at: dt.datetime | None
    state: TokenState

    @classmethod
    def values(cls, t: ApiToken, now: dt.datetime) -> dict:
        return {
            "id": t.id, "name": t.name, "role": t.role, "customer_id": t.customer_id,
            "created_at": utc(t.created_at), "last_used_at": utc(t.last_used_at), "revoked_at": utc(t.revoked_at),
            "expires_at": utc(t.expires_at), "state": t.state(now),
        }  # fmt: skip

    @classmethod
    def of(cls, t: ApiToken, now: dt.datetime) -> TokenOut:
        return cls(**cls.values(t, now))


class NewTokenOut(TokenOut, kw_only=True):
    """The token just made, with its ``secret``: shown this once, never stored."""

    secret: str

    @classmethod
    def made(cls, new: NewToken, now: dt.datetime) -> NewTokenOut:
        return cls(**TokenOut.values(new.token, now), secret=new.secret)


class TokenList(Struct):
    data: list[TokenOut]
