"""``cronkeeper audit list``: the audit trail, newest first (README "Audit trail")."""

from __future__ import annotations

import argparse
import datetime as dt

from cronkeeper import audit
from cronkeeper.cli.args import add_limit, iso_time, leaf, uuid_arg
from cronkeeper.cli.context import database
from cronkeeper.cli.output import emit
from cronkeeper.settings import Settings

COLUMNS = ("id", "at", "actor", "action", "resource_type", "resource_id", "changes")


def _utc(when: dt.datetime | None) -> dt.datetime | None:
    """``--since`` without an offset is read as UTC."""
    return when.replace(tzinfo=dt.UTC) if when is not None and when.tzinfo is None else when


def audit_list(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        found = audit.list_events(
            conn, job_id=args.job, customer_id=args.customer, resource_type=args.resource_type,
            resource_id=args.resource_id, since=_utc(args.since), limit=args.limit,
        )  # fmt: skip
    if args.json:
        emit(args, [e.to_json() for e in found])
        return 0
    rows = [{"id": e.id, "at": e.at, "actor": e.token_name, "action": e.action, "resource_type": e.resource_type,
             "resource_id": e.resource_id, "changes": audit.summary(e.changes)} for e in found]  # fmt: skip
    emit(args, rows, COLUMNS)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("audit", help="who changed what").add_subparsers(dest="audit_command", required=True)
    listing = leaf(group, "list", audit_list, "list audit events, newest first")
    listing.add_argument("--job", metavar="ID", type=uuid_arg, help="a job's events and its runs'")
    listing.add_argument("--customer", metavar="ID", type=uuid_arg, help="one customer's events")
    listing.add_argument("--resource-type", choices=audit.RESOURCE_TYPES, help="one kind of object")
    listing.add_argument("--resource-id", metavar="ID", help="one object (with --resource-type)")
    listing.add_argument("--since", metavar="ISO_TIME", type=iso_time, help="events at or after this instant")
    add_limit(listing, 50)
