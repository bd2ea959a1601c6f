"""API tokens: made once, shown once, stored as a SHA-256 hash only.

A token is ``ck_`` followed by 43 URL-safe characters (256 random bits), so it
is recognisable in a leaked config file or a secret scanner. The database holds
its hash; a presented token is hashed, looked up by that hash and compared in
constant time. ``admin`` may write, ``viewer`` may only read; a token bound to a
customer sees only that customer's data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from enum import StrEnum
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import fields
from cronkeeper.errors import AuthError, ConfigurationError, NotFound
from cronkeeper.repo import tokens as tokens_repo

PREFIX = "ck_"
_SECRET_BYTES = 32
_MAX_LENGTH = 128
# last_used_at is rewritten at most this often per token (one write per request is waste)
TOUCH_EVERY_SECONDS = 60.0
# API processes may keep a checked token this long, so a revoked one is refused
# by every process within this time
CACHE_VAR = "CRONKEEPER_API_TOKEN_CACHE_SECONDS"
DEFAULT_CACHE_SECONDS = 5.0


class Role(StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    role: Role
    customer_id: UUID | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ApiToken:
        names = {f.name for f in dataclass_fields(cls)}
        token = cls(**{k: v for k, v in row.items() if k in names})
        object.__setattr__(token, "role", Role(token.role))
        return token

    @property
    def can_write(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` exists only here, never in the database."""

    token: ApiToken
    secret: str


def generate_secret() -> str:
    return PREFIX + secrets.token_urlsafe(_SECRET_BYTES)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def cache_seconds(env: Mapping[str, str]) -> float:
    """How long an API process may trust a checked token (``CRONKEEPER_API_TOKEN_CACHE_SECONDS``)."""
    raw = env.get(CACHE_VAR) or str(DEFAULT_CACHE_SECONDS)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 300:
        raise ConfigurationError(f"{CACHE_VAR} must be a number of seconds from 0 to 300, got {raw!r}", field=CACHE_VAR)
    return value


def create_token(
    conn: psycopg.Connection, *, name: str, role: str = "admin", customer_id: UUID | None = None
) -> NewToken:
    """Make and store a token; the returned ``secret`` is the only copy of it."""
    name = fields.text(name, "name")
    checked_role = fields.enum_value(Role, role, "role")
    owner = fields.uuid(customer_id, "customer_id") if customer_id is not None else None
    secret = generate_secret()
    row = tokens_repo.insert_token(conn, name, hash_secret(secret), str(checked_role), owner)
    return NewToken(ApiToken.from_row(row), secret)


def authenticate(conn: psycopg.Connection, secret: str, now: dt.datetime) -> ApiToken:
    """The live token ``secret`` belongs to (its use is recorded), or ``AuthError``."""
    if not secret.startswith(PREFIX) or len(secret) > _MAX_LENGTH or not secret.isascii():
        raise AuthError("invalid token")
    digest = hash_secret(secret)
    row = tokens_repo.get_by_hash(conn, digest)
    # the lookup is by hash, so timing says nothing about the secret; compare anyway
    if row is None or not hmac.compare_digest(row["token_hash"], digest):
        raise AuthError("invalid or revoked token")
    tokens_repo.touch_token(conn, row["id"], now, TOUCH_EVERY_SECONDS)
    return ApiToken.from_row(row)


def list_tokens(conn: psycopg.Connection, *, include_revoked: bool = True) -> list[ApiToken]:
    return [ApiToken.from_row(r) for r in tokens_repo.list_tokens(conn, include_revoked=include_revoked)]


def revoke_token(conn: psycopg.Connection, token_id: int, now: dt.datetime) -> ApiToken:
    row = tokens_repo.revoke_token(conn, token_id, now)
    if row is None:
        raise NotFound(f"no live token {token_id}")
    return ApiToken.from_row(row)
