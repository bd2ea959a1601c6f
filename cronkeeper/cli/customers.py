"""``cronkeeper customers list|show|create|rename|delete``."""

from __future__ import annotations

import argparse

from cronkeeper import customers
from cronkeeper.cli.args import add_limit, leaf, uuid_arg
from cronkeeper.cli.context import database, options_named
from cronkeeper.cli.output import emit
from cronkeeper.settings import Settings

COLUMNS = ("id", "name", "created_at")
OPTION_OF = {"name": "--name"}


def customers_list(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        emit(args, customers.list_customers(conn, limit=args.limit), COLUMNS)
    return 0


def customers_show(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
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
