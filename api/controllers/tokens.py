"""``/api/admin/tokens``: list, create and revoke API tokens.

Only an admin token not bound to a customer may call these routes (a viewer, or
any customer-bound token, gets 403), since a token can make another with any
role and scope. A token may revoke itself: the request succeeds and the token is
refused from then on (by the API process that revoked it at once, by the others
within ``CRONKEEPER_API_TOKEN_CACHE_SECONDS``). The secret is in the ``201`` of its creation only.
"""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody

from cronkeeper import tokens
from cronkeeper.api.params import AccessDep, ClockDep, IntPath, PoolDep, errors, int_param
from cronkeeper.api.schemas.tokens import NewTokenOut, TokenIn, TokenList, TokenOut
from cronkeeper.errors import Forbidden
from cronkeeper.tokens import ApiToken


async def unbound_admin_only(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    # async on purpose, like the router's guard: no thread hop for an attribute check
    token = connection.scope.get("user")
    if not isinstance(token, ApiToken) or not token.can_write or token.customer_id is not None:
        raise Forbidden("only an admin token that is not bound to a customer may manage tokens")


class TokenController(Controller):
    path = "/tokens"
    tags = ["tokens"]
    guards = [unbound_admin_only]

    @get("/", operation_id="listTokens", responses=errors(401, 403), sync_to_thread=True)
    def list_tokens(self, pool: PoolDep, clock: ClockDep) -> TokenList:
        """Every token by id, revoked and expired ones included (`state` says which); never a secret."""
        now = clock.now()
        with pool.connection() as conn:
            found = tokens.list_tokens(conn)
        return TokenList(data=[TokenOut.of(t, now) for t in found])

    @post(
        "/", operation_id="createToken", status_code=201, responses=errors(400, 401, 403, 404, 413),
        sync_to_thread=True,
    )  # fmt: skip
    def create_token(self, data: JSONBody[TokenIn], pool: PoolDep, access: AccessDep, clock: ClockDep) -> NewTokenOut:
        """Make a token; the answer holds its `secret`, which is shown this once and never again."""
        now = clock.now()
        values = data.given()
        with pool.connection() as conn:
            made = tokens.create_token(conn, **values, now=now)
        access.audit("token_created", created_token_id=made.token.id)
        return NewTokenOut.made(made, now)

    @delete(
        "/{token_id:str}", operation_id="revokeToken", responses=errors(400, 401, 403, 404, 409),
        sync_to_thread=True,
    )  # fmt: skip
    def revoke_token(
        self, token_id: IntPath, pool: PoolDep, access: AccessDep, clock: ClockDep, state: State
    ) -> None:
        """Revoke a token at once (404 if there is none, 409 if it is revoked already)."""
        ident = int_param(token_id, "token_id")
        with pool.connection() as conn:
            tokens.revoke_token(conn, ident, clock.now())
        if (cache := state.get("token_cache")) is not None:
            cache.forget(ident)  # this process refuses it from now on; the others within their cache's TTL
        access.audit("token_revoked", revoked_token_id=ident)
