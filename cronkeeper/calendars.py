"""Named calendars of a customer: dates on which its jobs do not run, and "business days only".

The one implementation the API, the CLI and the Python API call. Each function
takes a connection; ``customer_id=`` (keyword) limits it to one customer's
calendars (an API token bound to a customer), ``None`` sees all. Every change
(create, rename, dates added or removed, import, delete) writes its audit event
in its transaction (``cronkeeper.calendar_audit``). A job uses a
calendar through its ``calendar_id`` (always one of the job's customer's); the
scheduler's tick loads the calendars of its due jobs in one query
(``calendar_rules``) and skips the slots they exclude (``schedule/bounds.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import calendar_audit, fields
from cronkeeper.errors import NotFound, ValidationError
from cronkeeper.ics import parse_ics
from cronkeeper.models import DueJob, ScheduledJob
from cronkeeper.repo import calendars as repo
from cronkeeper.repo import customers as customers_repo
from cronkeeper.repo.calendars import Calendar, CalendarDate
from cronkeeper.schedule.bounds import CalendarRule

__all__ = ["Calendar", "CalendarDate", "ImportResult"]
MAX_DATES_AT_ONCE = 5000
IMPORT_YEARS = 5  # yearly rules of an .ics are expanded this many years past today


@dataclass(frozen=True)
class ImportResult:
    """What an ``.ics`` import did: the calendar, the dates added (new ones), those already
    there, the events read, and what the file held that was not understood."""

    calendar: Calendar
    added: int
    already: int
    events: int
    warnings: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"calendar_id": str(self.calendar.id), "name": self.calendar.name, "added": self.added,
                "already": self.already, "events": self.events, "warnings": list(self.warnings)}  # fmt: skip


def day(value: Any, field: str = "date") -> dt.date:
    """A calendar date, from a ``date`` or ``YYYY-MM-DD`` text."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        fields.refuse(field, f"must be a date (YYYY-MM-DD); got {str(value)[:40]!r}")


def _customer(conn: psycopg.Connection, given: Any, scope: UUID | None) -> UUID:
    if given is None and scope is None:
        fields.refuse("customer_id", "is required")
    ident = fields.uuid(given if given is not None else scope, "customer_id")
    if (scope is not None and ident != scope) or customers_repo.get_customer(conn, ident) is None:
        raise NotFound(f"no customer {ident}", field="customer_id")
    return ident


def create_calendar(
    conn: psycopg.Connection, values: dict[str, Any], *, customer_id: UUID | None = None
) -> Calendar:
    """A new calendar (``customer_id``, ``name``, ``business_days_only``, optional ``dates``);
    a name already used by the customer is a ``Conflict`` naming ``name``."""
    name = fields.text(values.get("name"), "name")
    weekdays = fields.boolean(values.get("business_days_only", False), "business_days_only")
    days = sorted({day(d, "dates") for d in values.get("dates") or ()})
    with conn.transaction():
        owner = _customer(conn, values.get("customer_id"), customer_id)
        calendar = repo.insert_calendar(conn, owner, name, weekdays)
        if days:
            repo.add_dates(conn, calendar.id, days, [None] * len(days))
        calendar_audit.created(conn, calendar, days)
    return get_calendar(conn, calendar.id)


def get_calendar(conn: psycopg.Connection, calendar_id: UUID, *, customer_id: UUID | None = None) -> Calendar:
    found = repo.get_calendar(conn, fields.uuid(calendar_id, "calendar_id"), customer_id=customer_id)
    return NotFound.unless(found, f"no calendar {calendar_id}")


def list_calendars(conn: psycopg.Connection, *, customer_id: UUID | None = None) -> list[Calendar]:
    """Calendars by customer, then name (at most 500)."""
    return repo.list_calendars(conn, customer_id=customer_id)


def calendar_dates(conn: psycopg.Connection, calendar_id: UUID, *, customer_id: UUID | None = None) -> list[CalendarDate]:
    """The calendar's excluded dates, oldest first."""
    calendar = get_calendar(conn, calendar_id, customer_id=customer_id)
    return repo.list_dates(conn, calendar.id)


def update_calendar(
    conn: psycopg.Connection, calendar_id: UUID, changes: dict[str, Any], *, customer_id: UUID | None = None
) -> Calendar:
    """Rename it or change ``business_days_only``; other keys are refused naming them."""
    unknown = sorted(set(changes) - {"name", "business_days_only"})
    if unknown:
        fields.refuse(unknown[0], "cannot be changed")
    with conn.transaction():
        current = repo.get_calendar(conn, calendar_id, customer_id=customer_id, for_update=True)
        current = NotFound.unless(current, f"no calendar {calendar_id}")
        name = fields.text(changes.get("name", current.name), "name")
        weekdays = fields.boolean(changes.get("business_days_only", current.business_days_only), "business_days_only")
        updated = repo.update_calendar(conn, current.id, name, weekdays)
        calendar_audit.updated(conn, current, updated)
        return updated


