"""``cronkeeper tokens create|list|revoke`` (``cronkeeper token ...`` also works)."""

from __future__ import annotations

import argparse
import os
import sys

from cronkeeper import tokens
from cronkeeper.cli.args import leaf, uuid_arg, whole
from cronkeeper.cli.context import database, now, options_named
from cronkeeper.cli.output import emit
from cronkeeper.settings import Settings

COLUMNS = ("id", "name", "role", "customer_id", "created_at", "last_used_at", "revoked_at")
OPTION_OF = {"name": "--name", "role": "--role", "customer_id": "--customer"}


def tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    """The secret alone on stdout (for scripts), what it is on stderr."""
    with database(settings) as conn, options_named(OPTION_OF):
        made = tokens.create_token(conn, name=args.name, role=args.role, customer_id=args.customer)
    scope = f"customer {args.customer}" if args.customer else "all customers"
    print(f"token {made.token.id} ({made.token.role}, {scope}); it is shown only this once:", file=sys.stderr)
    print(made.secret)
    return 0


def tokens_list(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        found = tokens.list_tokens(conn, include_revoked=not args.active)
    emit(args, found, COLUMNS)
    return 0


def tokens_revoke(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        token = tokens.revoke_token(conn, args.id, now())
    ttl = tokens.cache_seconds(os.environ)
    within = f"; running API processes refuse it within {ttl:g} s" if ttl else ""
    print(f"revoked token {token.id} ({token.name}){within}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("tokens", aliases=["token"], help="API tokens").add_subparsers(
        dest="tokens_command", required=True
    )
    create = group.add_parser("create", help="make a token and print it (shown once)")
    create.add_argument("--name", required=True, help="what the token is for")
    create.add_argument("--role", choices=[str(r) for r in tokens.Role], default="admin")
    create.add_argument("--customer", metavar="ID", type=uuid_arg, help="bind the token to one customer's data")
    create.set_defaults(func=tokens_create)
    listing = leaf(group, "list", tokens_list, "list tokens (never their secrets)")
    listing.add_argument("--active", action="store_true", help="leave out revoked tokens")
    revoke = group.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("id", metavar="TOKEN_ID", type=whole(1))
    revoke.set_defaults(func=tokens_revoke)
