"""``cronkeeper api [--host H] [--port P]`` and ``cronkeeper token create|list|revoke``."""

from __future__ import annotations

import argparse
import os
import sys
from uuid import UUID

from cronkeeper.cli import prepared_dsn
from cronkeeper.errors import ValidationError
from cronkeeper.logs import setup_logging
from cronkeeper.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("api", help="serve the admin API (migrates first; Ctrl-C stops)")
    p.add_argument("--host", default=os.environ.get("CRONKEEPER_API_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CRONKEEPER_API_PORT", "8000")))
    p.set_defaults(func=serve)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    create = token.add_parser("create", help="make a token and print it (shown once)")
    create.add_argument("--name", required=True, help="what the token is for")
    create.add_argument("--role", choices=("admin", "viewer"), default="admin")
    create.add_argument("--customer", metavar="ID", help="bind the token to one customer's data")
    create.set_defaults(func=token_create)
    listing = token.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--active", action="store_true", help="leave out revoked tokens")
    listing.set_defaults(func=token_list)
    revoke = token.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=token_revoke)


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    if not 0 < args.port < 65536:
        raise ValidationError("--port must be between 1 and 65535", field="port")
    setup_logging("api", settings.log_level, settings.log_format)
    app = create_app(prepared_dsn(settings), settings, register_process=True)
    # log_config=None keeps our JSON logging; uvicorn handles SIGTERM/SIGINT itself
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    return 0


def _customer(value: str | None) -> UUID | None:
    if value is None:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise ValidationError(f"--customer must be a customer's UUID; got {value!r}", field="customer") from None


def token_create(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.db import connect
    from cronkeeper.tokens import create_token

    customer_id = _customer(args.customer)
    with connect(prepared_dsn(settings), autocommit=True) as conn:
        made = create_token(conn, name=args.name, role=args.role, customer_id=customer_id)
    scope = f"customer {customer_id}" if customer_id else "all customers"
    print(f"token {made.token.id} ({made.token.role}, {scope}); it is shown only this once:", file=sys.stderr)
    print(made.secret)
    return 0


def _when(value) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def token_list(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.db import connect
    from cronkeeper.tokens import list_tokens

    with connect(prepared_dsn(settings), autocommit=True) as conn:
        tokens = list_tokens(conn, include_revoked=not args.active)
    print(f"{'ID':>4}  {'NAME':<24} {'ROLE':<7} {'CUSTOMER':<36} {'CREATED':<25} {'LAST USED':<25} REVOKED")
    for t in tokens:
        print(
            f"{t.id:>4}  {t.name[:24]:<24} {t.role:<7} {str(t.customer_id or '-'):<36} "
            f"{_when(t.created_at):<25} {_when(t.last_used_at):<25} {_when(t.revoked_at)}"
        )
    return 0


def token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.clock import utcnow
    from cronkeeper.db import connect
    from cronkeeper.tokens import revoke_token

    with connect(prepared_dsn(settings), autocommit=True) as conn:
        token = revoke_token(conn, args.id, utcnow())
    print(f"revoked token {token.id} ({token.name})")
    return 0