def delete_calendar(conn: psycopg.Connection, calendar_id: UUID, *, customer_id: UUID | None = None) -> None:
    """Delete it and its dates; a ``Conflict`` while a job uses it."""
    with conn.transaction():
        calendar = repo.get_calendar(conn, fields.uuid(calendar_id, "calendar_id"), customer_id=customer_id)
        if calendar is None or not repo.delete_calendar(conn, calendar.id, customer_id=customer_id):
            raise NotFound(f"no calendar {calendar_id}")
        calendar_audit.deleted(conn, calendar)


def add_dates(
    conn: psycopg.Connection,
    calendar_id: UUID,
    days: Iterable[Any],
    label: str | None = None,
    *,
    customer_id: UUID | None = None,
) -> int:
    """Exclude these dates too (``YYYY-MM-DD`` or ``date``); returns how many were new."""
    parsed = sorted({day(d, "dates") for d in days})
    if not parsed:
        fields.refuse("dates", "must name at least one date")
    if len(parsed) > MAX_DATES_AT_ONCE:
        fields.refuse("dates", f"must hold at most {MAX_DATES_AT_ONCE} dates")
    label = fields.optional_text(label, "label")
    with conn.transaction():
        calendar = get_calendar(conn, calendar_id, customer_id=customer_id)
        added = repo.add_dates(conn, calendar.id, parsed, [label] * len(parsed))
        if added or label is not None:  # else nothing changed
            calendar_audit.dates_added(conn, calendar, parsed, added, label=label)
        return added


def remove_date(conn: psycopg.Connection, calendar_id: UUID, date: Any, *, customer_id: UUID | None = None) -> None:
    """Stop excluding ``date``; ``NotFound`` naming ``date`` when the calendar does not list it."""
    when = day(date)
    with conn.transaction():
        calendar = get_calendar(conn, calendar_id, customer_id=customer_id)
        if not repo.remove_date(conn, calendar.id, when):
            raise NotFound(f"calendar {calendar.name} does not exclude {when}", field="date")
        calendar_audit.date_removed(conn, calendar, when)


def import_ics(
    conn: psycopg.Connection,
    text: str,
    today: dt.date,
    *,
    calendar_id: UUID | None = None,
    values: dict[str, Any] | None = None,
    customer_id: UUID | None = None,
) -> ImportResult:
    """Add the dates of an ``.ics`` file (``cronkeeper.ics``) to the calendar ``calendar_id``, or
    to a new one made from ``values`` (as ``create_calendar``), in one transaction: a file with
    a bad date adds nothing. Yearly rules are expanded ``IMPORT_YEARS`` years past ``today``."""
    if not isinstance(text, str) or not text.strip():
        fields.refuse("ics", "must be the text of an .ics file")
    parsed = parse_ics(text, until=today.replace(year=today.year + IMPORT_YEARS))
    if not parsed.dates:
        fields.refuse("ics", f"holds no dates ({parsed.events} events read)")
    with conn.transaction():
        if calendar_id is not None:
            calendar = get_calendar(conn, calendar_id, customer_id=customer_id)
        else:
            calendar = create_calendar(conn, values or {}, customer_id=customer_id)
        added = repo.add_dates(conn, calendar.id, list(parsed.dates), list(parsed.dates.values()))
        calendar = get_calendar(conn, calendar.id)
        calendar_audit.dates_added(conn, calendar, list(parsed.dates), added, action="import", events=parsed.events)
    return ImportResult(calendar, added, len(parsed.dates) - added, parsed.events, parsed.warnings)


def calendar_rules(conn: psycopg.Connection, jobs: Sequence[ScheduledJob | DueJob]) -> dict[UUID, CalendarRule]:
    """The calendars the ``jobs`` use, by id, each with all its dates: one query for all."""
    ids = list({j.calendar_id for j in jobs if j.calendar_id is not None})
    rows = repo.calendar_rules(conn, ids)
    return {r["id"]: CalendarRule(r["name"], r["business_days_only"], frozenset(r["days"])) for r in rows}


def rule_for(conn: psycopg.Connection, calendar_id: Any, *, customer_id: UUID | None = None) -> CalendarRule:
    """One calendar as the scheduler applies it (for previews); ``NotFound`` naming ``calendar_id``."""
    calendar = repo.get_calendar(conn, fields.uuid(calendar_id, "calendar_id"), customer_id=customer_id)
    if calendar is None:
        raise NotFound(f"no calendar {calendar_id}", field="calendar_id")
    days = frozenset(d.day for d in repo.list_dates(conn, calendar.id))
    return CalendarRule(calendar.name, calendar.business_days_only, days)


def check_job_calendar(conn: psycopg.Connection, calendar_id: Any, job_customer: UUID) -> UUID | None:
    """The ``calendar_id`` a job of ``job_customer`` may use: one of that customer's calendars
    (else a ``ValidationError`` naming ``calendar_id``), or ``None`` for none."""
    if calendar_id is None:
        return None
    ident = fields.uuid(calendar_id, "calendar_id")
    if repo.get_calendar(conn, ident, customer_id=job_customer) is None:
        raise ValidationError(f"calendar_id {ident} is not a calendar of the job's customer", field="calendar_id")
    return ident
