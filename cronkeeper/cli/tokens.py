"""``cronkeeper tokens create|list|revoke`` (``cronkeeper token ...`` also works).

``create --expires-in-days N`` or ``--expires-at ISO_TIME`` (no offset: UTC) makes
a token that is refused from then on; ``list`` shows each one's expiry and state
(active, revoked or expired)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import sys

from cronkeeper import tokens
from cronkeeper.cli.args import iso_time, leaf, uuid_arg, whole
from cronkeeper.cli.context import database, now, options_named
from cronkeeper.cli.output import emit
from cronkeeper.settings import Settings

COLUMNS = ("id", "name", "role", "customer_id", "created_at", "last_used_at", "revoked_at", "expires_at", "state")
OPTION_OF = {
    "name": "--name", "role": "--role", "customer_id": "--customer",
    "expires_at": "--expires-at", "expires_in_days": "--expires-in-days",
}  # fmt: skip


def _utc(when: dt.datetime | None) -> dt.datetime | None:
    """``--expires-at`` without an offset is read as UTC."""
    return when.replace(tzinfo=dt.UTC) if when is not None and when.tzinfo is None else when


def tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    """The secret alone on stdout (for scripts), what it is on stderr."""
    with database(settings) as conn, options_named(OPTION_OF):
        made = tokens.create_token(
            conn, name=args.name, role=args.role, customer_id=args.customer,
            expires_at=_utc(args.expires_at), expires_in_days=args.expires_in_days, now=now(),
        )  # fmt: skip
    scope = f"customer {args.customer}" if args.customer else "all customers"
    ends = made.token.expires_at
    until = f", expires {ends.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC" if ends else ""
    print(f"token {made.token.id} ({made.token.role}, {scope}{until}); it is shown only this once:", file=sys.stderr)
    print(made.secret)
    return 0


def tokens_list(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        at = now()
        found = tokens.list_tokens(conn, active_at=at if args.active else None)
    emit(args, [{**dataclasses.asdict(t), "state": str(t.state(at))} for t in found], COLUMNS)
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
    ends = create.add_mutually_exclusive_group()
    ends.add_argument("--expires-in-days", metavar="N", type=whole(1, tokens.MAX_EXPIRY_DAYS),
                      help="refuse the token N days from now (default: it never expires)")  # fmt: skip
    ends.add_argument("--expires-at", metavar="ISO_TIME", type=iso_time,
                      help="refuse the token from this instant (no offset: UTC)")  # fmt: skip
    create.set_defaults(func=tokens_create)
    listing = leaf(group, "list", tokens_list, "list tokens (never their secrets)")
    listing.add_argument("--active", action="store_true", help="leave out revoked and expired tokens")
    revoke = group.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("id", metavar="TOKEN_ID", type=whole(1))
    revoke.set_defaults(func=tokens_revoke)
