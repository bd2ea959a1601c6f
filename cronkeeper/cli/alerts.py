"""``cronkeeper alerts list|ack`` and ``cronkeeper alerts channels list|add|remove`` (docs/alerts.md)."""

from __future__ import annotations

import argparse

from cronkeeper import alerts
from cronkeeper.cli.args import add_limit, leaf, uuid_arg, whole
from cronkeeper.cli.context import database, now, options_named
from cronkeeper.cli.output import emit
from cronkeeper.settings import Settings

COLUMNS = ("id", "kind", "status", "job", "count", "opened_at", "last_seen_at", "acked_by", "message")
CHANNEL_COLUMNS = ("id", "customer_id", "kind", "target", "secret_name", "enabled")
_OPTIONS = {"kind": "--kind", "status": "--status", "target": "--target", "secret_name": "--secret-name"}


def _row(a: dict) -> dict:
    return {"id": a["id"], "kind": a["kind"], "status": "open" if a["resolved_at"] is None else "resolved",
            "job": a["job_name"] or str(a["scheduled_job_id"]), "count": a["count"], "opened_at": a["opened_at"],
            "last_seen_at": a["last_seen_at"], "acked_by": a["acked_by"], "message": a["message"],
            "scheduled_job_id": a["scheduled_job_id"], "customer_id": a["customer_id"], "run_id": a["run_id"],
            "resolved_at": a["resolved_at"], "acked_at": a["acked_at"]}  # fmt: skip


def alerts_list(args: argparse.Namespace, settings: Settings) -> int:
    with options_named(_OPTIONS), database(settings, read_only=True) as conn:
        found = alerts.list_alerts(conn, customer_id=args.customer, job_id=args.job, kind=args.kind,
                                   status=args.status, limit=args.limit)  # fmt: skip
    emit(args, [_row(a) for a in found], None if args.json else COLUMNS)
    return 0


def alerts_ack(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        emit(args, _row(alerts.ack(conn, args.alert_id, now())))
    return 0


def channels_list(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        emit(args, alerts.list_channels(conn), None if args.json else CHANNEL_COLUMNS)
    return 0


def channels_add(args: argparse.Namespace, settings: Settings) -> int:
    values = {"kind": args.kind, "target": args.target, "customer_id": args.customer, "secret_name": args.secret_name}
    with options_named(_OPTIONS), database(settings) as conn:
        emit(args, alerts.create_channel(conn, values))
    return 0


def channels_remove(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        alerts.delete_channel(conn, args.channel_id)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("alerts", help="late, missed, failing and slow jobs").add_subparsers(
        dest="alerts_command", required=True)  # fmt: skip
    listing = leaf(group, "list", alerts_list, "list alerts, newest first")
    listing.add_argument("--status", choices=alerts.STATUSES, help="open or resolved")
    listing.add_argument("--kind", choices=alerts.KINDS, help="one kind of alert")
    listing.add_argument("--job", metavar="ID", type=uuid_arg, help="one job's alerts")
    listing.add_argument("--customer", metavar="ID", type=uuid_arg, help="one customer's alerts")
    add_limit(listing, 50)
    ack = leaf(group, "ack", alerts_ack, "acknowledge an alert (recorded as yours)")
    ack.add_argument("alert_id", type=whole(1), help="the alert's id")
    channels = group.add_parser("channels", help="where alerts are sent").add_subparsers(
        dest="channels_command", required=True)  # fmt: skip
    leaf(channels, "list", channels_list, "list alert channels")
    add = leaf(channels, "add", channels_add, "add a webhook or email channel")
    add.add_argument("--kind", choices=alerts.CHANNEL_KINDS, required=True)
    add.add_argument("--target", required=True, help="the webhook's URL or the email address")
    add.add_argument("--customer", metavar="ID", type=uuid_arg, help="that customer's alerts (default: everyone's)")
    add.add_argument("--secret-name", help="a signing secret named in CRONKEEPER_WEBHOOK_SECRETS (webhooks)")
    remove = leaf(channels, "remove", channels_remove, "delete an alert channel")
    remove.add_argument("channel_id", type=whole(1), help="the channel's id")
