"""``/api/admin/calendars``: a customer's calendars (excluded dates, business days only),
their dates, and the import of an ``.ics`` file. A job uses one through its ``calendar_id``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, post, put
from litestar.params import FromQuery, JSONBody, PathParameter

from cronkeeper import calendars
from cronkeeper.api.params import READ, WRITE, AccessDep, ClockDep, PoolDep, UuidPath, uuid_param
from cronkeeper.api.schemas.calendars import (
    CalendarIn,
    CalendarList,
    CalendarOut,
    CalendarUpdate,
    DatesIn,
    ImportIn,
    ImportOut,
)
from cronkeeper.db import reading

DatePath = Annotated[str, PathParameter(description="A date, YYYY-MM-DD.")]


class CalendarController(Controller):
    path = "/calendars"
    tags = ["calendars"]

    @get("/", operation_id="listCalendars", responses=READ, sync_to_thread=True)
    def list_calendars(self, pool: PoolDep, access: AccessDep, customer_id: FromQuery[UUID | None] = None) -> CalendarList:
        """Calendars by customer, then name (without their dates: ``date_count`` says how many)."""
        with reading(pool) as conn:
            found = calendars.list_calendars(conn, customer_id=access.filter(customer_id))
        return CalendarList(data=[CalendarOut.of(c) for c in found])

    @post("/", operation_id="createCalendar", status_code=201, responses=WRITE, sync_to_thread=True)
    def create_calendar(self, data: JSONBody[CalendarIn], pool: PoolDep, access: AccessDep) -> CalendarOut:
        """A new calendar of ``customer_id`` (a bound token: its own); 409 when the customer has one
        of that name. ``dates`` (YYYY-MM-DD) may be given at once."""
        values = data.given()
        values["customer_id"] = access.owner(values.get("customer_id"))
        with pool.connection() as conn:
            calendar = calendars.create_calendar(conn, values, customer_id=access.customer_id)
            dates = calendars.calendar_dates(conn, calendar.id)
        access.audit("calendar_created", calendar_id=calendar.id, customer_id=calendar.customer_id)
        return CalendarOut.of(calendar, dates)

    @post("/import", operation_id="importCalendar", status_code=201, responses=WRITE, sync_to_thread=True)
    def import_calendar(self, data: JSONBody[ImportIn], pool: PoolDep, access: AccessDep, clock: ClockDep) -> ImportOut:
        """Add the dates of an ``.ics`` file (all-day and timed events, ranges, yearly rules) to
        ``calendar_id``, or to a new calendar ``name`` of ``customer_id``. ``warnings`` lists
        events that could not be read (e.g. weekly rules); a malformed date is a 400 naming ``ics``."""
        values = data.given()
        text, target = values.pop("ics"), values.pop("calendar_id", None)
        if target is None:
            values["customer_id"] = access.owner(values.get("customer_id"))
        with pool.connection() as conn:
            result = calendars.import_ics(conn, text, clock.now().date(), calendar_id=target, values=values,
                                          customer_id=access.customer_id)  # fmt: skip
            dates = calendars.calendar_dates(conn, result.calendar.id)
        access.audit("calendar_imported", calendar_id=result.calendar.id, added=result.added)
        return ImportOut.of(result, dates)

    @get("/{calendar_id:str}", operation_id="getCalendar", responses=READ, sync_to_thread=True)
    def get_calendar(self, calendar_id: UuidPath, pool: PoolDep, access: AccessDep) -> CalendarOut:
        """The calendar with its dates, oldest first."""
        ident = uuid_param(calendar_id, "calendar_id")
        with reading(pool) as conn:
            calendar = calendars.get_calendar(conn, ident, customer_id=access.customer_id)
            return CalendarOut.of(calendar, calendars.calendar_dates(conn, ident))

    @put("/{calendar_id:str}", operation_id="updateCalendar", responses=WRITE, sync_to_thread=True)
    def update_calendar(
        self, calendar_id: UuidPath, data: JSONBody[CalendarUpdate], pool: PoolDep, access: AccessDep
    ) -> CalendarOut:
        """Rename it or change ``business_days_only``."""
        ident = uuid_param(calendar_id, "calendar_id")
        with pool.connection() as conn:
            calendar = calendars.update_calendar(conn, ident, data.given(), customer_id=access.customer_id)
            dates = calendars.calendar_dates(conn, ident)
        access.audit("calendar_updated", calendar_id=ident)
        return CalendarOut.of(calendar, dates)

    @delete("/{calendar_id:str}", operation_id="deleteCalendar", responses=WRITE, sync_to_thread=True)
    def delete_calendar(self, calendar_id: UuidPath, pool: PoolDep, access: AccessDep) -> None:
        """Delete it and its dates; 409 while a job uses it."""
        ident = uuid_param(calendar_id, "calendar_id")
        with pool.connection() as conn:
            calendars.delete_calendar(conn, ident, customer_id=access.customer_id)
        access.audit("calendar_deleted", calendar_id=ident)

    @post("/{calendar_id:str}/dates", operation_id="addCalendarDates", status_code=200, responses=WRITE,
          sync_to_thread=True)  # fmt: skip
    def add_dates(self, calendar_id: UuidPath, data: JSONBody[DatesIn], pool: PoolDep, access: AccessDep) -> CalendarOut:
        """Exclude these dates too (a date already there is kept); the calendar with its dates."""
        ident, values = uuid_param(calendar_id, "calendar_id"), data.given()
        with pool.connection() as conn:
            calendars.add_dates(conn, ident, values["dates"], values.get("label"), customer_id=access.customer_id)
            calendar = calendars.get_calendar(conn, ident)
            dates = calendars.calendar_dates(conn, ident)
        access.audit("calendar_dates_added", calendar_id=ident, count=len(values["dates"]))
        return CalendarOut.of(calendar, dates)

    @delete("/{calendar_id:str}/dates/{date:str}", operation_id="removeCalendarDate", responses=WRITE,
            sync_to_thread=True)  # fmt: skip
    def remove_date(self, calendar_id: UuidPath, date: DatePath, pool: PoolDep, access: AccessDep) -> None:
        """Stop excluding ``date`` (YYYY-MM-DD); 404 naming ``date`` when it is not listed."""
        ident = uuid_param(calendar_id, "calendar_id")
        with pool.connection() as conn:
            calendars.remove_date(conn, ident, date, customer_id=access.customer_id)
        access.audit("calendar_date_removed", calendar_id=ident, date=date)
