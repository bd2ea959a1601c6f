"""Bearer tokens: who is calling (401 when unknown) and what they may do (403).

Authentication is a middleware on the ``/api/admin`` router; it resolves the
token to an ``ApiToken`` (``request.user``). Authorisation is a guard on the
same router: a ``viewer`` may only call reading routes (``GET``, or a handler
marked ``opt={"read_only": True}``); routes marked ``opt={"unbound_only":
True}`` need a token not bound to a customer. Customer scope itself is applied
in the queries (``Access``), so another customer's object is simply not found.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from psycopg_pool import ConnectionPool

from cronkeeper import db
from cronkeeper.clock import Clock
from cronkeeper.errors import AuthError, Forbidden, NotFound
from cronkeeper.tokens import ApiToken, authenticate, hash_secret

log = logging.getLogger("cronkeeper.api")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NOBODY = UUID(int=0)  # matches no customer (ids are random v4 UUIDs)


@dataclass(frozen=True)
class Access:
    """What a request may see: everything, or one customer's data."""

    token: ApiToken

    @property
    def customer_id(self) -> UUID | None:
        return self.token.customer_id

    def audit(self, event: str, **ids: Any) -> None:
        """Log a change with who made it: ``access.audit("job_deleted", job_id=...)``."""
        log.info(event, extra={"token_id": self.token.id, **{k: str(v) for k, v in ids.items()}})

    def filter(self, requested: UUID | None) -> UUID | None:
        """The customer a listing filters on; ``NOBODY`` when a bound token asks for another's."""
        if self.customer_id is None:
            return requested
        if requested is not None and requested != self.customer_id:
            return NOBODY
        return self.customer_id

    def owner(self, requested: UUID | None) -> UUID | None:
        """The customer a new object belongs to; another customer's is not found for a bound token."""
        if self.customer_id is None:
            return requested
        if requested is not None and requested != self.customer_id:
            raise NotFound("no such customer", field="customer_id")
        return self.customer_id


def _bearer(header: str | None) -> str:
    if not header:
        raise AuthError("missing bearer token (Authorization: Bearer <token>)")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    return secret.strip()


def _lookup(pool: ConnectionPool, clock: Clock, secret: str) -> ApiToken:
    with db.reading(pool) as conn:
        return authenticate(conn, secret, clock.now())


class TokenCache:
    """Tokens verified in the last ``ttl`` seconds, keyed by their secret's hash.

    A hit skips the database: no thread hop, query and commit per request (30 %
    of a one-row GET). The price is that a token revoked meanwhile is still
    accepted by this process for up to ``ttl`` seconds. Only successes are
    kept, so a new token works at once. ``cronkeeper api`` uses one with
    ``CRONKEEPER_API_TOKEN_CACHE_SECONDS`` (5); an app without one (tests,
    ``create_app`` as such) checks every request.
    """

    def __init__(self, ttl: float, *, max_size: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.max_size, self.clock = ttl, max_size, clock
        self._tokens: dict[str, tuple[float, ApiToken]] = {}

    def get(self, secret: str) -> ApiToken | None:
        hit = self._tokens.get(hash_secret(secret))
        if hit is None or hit[0] <= self.clock():
            return None
        return hit[1]

    def put(self, secret: str, token: ApiToken) -> None:
        now = self.clock()
        if len(self._tokens) >= self.max_size:
            self._tokens = {k: v for k, v in self._tokens.items() if v[0] > now}
            if len(self._tokens) >= self.max_size:
                self._tokens.clear()
        self._tokens[hash_secret(secret)] = (now + self.ttl, token)


class TokenAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        state = connection.app.state
        cache: TokenCache | None = state.get("token_cache")
        try:
            secret = _bearer(connection.headers.get("authorization"))
            token = cache.get(secret) if cache is not None else None
            if token is None:
                # the pool is synchronous: look the token up off the event loop
                token = await anyio.to_thread.run_sync(_lookup, state.pool, state.clock, secret)
                if cache is not None:
                    cache.put(secret, token)
        except AuthError as exc:
            log.info("auth_failed", extra={"path": connection.url.path, "reason": exc.message})
            raise
        return AuthenticationResult(user=token, auth=secret)


async def permission_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    # async on purpose: Litestar runs a sync guard in the thread pool, a thread hop per
    # request for a few dict lookups (~5 % of the API's CPU per request under load)
    token = connection.scope.get("user")
    if not isinstance(token, ApiToken):  # e.g. OPTIONS, which the middleware lets through
        raise AuthError("missing bearer token (Authorization: Bearer <token>)")
    if handler.opt.get("unbound_only") and token.customer_id is not None:
        raise Forbidden("this route needs a token that is not bound to a customer")
    reading = connection.scope.get("method") in READ_METHODS or handler.opt.get("read_only", False)
    if not reading and not token.can_write:
        raise Forbidden(f"the token's role ({token.role}) may only read")


def provide_access(request: Request[ApiToken, str, State]) -> Access:
    return Access(request.user)
