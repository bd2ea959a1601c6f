"""A calendar's changes in the audit trail, in each change's transaction.

``cronkeeper.calendars`` calls these inside its own transactions, so the API,
the CLI and the Python API record the same events, by the current actor
(``cronkeeper.audit``). Each event is the calendar's (``resource_type``
``calendar``, ``resource_id`` its id: ``GET
/api/admin/audit?resource_type=calendar&resource_id=…`` is its history, shown on
the calendar's page) and its customer's (``customer_id``: ``?customer_id=`` and
a token bound to the customer list them with the customer's other changes). Its
action names the calendar change, and its ``changes`` always hold
``calendar_id`` (``[id, id]``; ``[null, id]`` on create, ``[id, null]`` on
delete):

| action | ``changes`` besides ``calendar_id`` |
| --- | --- |
| ``calendar_create`` | ``name``, ``business_days_only``, and the ``dates`` given with it |
| ``calendar_update`` | ``name`` and/or ``business_days_only``, ``[before, after]`` (a rename) |
| ``calendar_add_dates`` | ``calendar`` (its name), ``dates``: ``[null, [the dates given]]``, ``dates_added``: ``[null, how many were new]``, ``label`` |
| ``calendar_remove_date`` | ``calendar``, ``dates``: ``[[the date], null]`` |
| ``calendar_import`` | ``calendar``, ``dates`` (as above), ``dates_added``, ``events`` read from the ``.ics`` file |
| ``calendar_delete`` | ``name``, ``business_days_only``, ``date_count``: ``[value, null]`` |

(Before migration 0029 these events were recorded under ``resource_type``
``customer`` and the customer's id; the migration moved them.) A list of dates longer than
``SHOWN_DATES`` keeps its first ones and says how many more there were
(``"… and 4 more"``), so a 5,000-date import stays one small event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import psycopg

from cronkeeper import audit
from cronkeeper.repo.calendars import Calendar

RESOURCE = "calendar"
SHOWN_DATES = 50
_FIELDS = ("name", "business_days_only")


def _dates(days: Sequence[dt.date]) -> list[str]:
    shown = [d.isoformat() for d in sorted(days)[:SHOWN_DATES]]
    if len(days) > SHOWN_DATES:
        shown.append(f"… and {len(days) - SHOWN_DATES} more")
    return shown


def _record(
    conn: psycopg.Connection, action: str, calendar: Calendar, changes: dict[str, list[Any]], *,
    ident: list[Any] | None = None, named: bool = True,
) -> None:  # fmt: skip
    """One event of the calendar's customer: ``calendar_<action>``, with the calendar's id
    (``ident``: its ``[before, after]``) and, when ``named``, its name first."""
    head: dict[str, list[Any]] = {"calendar_id": ident or [str(calendar.id), str(calendar.id)]}
    if named:
        head["calendar"] = [calendar.name, calendar.name]
    audit.record(conn, f"calendar_{action}", RESOURCE, calendar.id, customer_id=calendar.customer_id,
                 changes={**head, **changes})  # fmt: skip


def created(conn: psycopg.Connection, calendar: Calendar, days: Sequence[dt.date]) -> None:
    """A calendar created, with the dates given with it."""
    after: dict[str, Any] = {k: getattr(calendar, k) for k in _FIELDS}
    if days:
        after["dates"] = _dates(days)
    _record(conn, "create", calendar, audit.diff({}, after), ident=[None, str(calendar.id)], named=False)


def updated(conn: psycopg.Connection, before: Calendar, after: Calendar) -> None:
    """A rename or a change of ``business_days_only``; nothing when neither changed."""
    changes = audit.diff({k: getattr(before, k) for k in _FIELDS}, {k: getattr(after, k) for k in _FIELDS})
    if changes:
        _record(conn, "update", after, changes, named=False)


def dates_added(
    conn: psycopg.Connection, calendar: Calendar, days: Sequence[dt.date], added: int, *,
    label: str | None = None, action: str = "add_dates", events: int | None = None,
) -> None:  # fmt: skip
    """Dates given to exclude (``added`` of them new), by hand or (``action="import"``) from a file."""
    after: dict[str, Any] = {"dates": _dates(days), "dates_added": added, "label": label, "events": events}
    _record(conn, action, calendar, audit.diff({}, after))


def date_removed(conn: psycopg.Connection, calendar: Calendar, day: dt.date) -> None:
    """A date no longer excluded."""
    _record(conn, "remove_date", calendar, audit.diff({"dates": [day.isoformat()]}, {}))


def deleted(conn: psycopg.Connection, calendar: Calendar) -> None:
    """A calendar deleted with its dates."""
    before = {**{k: getattr(calendar, k) for k in _FIELDS}, "date_count": calendar.date_count}
    _record(conn, "delete", calendar, audit.diff(before, {}), ident=[str(calendar.id), None], named=False)
