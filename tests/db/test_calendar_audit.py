"""Every calendar change (create, rename, dates added and removed, import, delete) is an audit event
of the calendar (and of its customer), written in the change's transaction (a refused change writes
none); migration 0029 moved the events recorded before as the customer's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from psycopg.types.json import Jsonb

from cronkeeper import audit, calendar_audit, calendars
from cronkeeper.errors import Conflict, NotFound
from tests.support.factories import make_brand, make_job

ICS = "\r\n".join([
    "BEGIN:VCALENDAR", "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20270106", "SUMMARY:Epiphany", "END:VEVENT",
    "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20270501", "SUMMARY:Labour Day", "END:VEVENT", "END:VCALENDAR", "",
])  # fmt: skip


def _events(conn, customer_id):
    return list(reversed(audit.list_events(conn, customer_id=customer_id, limit=100)))


def test_each_calendar_change_is_one_event_with_who_and_what(conn):
    brand = make_brand(conn)
    with audit.acting_as(audit.Actor("alice")):
        cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "Hols",
                                               "dates": ["2027-01-01"]})  # fmt: skip
        calendars.update_calendar(conn, cal.id, {"name": "Holidays DE"})
        calendars.update_calendar(conn, cal.id, {"name": "Holidays DE"})  # no change: no event
        assert calendars.add_dates(conn, cal.id, ["2027-12-25", "2027-12-24"], "Xmas") == 2
        assert calendars.add_dates(conn, cal.id, ["2027-12-25"]) == 0  # nothing new: no event
        calendars.remove_date(conn, cal.id, "2027-12-24")
        calendars.import_ics(conn, ICS, dt.date(2027, 1, 4), calendar_id=cal.id)
        calendars.delete_calendar(conn, cal.id)
    events = _events(conn, brand.customer_id)
    assert [e.action for e in events] == [
        "calendar_create", "calendar_update", "calendar_add_dates", "calendar_remove_date", "calendar_import",
        "calendar_delete",
    ]  # fmt: skip
    ident = str(cal.id)
    assert {(e.resource_type, e.resource_id, e.customer_id, e.token_name) for e in events} == {
        ("calendar", ident, brand.customer_id, "alice")}
    # the calendar's own history is the same six, newest first
    history = audit.list_events(conn, resource_type="calendar", resource_id=ident, limit=100)
    assert [e.id for e in history] == [e.id for e in reversed(events)]
    create, rename, added, removed, imported, deleted = (e.changes for e in events)
    assert create == {"calendar_id": [None, ident], "name": [None, "Hols"], "business_days_only": [None, False],
                      "dates": [None, ["2027-01-01"]]}  # fmt: skip
    assert rename == {"calendar_id": [ident, ident], "name": ["Hols", "Holidays DE"]}
    assert added["dates"] == [None, ["2027-12-24", "2027-12-25"]] and added["dates_added"] == [None, 2]
    assert added["label"] == [None, "Xmas"] and added["calendar"] == ["Holidays DE", "Holidays DE"]
    assert removed == {"calendar_id": [ident, ident], "calendar": ["Holidays DE", "Holidays DE"],
                       "dates": [["2027-12-24"], None]}  # fmt: skip
    assert imported["dates"] == [None, ["2027-01-06", "2027-05-01"]] and imported["events"] == [None, 2]
    assert deleted == {"calendar_id": [ident, None], "name": ["Holidays DE", None],
                       "business_days_only": [False, None], "date_count": [4, None]}  # fmt: skip


def test_an_import_into_a_new_calendar_records_its_creation_then_the_import(conn):
    brand = make_brand(conn)
    result = calendars.import_ics(conn, ICS, dt.date(2027, 1, 4), values={"customer_id": brand.customer_id, "name": "DE"})
    events = _events(conn, brand.customer_id)
    assert [e.action for e in events] == ["calendar_create", "calendar_import"]
    assert events[1].changes["calendar_id"] == [str(result.calendar.id)] * 2
    assert events[1].changes["dates_added"] == [None, 2]


def test_refused_changes_leave_no_event(conn):
    brand = make_brand(conn)
    cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "Hols"})
    make_job(conn, brand, calendar_id=cal.id)
    with pytest.raises(Conflict):
        calendars.delete_calendar(conn, cal.id)
    with pytest.raises(NotFound):
        calendars.remove_date(conn, cal.id, "2027-01-01")
    with pytest.raises(Conflict):
        calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "Hols"})
    assert [e.action for e in _events(conn, brand.customer_id)] == ["calendar_create"]


def test_a_long_list_of_dates_is_shortened_in_the_event(conn):
    brand = make_brand(conn)
    cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "Many"})
    days = [dt.date(2027, 1, 1) + dt.timedelta(days=n) for n in range(calendar_audit.SHOWN_DATES + 4)]
    calendars.add_dates(conn, cal.id, days)
    shown = _events(conn, brand.customer_id)[-1].changes["dates"][1]
    assert len(shown) == calendar_audit.SHOWN_DATES + 1 and shown[-1] == "… and 4 more"


MIGRATION = next((Path(__file__).parents[2] / "sql" / "migrations").glob("*_calendar_audit.sql"))


def test_the_migration_moves_the_calendar_events_recorded_as_the_customers(conn):
    brand = make_brand(conn)
    cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "Hols"})
    ident, customer = str(cal.id), str(brand.customer_id)
    insert = """INSERT INTO audit_events (token_name, customer_id, action, resource_type, resource_id, changes)
                VALUES ('old', %s, %s, 'customer', %s, %s) RETURNING id"""
    old = [conn.execute(insert, (customer, action, customer, Jsonb({"calendar_id": ids}))).fetchone()["id"]
           for action, ids in [("calendar_add_dates", [ident, ident]), ("calendar_delete", [ident, None]),
                               ("calendar_create", [None, ident])]]  # fmt: skip
    other = conn.execute(insert, (customer, "update", customer, Jsonb({"name": ["A", "B"]}))).fetchone()["id"]
    conn.execute(MIGRATION.read_text())  # the constraint swap runs again unchanged; the rows move
    rows = conn.execute("SELECT id, resource_type, resource_id, customer_id FROM audit_events WHERE id = ANY(%s) "
                        "ORDER BY id", ([*old, other],)).fetchall()  # fmt: skip
    assert [(r["resource_type"], r["resource_id"], str(r["customer_id"])) for r in rows] == [
        ("calendar", ident, customer), ("calendar", ident, customer), ("calendar", ident, customer),
        ("customer", customer, customer),  # the customer's own change stays its own
    ]  # fmt: skip
