"""``cronkeeper calendars list|show|create|import|add-date|remove|delete``: a customer's
calendars, the dates on which the jobs that use one do not run (``cronkeeper/calendars.py``)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from cronkeeper import calendars
from cronkeeper.cli.args import leaf, uuid_arg
from cronkeeper.cli.context import database, now, options_named
from cronkeeper.cli.output import emit
from cronkeeper.errors import ValidationError
from cronkeeper.settings import Settings

COLUMNS = ("id", "customer_id", "name", "business_days_only", "date_count")
OPTION_OF = {
    "customer_id": "--customer", "name": "--name", "dates": "DATE", "date": "DATE", "ics": "FILE",
    "calendar_id": "--calendar", "label": "--label",
}  # fmt: skip


def _record(calendar: calendars.Calendar, dates: list[calendars.CalendarDate] | None = None) -> dict[str, Any]:
    out = dataclasses.asdict(calendar)
    if dates is not None:
        out["dates"] = [{"date": d.day.isoformat(), "label": d.label} for d in dates]
    return out


def calendars_list(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        emit(args, [_record(c) for c in calendars.list_calendars(conn, customer_id=args.customer)], COLUMNS)
    return 0


def calendars_show(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        emit(args, _record(calendars.get_calendar(conn, args.id), calendars.calendar_dates(conn, args.id)))
    return 0


def calendars_create(args: argparse.Namespace, settings: Settings) -> int:
    values = {"customer_id": args.customer, "name": args.name, "business_days_only": args.business_days_only,
              "dates": args.date or []}  # fmt: skip
    with database(settings) as conn, options_named({**OPTION_OF, "dates": "--date"}):
        calendar = calendars.create_calendar(conn, values)
        emit(args, _record(calendar, calendars.calendar_dates(conn, calendar.id)))
    return 0


def calendars_import(args: argparse.Namespace, settings: Settings) -> int:
    """Add an .ics file's dates to --calendar, or to a new calendar --name of --customer."""
    if args.calendar is None and (args.customer is None or args.name is None):
        raise ValidationError("give --calendar ID, or --customer and --name for a new calendar", field="calendar_id")
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"FILE: cannot read {args.file}: {exc}", field="ics") from exc
    values = {"customer_id": args.customer, "name": args.name, "business_days_only": args.business_days_only}
    with database(settings) as conn, options_named(OPTION_OF):
        result = calendars.import_ics(conn, text, now().date(), calendar_id=args.calendar, values=values)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    emit(args, result.to_json())
    return 0


def calendars_add_date(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn, options_named(OPTION_OF):
        added = calendars.add_dates(conn, args.id, args.dates, args.label)
        emit(args, {**_record(calendars.get_calendar(conn, args.id)), "added": added})
    return 0


def calendars_remove(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn, options_named(OPTION_OF):
        calendars.remove_date(conn, args.id, args.date)
        emit(args, _record(calendars.get_calendar(conn, args.id)))
    return 0


def calendars_delete(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        calendars.delete_calendar(conn, args.id)
    emit(args, {"deleted": str(args.id)})
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("calendars", help="calendars: dates on which jobs do not run").add_subparsers(
        dest="calendars_command", required=True)  # fmt: skip
    leaf(group, "list", calendars_list, "calendars by customer and name").add_argument("--customer", type=uuid_arg)
    for name, func, help_ in (("show", calendars_show, "one calendar with its dates"),
                              ("delete", calendars_delete, "delete a calendar no job uses")):  # fmt: skip
        leaf(group, name, func, help_).add_argument("id", metavar="CALENDAR_ID", type=uuid_arg)
    p = leaf(group, "create", calendars_create, "a new calendar of a customer")
    p.add_argument("--customer", metavar="CUSTOMER_ID", type=uuid_arg, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--business-days-only", action="store_true", help="also skip Saturdays and Sundays")
    p.add_argument("--date", metavar="YYYY-MM-DD", action="append", help="a date to exclude (repeatable)")
    p = leaf(group, "import", calendars_import, "add the dates of an .ics file ('-': stdin)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--calendar", metavar="CALENDAR_ID", type=uuid_arg, help="add to this calendar")
    p.add_argument("--customer", metavar="CUSTOMER_ID", type=uuid_arg, help="for a new calendar")
    p.add_argument("--name", help="the new calendar's name")
    p.add_argument("--business-days-only", action="store_true", help="the new calendar also skips weekends")
    p = leaf(group, "add-date", calendars_add_date, "exclude more dates")
    p.add_argument("id", metavar="CALENDAR_ID", type=uuid_arg)
    p.add_argument("dates", metavar="DATE", nargs="+", help="YYYY-MM-DD")
    p.add_argument("--label", help="what the dates are (e.g. the holiday's name)")
    p = leaf(group, "remove", calendars_remove, "stop excluding a date")
    p.add_argument("id", metavar="CALENDAR_ID", type=uuid_arg)
    p.add_argument("date", metavar="DATE", help="YYYY-MM-DD")
