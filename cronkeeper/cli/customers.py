"""``cronkeeper customers list|show|create|rename|delete|quotas``."""

from __future__ import annotations

import argparse

from cronkeeper import customers, limits
from cronkeeper.cli.args import add_limit, leaf, uuid_arg, whole
from cronkeeper.cli.context import database, options_named
from cronkeeper.cli.output import emit
from cronkeeper.settings import Settings

COLUMNS = ("id", "name", "created_at")
OPTION_OF = {"name": "--name"}
QUOTA_OPTIONS = {name: "--" + name.replace("_", "-") for name in limits.LIMITS}


def customers_list(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        emit(args, customers.list_customers(conn, limit=args.limit), COLUMNS)
    return 0


def customers_show(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        emit(args, customers.get_customer(conn, args.id))
    return 0


def customers_create(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn, options_named(OPTION_OF):
        emit(args, customers.create_customer(conn, args.name))
    return 0


def customers_rename(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn, options_named(OPTION_OF):
        emit(args, customers.rename_customer(conn, args.id, args.name))
    return 0


def customers_delete(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        customers.delete_customer(conn, args.id)
    emit(args, {"deleted": str(args.id)})
    return 0


def _limit_or_default(text: str) -> int | None:
    """A quota: a whole number, or ``default`` to go back to the installation's default."""
    return None if text.strip().lower() == "default" else whole(0, limits.QUOTA_MAX)(text)


def customers_quotas(args: argparse.Namespace, settings: Settings) -> int:
    """Show the customer's quotas; with options, override those first."""
    given = {name: getattr(args, name) for name in limits.LIMITS if getattr(args, name) is not _KEEP}
    with database(settings, read_only=not given) as conn, options_named(QUOTA_OPTIONS):
        if given:
            quotas = customers.set_quotas(conn, args.id, given)
        else:
            quotas = customers.get_quotas(conn, args.id)
    if args.json:
        emit(args, quotas)
    else:
        rows = [{"quota": n, "limit": quotas["limits"][n],
                 "source": "customer" if quotas["overrides"][n] is not None else "default"} for n in limits.LIMITS]
        emit(args, rows, ("quota", "limit", "source"))  # fmt: skip
    return 0


_KEEP = object()


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("customers", help="customers").add_subparsers(dest="customers_command", required=True)
    add_limit(leaf(group, "list", customers_list, "customers by name"), 100)
    leaf(group, "create", customers_create, "create a customer").add_argument("--name", required=True)
    for name, func, help_ in (
        ("show", customers_show, "one customer"),
        ("delete", customers_delete, "delete the customer with its brands, jobs, runs and tokens"),
    ):  # fmt: skip
        leaf(group, name, func, help_).add_argument("id", metavar="CUSTOMER_ID", type=uuid_arg)
    rename = leaf(group, "rename", customers_rename, "give a customer a new name")
    rename.add_argument("id", metavar="CUSTOMER_ID", type=uuid_arg)
    rename.add_argument("--name", required=True)
    quotas = leaf(group, "quotas", customers_quotas,
                  "show a customer's quotas; with options, set them (N, or 'default')")  # fmt: skip
    quotas.add_argument("id", metavar="CUSTOMER_ID", type=uuid_arg)
    for name in limits.LIMITS:
        quotas.add_argument("--" + name.replace("_", "-"), dest=name, type=_limit_or_default, default=_KEEP,
                            metavar="N", help=f"{name}: a whole number, or 'default' ({limits.QUOTA_ENV[name]})")
