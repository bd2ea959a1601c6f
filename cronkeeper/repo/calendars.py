"""Every query on ``calendars`` and ``calendar_dates`` (a calendar's excluded dates)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg import errors as pg

from cronkeeper.errors import Conflict
from cronkeeper.models import CustomerId, _from_row
from cronkeeper.repo._translate import translated
from cronkeeper.repo.queries import load

Q = load("calendars")


@dataclass(frozen=True)
class Calendar:
    """A customer's named calendar; ``date_count``: how many dates it excludes."""

    id: UUID
    customer_id: CustomerId
    name: str
    business_days_only: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    date_count: int = 0

    from_row = classmethod(_from_row)


@dataclass(frozen=True)
class CalendarDate:
    """One excluded date of a calendar, with its label (e.g. the holiday's name)."""

    day: dt.date
    label: str | None = None

    from_row = classmethod(_from_row)


def insert_calendar(conn: psycopg.Connection, customer_id: UUID, name: str, business_days_only: bool) -> Calendar:
    params = {"customer_id": customer_id, "name": name, "business_days_only": business_days_only}
    with translated():
        return Calendar.from_row(conn.execute(Q["insert_calendar"], params).fetchone())


def get_calendar(
    conn: psycopg.Connection, calendar_id: UUID, *, customer_id: UUID | None = None, for_update: bool = False
) -> Calendar | None:
    """The calendar (``customer_id``: only if it is that customer's), or ``None``."""
    query = Q["get_calendar_for_update"] if for_update else Q["get_calendar"]
    row = conn.execute(query, {"id": calendar_id, "customer_id": customer_id}).fetchone()
    return Calendar.from_row(row) if row else None


def list_calendars(conn: psycopg.Connection, *, customer_id: UUID | None = None, limit: int = 500) -> list[Calendar]:
    rows = conn.execute(Q["list_calendars"], {"customer_id": customer_id, "limit": limit}).fetchall()
    return [Calendar.from_row(r) for r in rows]


def update_calendar(conn: psycopg.Connection, calendar_id: UUID, name: str, business_days_only: bool) -> Calendar:
    params = {"id": calendar_id, "name": name, "business_days_only": business_days_only}
    with translated():
        return Calendar.from_row(conn.execute(Q["update_calendar"], params).fetchone())


def delete_calendar(conn: psycopg.Connection, calendar_id: UUID, *, customer_id: UUID | None = None) -> bool:
    """Delete the calendar and its dates; ``Conflict`` naming ``calendar_id`` while a job uses it."""
    try:
        with conn.transaction():
            row = conn.execute(Q["delete_calendar"], {"id": calendar_id, "customer_id": customer_id}).fetchone()
    except pg.ForeignKeyViolation as exc:
        raise Conflict(
            "the calendar is used by a job: pick another calendar (or none) on its jobs first", field="calendar_id"
        ) from exc
    return row is not None


def list_dates(conn: psycopg.Connection, calendar_id: UUID) -> list[CalendarDate]:
    return [CalendarDate.from_row(r) for r in conn.execute(Q["list_dates"], {"calendar_id": calendar_id})]


def add_dates(
    conn: psycopg.Connection, calendar_id: UUID, days: Sequence[dt.date], labels: Sequence[str | None]
) -> int:
    """Add the dates (a date already there keeps its row, a label given replaces its label);
    returns how many were new."""
    if not days:
        return 0
    params = {"calendar_id": calendar_id, "days": list(days), "labels": list(labels)}
    with translated():
        rows = conn.execute(Q["add_dates"], params).fetchall()
        conn.execute(Q["touch_calendar"], {"id": calendar_id})
    return sum(1 for r in rows if r["inserted"])


def remove_date(conn: psycopg.Connection, calendar_id: UUID, day: dt.date) -> bool:
    found = conn.execute(Q["remove_date"], {"calendar_id": calendar_id, "day": day}).fetchone() is not None
    if found:
        conn.execute(Q["touch_calendar"], {"id": calendar_id})
    return found


def calendar_rules(conn: psycopg.Connection, calendar_ids: Sequence[UUID]) -> list[dict[str, Any]]:
    """Each named calendar with all its excluded dates (``days``), in one query."""
    if not calendar_ids:
        return []
    return conn.execute(Q["calendar_rules"], {"ids": list(calendar_ids)}).fetchall()
