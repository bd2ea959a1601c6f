"""Calendars: a customer's named lists of dates on which its jobs do not run."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from cronkeeper.api.schemas.common import Input, Name, out_values
from cronkeeper.calendars import Calendar, CalendarDate

DateText = Annotated[str, Meta(min_length=1, max_length=40, description="A date, YYYY-MM-DD.")]
Dates = Annotated[list[DateText], Meta(max_length=5000)]
IcsText = Annotated[str, Meta(min_length=1, max_length=2_000_000, description="The text of an .ics file.")]


class CalendarIn(Input):
    name: Name
    customer_id: UUID | None | UnsetType = UNSET
    business_days_only: bool | UnsetType = UNSET
    dates: Dates | UnsetType = UNSET


class CalendarUpdate(Input):
    name: Name | UnsetType = UNSET
    business_days_only: bool | UnsetType = UNSET


class DatesIn(Input):
    dates: Annotated[list[DateText], Meta(min_length=1, max_length=5000)]
    label: Name | None | UnsetType = UNSET


class ImportIn(Input):
    """An .ics file's text, added to ``calendar_id``, or to a new calendar named ``name``."""

    ics: IcsText
    calendar_id: UUID | None | UnsetType = UNSET
    name: Name | None | UnsetType = UNSET
    customer_id: UUID | None | UnsetType = UNSET
    business_days_only: bool | UnsetType = UNSET


class CalendarDateOut(Struct):
    date: dt.date
    label: str | None

    @classmethod
    def of(cls, day: CalendarDate) -> CalendarDateOut:
        return cls(date=day.day, label=day.label)


class CalendarOut(Struct, kw_only=True):
    id: UUID
    customer_id: UUID
    name: str
    business_days_only: bool
    date_count: int
    created_at: dt.datetime
    updated_at: dt.datetime
    dates: list[CalendarDateOut] | None = None  # on a single calendar's answers

    @classmethod
    def of(cls, calendar: Calendar, dates: list[CalendarDate] | None = None) -> CalendarOut:
        out = cls(**out_values(cls, calendar))
        if dates is not None:
            out.dates = [CalendarDateOut.of(d) for d in dates]
        return out


class CalendarList(Struct):
    data: list[CalendarOut]
    next_cursor: str | None = None  # always null: one page (at most 500), shaped as the other lists


class ImportOut(Struct):
    calendar: CalendarOut
    added: Annotated[int, Meta(description="Dates new to the calendar.")]
    already: Annotated[int, Meta(description="Dates the calendar excluded already.")]
    events: int
    warnings: list[str]

    @classmethod
    def of(cls, result: Any, dates: list[CalendarDate]) -> ImportOut:
        return cls(calendar=CalendarOut.of(result.calendar, dates), added=result.added, already=result.already,
                   events=result.events, warnings=list(result.warnings))  # fmt: skip
