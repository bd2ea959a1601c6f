"""Bearer tokens: who is calling (401 when unknown) and what they may do (403).

Authentication is a middleware on the ``/api/admin`` router; it resolves the
token to an ``ApiToken`` (``request.user``). Authorisation is a guard on the
same router: a ``viewer`` may only call reading routes (``GET``, or a handler
marked ``opt={"read_only": True}``); routes marked ``opt={"unbound_only":
True}`` need a token not bound to a customer. Customer scope itself is applied
in the queries (``Access``), so another customer's object is simply not found.
Both also apply this process's limits (``api.limits``): 429 for an address that
sent too many wrong tokens, and for a token writing too fast.
"""

from __future__ import annotations

import datetime as dt
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

from cronkeeper import audit, db
from cronkeeper.api.limits import Limits
from cronkeeper.clock import Clock
from cronkeeper.errors import AuthError, Forbidden, NotFound, RateLimited
from cronkeeper.tokens import ApiToken, authenticate, hash_secret

log = logging.getLogger("cronkeeper.api")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A LogRecord's own attributes: an ``extra`` key among them raises KeyError inside logging.
_RESERVED = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {"message", "asctime"}
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
        fields = {(f"audit_{k}" if k in _RESERVED else k): str(v) for k, v in ids.items()}
        log.info(event, extra={"token_id": self.token.id, **fields})

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
    of a one-row GET). The price is that a token revoked by another process (another
    API process, the CLI) is still accepted by this one for up to ``ttl`` seconds;
    one revoked through this process is forgotten at once (``forget``), and an
    expired one is never served (``get`` compares its ``expires_at`` with the app's clock). Only successes
    are kept, so a new token works at once. ``cronkeeper api`` uses one with
    ``CRONKEEPER_API_TOKEN_CACHE_SECONDS`` (5); an app without one (tests,
    ``create_app`` as such) checks every request.
    """

    def __init__(self, ttl: float, *, max_size: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.max_size, self.clock = ttl, max_size, clock
        self._tokens: dict[str, tuple[float, ApiToken]] = {}

    def get(self, secret: str, now: dt.datetime | None = None) -> ApiToken | None:
        """The cached token, unless its entry is stale or the token has expired at ``now``
        (expiry is never cached past: the lookup then refuses it)."""
        key = hash_secret(secret)
        hit = self._tokens.get(key)
        if hit is None or hit[0] <= self.clock():
            return None
        if now is not None and hit[1].expired(now):
            self._tokens.pop(key, None)
            return None
        return hit[1]

    def forget(self, token_id: int) -> None:
        """Drop a token revoked through this process: refused here from the next request on."""
        self._tokens = {k: v for k, v in self._tokens.items() if v[1].id != token_id}

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
        guard: Limits | None = state.get("limits")
        address = connection.client.host if connection.client else "unknown"
        secret = None
        try:
            secret = _bearer(connection.headers.get("authorization"))
            token = cache.get(secret, state.clock.now()) if cache is not None else None
            if token is None:
                if guard is not None and (wait := guard.auth.blocked_for(address)) is not None:
                    # no lookup, no log line: the block itself was logged when it started
                    raise RateLimited(f"too many wrong tokens from {address}; try again in {wait} s", retry_after=wait)
                # the pool is synchronous: look the token up off the event loop
                token = await anyio.to_thread.run_sync(_lookup, state.pool, state.clock, secret)
                if cache is not None:
                    cache.put(secret, token)
        except AuthError as exc:
            _auth_failed(guard, address, connection.url.path, exc.message, wrong_token=secret is not None)
            raise
        # the changes this request makes are recorded as this token's (cronkeeper/audit.py)
        audit.set_actor(audit.Actor(token.name, token.id))
        return AuthenticationResult(user=token, auth=secret)


def _auth_failed(guard: Limits | None, address: str, path: str, reason: str, *, wrong_token: bool) -> None:
    """Log a failed authentication once per address and window (``limits.AuthFailures``), and a block as it starts."""
    if guard is None:
        log.info("auth_failed", extra={"path": path, "reason": reason, "client": address})
        return
    outcome = guard.auth.record(address, wrong_token=wrong_token)
    if outcome == "first":
        log.info("auth_failed", extra={"path": path, "reason": reason, "client": address})
    elif outcome == "blocked":
        log.warning("auth_blocked", extra={
            "client": address, "seconds": guard.config.auth_block_seconds, "failures": guard.config.auth_failures,
        })  # fmt: skip


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
    guard: Limits | None = connection.app.state.get("limits")
    if not reading and guard is not None and (wait := guard.writes.take(token.id)) is not None:
        raise RateLimited(
            f"this token made more than {guard.config.write_rate} writes a minute on this API process; "
            f"try again in {wait} s",
            retry_after=wait,
        )


def provide_access(request: Request[ApiToken, str, State]) -> Access:
    return Access(request.user)
