"""``manager.calendars``: a customer's calendars from Python (``cronkeeper.calendars``).

    cal = manager.calendars.create(customer_id, "Holidays", dates=["2027-12-25"])
    manager.calendars.import_ics(Path("de.ics").read_text(), calendar_id=cal.id)
    manager.create_job(brand_id, JobSchedule.daily("09:00", "Europe/Berlin"), "scoring", calendar_id=cal.id)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from cronkeeper import calendars, fields
from cronkeeper.calendars import Calendar, CalendarDate, ImportResult

if TYPE_CHECKING:  # the manager imports this module
    from cronkeeper.client.manager import JobManager


class Calendars:
    """Calendars in the manager's database; each call is one transaction (audited as ``python``)."""

    def __init__(self, manager: JobManager) -> None:
        self._manager = manager

    def list(self, customer_id: UUID | str | None = None) -> list[Calendar]:
        """Calendars by customer, then name (``customer_id``: only that customer's)."""
        with self._manager._session() as conn:
            scope = fields.uuid(customer_id, "customer_id") if customer_id is not None else None
            return calendars.list_calendars(conn, customer_id=scope)

    def get(self, calendar_id: UUID | str) -> Calendar:
        """The calendar; ``NotFound`` when there is none."""
        with self._manager._session() as conn:
            return calendars.get_calendar(conn, calendar_id)

    def dates(self, calendar_id: UUID | str) -> list[CalendarDate]:
        """Its excluded dates, oldest first."""
        with self._manager._session() as conn:
            return calendars.calendar_dates(conn, fields.uuid(calendar_id, "calendar_id"))

    def create(
        self, customer_id: UUID | str, name: str, *, business_days_only: bool = False,
        dates: Iterable[dt.date | str] = (),
    ) -> Calendar:  # fmt: skip
        """A new calendar; ``Conflict`` naming ``name`` when the customer has one so named."""
        values: dict[str, Any] = {"customer_id": customer_id, "name": name,
                                  "business_days_only": business_days_only, "dates": list(dates)}  # fmt: skip
        with self._manager._session() as conn:
            return calendars.create_calendar(conn, values)

    def update(self, calendar_id: UUID | str, **changes: Any) -> Calendar:
        """Change ``name`` and/or ``business_days_only``."""
        with self._manager._session() as conn:
            return calendars.update_calendar(conn, fields.uuid(calendar_id, "calendar_id"), changes)

    def add_dates(self, calendar_id: UUID | str, dates: Iterable[dt.date | str], label: str | None = None) -> int:
        """Exclude these dates too; how many were new."""
        with self._manager._session() as conn:
            return calendars.add_dates(conn, fields.uuid(calendar_id, "calendar_id"), dates, label)

    def remove_date(self, calendar_id: UUID | str, date: dt.date | str) -> None:
        """Stop excluding ``date``; ``NotFound`` naming ``date`` when it is not listed."""
        with self._manager._session() as conn:
            calendars.remove_date(conn, fields.uuid(calendar_id, "calendar_id"), date)

    def delete(self, calendar_id: UUID | str) -> None:
        """Delete it; ``Conflict`` while a job uses it."""
        with self._manager._session() as conn:
            calendars.delete_calendar(conn, fields.uuid(calendar_id, "calendar_id"))

    def import_ics(
        self, text: str, *, calendar_id: UUID | str | None = None, customer_id: UUID | str | None = None,
        name: str | None = None, business_days_only: bool = False,
    ) -> ImportResult:  # fmt: skip
        """Add an ``.ics`` file's dates to ``calendar_id``, or to a new calendar ``name`` of
        ``customer_id`` (``cronkeeper.ics``: all-day and timed events, ranges, yearly rules)."""
        target = fields.uuid(calendar_id, "calendar_id") if calendar_id is not None else None
        values = {"customer_id": customer_id, "name": name, "business_days_only": business_days_only}
        with self._manager._session() as conn:
            return calendars.import_ics(conn, text, self._manager.clock.now().date(), calendar_id=target,
                                        values=values)  # fmt: skip
