"""``cronkeeper brands list|show|create|update|delete`` and ``brands queries list|add|update|remove``."""

from __future__ import annotations

import argparse

from cronkeeper import brands
from cronkeeper.cli.args import add_limit, leaf, names, uuid_arg, whole
from cronkeeper.cli.context import database, options_named
from cronkeeper.cli.output import emit
from cronkeeper.errors import ValidationError
from cronkeeper.settings import Settings

COLUMNS = ("id", "customer_id", "name", "aliases", "competitors")
QUERY_COLUMNS = ("id", "brand_id", "text", "is_active", "updated_at")
OPTION_OF = {
    "name": "--name", "customer_id": "--customer", "aliases": "--aliases", "competitors": "--competitors",
    "text": "--text",
}  # fmt: skip


def brands_list(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        found = brands.list_brands(conn, customer_id=args.customer, search=args.search, limit=args.limit)
    emit(args, found, COLUMNS)
    return 0


def brands_show(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        emit(args, brands.get_brand(conn, args.id))
    return 0


def brands_create(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn, options_named(OPTION_OF):
        brand = brands.create_brand(conn, args.customer, args.name, args.aliases, args.competitors)
    emit(args, brand)
    return 0


def brands_update(args: argparse.Namespace, settings: Settings) -> int:
    given = {"name": args.name, "aliases": args.aliases, "competitors": args.competitors}
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise ValidationError("nothing to change: give --name, --aliases or --competitors")
    with database(settings) as conn, options_named(OPTION_OF):
        brand = brands.update_brand(conn, args.id, changes)
    emit(args, brand)
    return 0


def brands_delete(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        brands.delete_brand(conn, args.id)
    emit(args, {"deleted": str(args.id)})
    return 0


def queries_list(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        found = brands.list_queries(conn, args.brand_id, active_only=args.active_only)
    emit(args, found, QUERY_COLUMNS)
    return 0


def queries_add(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn, options_named(OPTION_OF):
        query = brands.add_query(conn, args.brand_id, args.text, not args.paused)
    emit(args, query)
    return 0


def queries_update(args: argparse.Namespace, settings: Settings) -> int:
    changes = {} if args.text is None else {"text": args.text}
    if args.active is not None:
        changes["is_active"] = args.active
    if not changes:
        raise ValidationError("nothing to change: give --text, --active or --paused")
    with database(settings) as conn, options_named(OPTION_OF):
        query = brands.update_query(conn, args.brand_id, args.query_id, changes)
    emit(args, query)
    return 0


def queries_remove(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        brands.remove_query(conn, args.brand_id, args.query_id)
    emit(args, {"deleted": args.query_id, "brand_id": str(args.brand_id)})
    return 0


def _register_queries(group: argparse._SubParsersAction) -> None:
    queries = group.add_parser("queries", help="the questions a brand's collection jobs ask").add_subparsers(
        dest="queries_command", required=True
    )
    p = leaf(queries, "list", queries_list, "a brand's queries")
    p.add_argument("brand_id", metavar="BRAND_ID", type=uuid_arg)
    p.add_argument("--active-only", action="store_true", help="leave out paused queries")
    p = leaf(queries, "add", queries_add, "add a query to a brand")
    p.add_argument("brand_id", metavar="BRAND_ID", type=uuid_arg)
    p.add_argument("--text", required=True, help="the question, as a user would ask it")
    p.add_argument("--paused", action="store_true", help="add it paused (collection jobs skip it)")
    update = leaf(queries, "update", queries_update, "change a query's text or state")
    remove = leaf(queries, "remove", queries_remove, "remove a query")
    for p in (update, remove):
        p.add_argument("brand_id", metavar="BRAND_ID", type=uuid_arg)
        p.add_argument("query_id", metavar="QUERY_ID", type=whole(1))
    update.add_argument("--text")
    state = update.add_mutually_exclusive_group()
    state.add_argument("--active", dest="active", action="store_const", const=True, default=None)
    state.add_argument("--paused", dest="active", action="store_const", const=False)

def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("brands", help="brands and their queries").add_subparsers(
        dest="brands_command", required=True
    )
    p = leaf(group, "list", brands_list, "brands by name")
    p.add_argument("--customer", type=uuid_arg)
    p.add_argument("--search", help="part of the name")
    add_limit(p, 100)
    for name, func, help_ in (
        ("show", brands_show, "one brand"),
        ("delete", brands_delete, "delete the brand with its queries, jobs and runs"),
    ):  # fmt: skip
        leaf(group, name, func, help_).add_argument("id", metavar="BRAND_ID", type=uuid_arg)
    create = leaf(group, "create", brands_create, "create a brand")
    create.add_argument("--customer", required=True, type=uuid_arg)
    create.add_argument("--name", required=True)
    update = leaf(group, "update", brands_update, "change the fields given")
    update.add_argument("id", metavar="BRAND_ID", type=uuid_arg)
    update.add_argument("--name")
    for p in (create, update):
        p.add_argument("--aliases", type=names, help="comma-separated ('' clears them)")
        p.add_argument("--competitors", type=names, help="comma-separated ('' clears them)")
    _register_queries(group)
