"""API tokens: made once, shown once, stored as a SHA-256 hash only.

A token is ``ck_`` followed by 43 URL-safe characters (256 random bits), so it
is recognisable in a leaked config file or a secret scanner. The database holds
its hash; a presented token is hashed, looked up by that hash and compared in
constant time. ``admin`` may write, ``viewer`` may only read; a token bound to a
customer sees only that customer's data. A token may expire (``expires_at``):
from then on it is refused exactly like a revoked one, also from an API
process's cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from enum import StrEnum
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import audit, fields
from cronkeeper.clock import utcnow
from cronkeeper.errors import AuthError, ConfigurationError, Conflict, NotFound
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
MAX_EXPIRY_DAYS = 3650  # ten years; for "never", give no expiry


class Role(StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


class TokenState(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    role: Role
    customer_id: UUID | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ApiToken:
        names = {f.name for f in dataclass_fields(cls)}
        token = cls(**{k: v for k, v in row.items() if k in names})
        object.__setattr__(token, "role", Role(token.role))
        return token

    @property
    def can_write(self) -> bool:
        return self.role is Role.ADMIN

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def state(self, now: dt.datetime) -> TokenState:
        """Revoked wins over expired: a revoked token never comes back."""
        if self.revoked_at is not None:
            return TokenState.REVOKED
        return TokenState.EXPIRED if self.expired(now) else TokenState.ACTIVE


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


def expiry(
    now: dt.datetime, *, expires_at: Any = None, expires_in_days: Any = None
) -> dt.datetime | None:
    """When a new token expires: ``expires_at`` (aware, after ``now``), ``now`` plus
    ``expires_in_days`` (1 to ``MAX_EXPIRY_DAYS``), or ``None`` (never)."""
    if expires_at is not None and expires_in_days is not None:
        fields.refuse("expires_in_days", "cannot be given with expires_at; give one of them")
    if expires_in_days is not None:
        days = fields.integer(expires_in_days, "expires_in_days", 1, MAX_EXPIRY_DAYS)
        return now + dt.timedelta(days=days)
    if expires_at is None:
        return None
    when = fields.iso_time(expires_at, "expires_at")
    if when.tzinfo is None or when.utcoffset() is None:
        fields.refuse("expires_at", "needs a UTC offset (2030-01-31T09:00Z)")
    if when <= now:
        fields.refuse("expires_at", f"must be in the future; got {when.isoformat()} (now {now.isoformat()})")
    if when > now + dt.timedelta(days=MAX_EXPIRY_DAYS):
        fields.refuse("expires_at", f"must be within {MAX_EXPIRY_DAYS} days; for no expiry, leave it out")
    return when


def create_token(
    conn: psycopg.Connection,
    *,
    name: str,
    role: str = "admin",
    customer_id: UUID | None = None,
    expires_at: Any = None,
    expires_in_days: Any = None,
    now: dt.datetime | None = None,
) -> NewToken:
    """Make and store a token; the returned ``secret`` is the only copy of it.

    An expiry is checked against ``now`` (the caller's clock; the wall clock when omitted).
    """
    name = fields.text(name, "name")
    checked_role = fields.enum_value(Role, role, "role")
    owner = fields.uuid(customer_id, "customer_id") if customer_id is not None else None
    ends = expiry(now or utcnow(), expires_at=expires_at, expires_in_days=expires_in_days)
    secret = generate_secret()
    with conn.transaction():
        row = tokens_repo.insert_token(conn, name, hash_secret(secret), str(checked_role), owner, ends)
        audit.token_saved(conn, None, ApiToken.from_row(row))
    return NewToken(ApiToken.from_row(row), secret)


def authenticate(conn: psycopg.Connection, secret: str, now: dt.datetime) -> ApiToken:
    """The live token ``secret`` belongs to (its use is recorded), or ``AuthError``
    when it is unknown, revoked or expired at ``now``."""
    if not secret.startswith(PREFIX) or len(secret) > _MAX_LENGTH or not secret.isascii():
        raise AuthError("invalid token")
    digest = hash_secret(secret)
    row = tokens_repo.get_by_hash(conn, digest)
    # the lookup is by hash, so timing says nothing about the secret; compare anyway
    if row is None or not hmac.compare_digest(row["token_hash"], digest):
        raise AuthError("invalid or revoked token")
    token = ApiToken.from_row(row)
    if token.expired(now):
        raise AuthError(f"token expired at {token.expires_at.astimezone(dt.UTC).isoformat()}")
    tokens_repo.touch_token(conn, row["id"], now, TOUCH_EVERY_SECONDS)
    return token


def list_tokens(
    conn: psycopg.Connection, *, include_revoked: bool = True, active_at: dt.datetime | None = None
) -> list[ApiToken]:
    """Every token by id (never a secret or hash); only those live at ``active_at`` when given."""
    found = [ApiToken.from_row(r) for r in tokens_repo.list_tokens(conn, include_revoked=include_revoked)]
    if active_at is not None:
        found = [t for t in found if t.state(active_at) is TokenState.ACTIVE]
    return found


def revoke_token(conn: psycopg.Connection, token_id: int, now: dt.datetime) -> ApiToken:
    """Revoke a token (an expired one too); ``NotFound`` if there is none, ``Conflict``
    if it is revoked already."""
    with conn.transaction():
        row = tokens_repo.revoke_token(conn, token_id, now)
        if row is None:
            if tokens_repo.get_token(conn, token_id) is not None:
                raise Conflict(f"token {token_id} is already revoked")
            raise NotFound(f"no token {token_id}")
        revoked = ApiToken.from_row(row)
        audit.token_saved(conn, replace(revoked, revoked_at=None), revoked)
    return revoked
