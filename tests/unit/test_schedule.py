"""cronkeeper.schedule: validation naming the field, builders, slots, slot arithmetic, descriptions, storage."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest

from cronkeeper.errors import InvalidSchedule
from cronkeeper.schedule import (
    MAX_ENUMERATED_SLOTS,
    DueSlots,
    Schedule,
    ScheduleKind,
    due_slots,
    first_after,
    zones,
)
from cronkeeper.schedule.slots import slots_between

U = dt.UTC
BERLIN, NY = "Europe/Berlin", "America/New_York"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=U)


# -- builders ------------------------------------------------------------------------------------
def test_weekly_counts_days_as_cron_does_in_the_jobs_zone() -> None:
    monday = Schedule.weekly(1, "09:00", BERLIN)
    assert (monday.kind, monday.cron_expression, monday.timezone) == (
        ScheduleKind.CRON,
        "0 9 * * 1",
        BERLIN,
    )
    assert monday.first_run(utc(2027, 1, 6)) == utc(2027, 1, 11, 8)  # Monday 09:00 CET
    assert monday.first_run(utc(2027, 7, 7)) == utc(2027, 7, 12, 7)  # Monday 09:00 CEST
    assert (
        monday.first_run(utc(2027, 1, 6)).astimezone(dt.timezone(dt.timedelta(hours=1))).weekday()
        == 0  # Python's Monday
    )
    assert Schedule.weekly(0, "18:30").cron_expression == "30 18 * * 0"  # Sunday
    assert Schedule.weekly(7, "18:30") == Schedule.weekly(0, "18:30")  # cron's other Sunday
    assert Schedule.weekly(6, "18:30").describe() == "At 18:30, only on Saturday"


@pytest.mark.parametrize(
    ("day", "cron_day"),
    [("sun", 0), ("Sunday", 0), ("mon", 1), ("MONDAY", 1), (" tue ", 2), ("wednesday", 3),
     ("Thu", 4), ("friday", 5), ("sat", 6), ("Saturday", 6)],
)  # fmt: skip
def test_weekly_takes_day_names_in_any_case(day: str, cron_day: int) -> None:
    assert Schedule.weekly(day, "09:00") == Schedule.weekly(cron_day, "09:00")
    assert Schedule.weekly(day, "09:00").cron_expression == f"0 9 * * {cron_day}"


def test_simple_builders_make_cron_expressions() -> None:
    assert Schedule.hourly().cron_expression == "0 * * * *"
    assert Schedule.hourly(15, BERLIN).cron_expression == "15 * * * *"
    assert Schedule.daily("06:05").cron_expression == "5 6 * * *"
    assert Schedule.daily("9:30").cron_expression == "30 9 * * *"
    assert Schedule.monthly(1, "06:30").cron_expression == "30 6 1 * *"
    assert Schedule.custom("*/5 * * * *", NY) == Schedule.cron("*/5 * * * *", NY)


def test_monthly_on_the_31st_skips_shorter_months() -> None:
    got = Schedule.monthly(31, "12:00").upcoming(utc(2027, 1, 1), 3)
    assert got == [utc(2027, 1, 31, 12), utc(2027, 3, 31, 12), utc(2027, 5, 31, 12)]


@pytest.mark.parametrize(
    ("date", "time", "zone", "run_at"),
    [
        ("2027-07-01", "09:00", BERLIN, utc(2027, 7, 1, 7)),  # CEST, +2
        ("2027-01-05", "09:00", BERLIN, utc(2027, 1, 5, 8)),  # CET, +1
        ("2027-07-01", "09:00", NY, utc(2027, 7, 1, 13)),  # EDT, -4
        ("2027-01-05", "09:00", NY, utc(2027, 1, 5, 14)),  # EST, -5
        ("2027-01-05", "09:00", "UTC", utc(2027, 1, 5, 9)),
        ("2027-03-14", "02:30", NY, utc(2027, 3, 14, 7)),  # does not exist: right after the jump
        ("2027-11-07", "01:30", NY, utc(2027, 11, 7, 5, 30)),  # happens twice: the first time
        ("2027-10-31", "02:30", BERLIN, utc(2027, 10, 31, 0, 30)),  # twice, east of UTC: the first
        ("2027-03-28", "02:30", BERLIN, utc(2027, 3, 28, 1)),  # does not exist: the jump
        ("2038-07-01", "09:00", NY, utc(2038, 7, 1, 13)),  # EDT past 2037
    ],
)
def test_once_localizes_in_the_zone(date: str, time: str, zone: str, run_at: dt.datetime) -> None:
    once = Schedule.once(date, time, zone)
    assert once.kind is ScheduleKind.ONCE and once.run_at == run_at and once.run_at.tzinfo is U
    assert once.timezone == zone
    # the one rule every surface shares (CLI --at, the API's preview, the UI's lib/zones.js)
    wall = dt.datetime.fromisoformat(f"{date}T{time}")
    assert zones.resolve_local(wall, zone)[0] == run_at


BAD_BUILDERS: list[tuple[Callable[[], Schedule], str, str]] = [
    (lambda: Schedule.daily("25:00"), "time", "time must be HH:MM between 00:00 and 23:59, got '25:00'"),
    (lambda: Schedule.daily("09:60"), "time", "got '09:60'"),
    (lambda: Schedule.daily("9 am"), "time", "got '9 am'"),
    (lambda: Schedule.daily(900), "time", "got 900"),  # type: ignore[arg-type]
    (lambda: Schedule.weekly(8, "09:00"), "day_of_week", "day_of_week must be a day number from 0 to 7 as in cron (0 or 7 = Sunday, 1 = Monday ... 6 = Saturday) or a day name such as \"mon\", got 8"),
    (lambda: Schedule.weekly(-1, "09:00"), "day_of_week", "got -1"),
    (lambda: Schedule.weekly(True, "09:00"), "day_of_week", "got True"),
    (lambda: Schedule.weekly("mo", "09:00"), "day_of_week", "got 'mo'"),
    (lambda: Schedule.weekly("1", "09:00"), "day_of_week", "got '1'"),
    (lambda: Schedule.weekly(1.0, "09:00"), "day_of_week", "got 1.0"),  # type: ignore[arg-type]
    (lambda: Schedule.hourly(60), "minute", "minute must be a whole number from 0 to 59, got 60"),
    (lambda: Schedule.monthly(0, "09:00"), "day_of_month", "from 1 to 31, got 0"),
    (lambda: Schedule.monthly(32, "09:00"), "day_of_month", "got 32"),
    (lambda: Schedule.once("2027-02-30", "09:00"), "date", "date must be YYYY-MM-DD, got '2027-02-30'"),
    (lambda: Schedule.once("05.01.2027", "09:00"), "date", "got '05.01.2027'"),
    (lambda: Schedule.once("2027-01-05", "9h"), "time", "got '9h'"),
    (lambda: Schedule.daily("09:00", "Mars/Base"), "timezone", "unknown time zone 'Mars/Base'"),
    (lambda: Schedule.once("2027-01-05", "09:00", "Mars/Base"), "timezone", "unknown time zone 'Mars/Base'"),
    (lambda: Schedule.every(0), "interval_seconds", "interval_seconds must be a whole number of seconds, at least 1, got 0"),
    (lambda: Schedule.every(-60), "interval_seconds", "got -60"),
    (lambda: Schedule.every(2**31), "interval_seconds", "at most 2147483647"),
    (lambda: Schedule.every(10, jitter=10), "jitter_seconds", "jitter_seconds must be smaller than interval_seconds (10), got 10"),
    (lambda: Schedule.every(10, jitter=-1), "jitter_seconds", "at least 0, got -1"),
    (lambda: Schedule.cron("61 * * * *"), "cron_expression", "minute value 61 out of range 0-59"),
    (lambda: Schedule.cron("0 0 31 2 *"), "cron_expression", "never fires"),
    (lambda: Schedule.cron("@reboot"), "cron_expression", "unknown macro '@reboot'"),
]  # fmt: skip


@pytest.mark.parametrize(("build", "field", "message"), BAD_BUILDERS)
def test_bad_input_names_the_field(build: Callable[[], Schedule], field: str, message: str) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        build()
    assert caught.value.field == field
    assert message in caught.value.message


# -- the value object ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"kind": "cron"}, "cron_expression", "cron schedules need cron_expression"),
        ({"kind": "cron", "cron_expression": "* * * * *", "interval_seconds": 5}, "interval_seconds",
         "cron schedules take no interval_seconds"),
        ({"kind": "cron", "cron_expression": "* * * * *", "jitter_seconds": 60}, "jitter_seconds",
         "jitter_seconds must be smaller than the shortest time between two runs of '* * * * *' (60 s)"),
        ({"kind": "once", "run_at": utc(2027, 1, 1), "jitter_seconds": 5}, "jitter_seconds",
         "jitter_seconds applies to interval and cron schedules only"),
        ({"kind": "interval", "interval_seconds": 60, "run_at": utc(2027, 1, 1)}, "run_at",
         "interval schedules take no run_at"),
        ({"kind": "once", "run_at": dt.datetime(2027, 1, 1)}, "run_at", "run_at must be a date and time with a UTC offset"),
        ({"kind": "once", "run_at": "2027-01-01T09:00Z"}, "run_at", "run_at must be a date and time with a UTC offset"),
        ({"kind": "weekly", "cron_expression": "* * * * *"}, "cron_expression", "schedule kind must be one of cron, interval, once"),
        ({"kind": "cron", "cron_expression": "* * * * *", "timezone": ""}, "timezone", "time zone is empty"),
    ],
)  # fmt: skip
def test_constructor_validates_every_field(fields: dict, field: str, message: str) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        Schedule(**fields)
    assert caught.value.field == field
    assert message in caught.value.message


def test_values_are_normalized_frozen_and_comparable() -> None:
    schedule = Schedule(
        ScheduleKind.CRON, cron_expression="  0 9 * *  1 ", timezone="europe/berlin"
    )
    assert (schedule.cron_expression, schedule.timezone) == ("0 9 * * 1", BERLIN)
    assert schedule == Schedule.weekly(1, "09:00", BERLIN) and hash(schedule) == hash(
        Schedule.weekly("mon", "09:00", BERLIN)
    )
    assert Schedule(ScheduleKind.CRON, cron_expression="@Daily").cron_expression == "@daily"
    assert Schedule("interval", interval_seconds=60).kind is ScheduleKind.INTERVAL  # type: ignore[arg-type]
    berlin_noon = dt.datetime(2027, 1, 5, 12, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert Schedule(ScheduleKind.ONCE, run_at=berlin_noon).run_at == utc(2027, 1, 5, 11)
    with pytest.raises(dataclasses.FrozenInstanceError):
        schedule.timezone = "UTC"  # type: ignore[misc]


# -- from_fields / to_fields -------------------------------------------------------------------------
def test_from_fields_infers_the_kind() -> None:
    assert Schedule.from_fields(cron_expression="0 9 * * *").kind is ScheduleKind.CRON
    assert (
        Schedule.from_fields(interval_seconds=60, jitter_seconds=None).kind is ScheduleKind.INTERVAL
    )
    once = Schedule.from_fields(run_at="2027-01-05T09:00:00+01:00", timezone=BERLIN)
    assert (once.kind, once.run_at) == (ScheduleKind.ONCE, utc(2027, 1, 5, 8))
    assert Schedule.from_fields(cron_expression="0 9 * * *", timezone=None).timezone == "UTC"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "give exactly one of cron_expression, interval_seconds, run_at"),
        ({"timezone": BERLIN}, "give exactly one of cron_expression, interval_seconds, run_at"),
        ({"cron_expression": "* * * * *", "interval_seconds": 60},
         "give exactly one of cron_expression, interval_seconds, run_at (got cron_expression, interval_seconds)"),
        ({"interval_seconds": 60, "run_at": utc(2027, 1, 1)}, "(got interval_seconds, run_at)"),
    ],
)  # fmt: skip
def test_from_fields_needs_exactly_one_defining_field(fields: dict, message: str) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        Schedule.from_fields(**fields)
    assert caught.value.field == "cron_expression"
    assert message in caught.value.message


def test_from_fields_rejects_a_kind_that_contradicts_the_fields() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        Schedule.from_fields(schedule_kind="once", cron_expression="0 9 * * *")
    assert caught.value.field == "cron_expression"
    with pytest.raises(InvalidSchedule, match="ISO 8601") as caught:
        Schedule.from_fields(run_at="next tuesday")
    assert caught.value.field == "run_at"


@pytest.mark.parametrize(
    "schedule",
    [
        Schedule.weekly(1, "09:00", BERLIN),
        Schedule.every(90, jitter=10),
        Schedule.once("2027-01-05", "09:00", NY),
    ],
)
def test_fields_round_trip(schedule: Schedule) -> None:
    fields = schedule.to_fields()
    assert set(fields) == {
        "schedule_kind",
        "cron_expression",
        "timezone",
        "interval_seconds",
        "jitter_seconds",
        "run_at",
    }
    assert fields["schedule_kind"] == str(schedule.kind) and type(fields["schedule_kind"]) is str
    assert Schedule.from_fields(**fields) == schedule


def test_to_fields_sets_only_the_kinds_fields() -> None:
    assert Schedule.every(60).to_fields() == {
        "schedule_kind": "interval", "cron_expression": None, "timezone": "UTC",
        "interval_seconds": 60, "jitter_seconds": 0, "run_at": None,
    }  # fmt: skip
    assert Schedule.daily("07:00", NY).to_fields() == {
        "schedule_kind": "cron", "cron_expression": "0 7 * * *", "timezone": NY,
        "interval_seconds": None, "jitter_seconds": 0, "run_at": None,
    }  # fmt: skip


# -- slots -----------------------------------------------------------------------------------------------
def test_cron_slots_follow_the_dst_rules() -> None:
    nightly = Schedule.daily("02:30", NY)
    assert nightly.first_run(utc(2027, 3, 13, 12)) == utc(
        2027, 3, 14, 7
    )  # 02:30 does not exist: at the jump
    assert nightly.next_after(utc(2027, 3, 14, 7)) == utc(2027, 3, 15, 6, 30)
    night = Schedule.daily("01:30", NY)
    assert night.upcoming(utc(2027, 11, 6, 12), 2) == [
        utc(2027, 11, 7, 5, 30),
        utc(2027, 11, 8, 6, 30),
    ]


def test_interval_slots() -> None:
    every = Schedule.every(900, jitter=30)
    now = dt.datetime(2027, 1, 5, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert every.first_run(now) == utc(2027, 1, 5, 9, 15)
    assert every.next_after(utc(2027, 1, 5, 9, 15)) == utc(2027, 1, 5, 9, 30)
    assert every.upcoming(utc(2027, 1, 5, 9), 3) == [
        utc(2027, 1, 5, 9, 15),
        utc(2027, 1, 5, 9, 30),
        utc(2027, 1, 5, 9, 45),
    ]


def test_once_slots() -> None:
    once = Schedule.once("2027-01-05", "09:00", BERLIN)
    assert once.first_run(utc(2027, 1, 1)) == utc(2027, 1, 5, 8)
    assert once.next_after(utc(2027, 1, 5, 8)) is None
    assert once.upcoming(utc(2027, 1, 1), 5) == [utc(2027, 1, 5, 8)]
    assert once.upcoming(utc(2027, 1, 5, 8), 5) == []  # strictly after
    assert once.upcoming(utc(2027, 1, 1), 0) == []


def test_naive_instants_are_rejected() -> None:
    for schedule in (Schedule.every(60), Schedule.daily("09:00")):
        with pytest.raises(ValueError, match="timezone-aware"):
            schedule.first_run(dt.datetime(2027, 1, 1))


# -- descriptions ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schedule", "text"),
    [
        (Schedule.weekly(1, "09:00", BERLIN), "At 09:00, only on Monday (Europe/Berlin)"),
        (Schedule.daily("07:30"), "At 07:30"),
        (Schedule.hourly(0), "Every hour"),
        (Schedule.cron("@weekly", NY), "At 00:00, only on Sunday (America/New_York)"),
        (Schedule.every(900), "Every 15 minutes"),
        (Schedule.every(60), "Every minute"),
        (Schedule.every(90, jitter=10), "Every 90 seconds (jitter up to 10 s)"),
        (Schedule.every(3600), "Every hour"),
        (Schedule.every(7200), "Every 2 hours"),
        (Schedule.every(86400), "Every day"),
        (Schedule.once("2027-01-05", "09:00", BERLIN), "Once at 2027-01-05 09:00 (Europe/Berlin)"),
        (Schedule.once("2027-07-05", "09:00", BERLIN), "Once at 2027-07-05 09:00 (Europe/Berlin)"),
        (Schedule.once("2027-07-05", "09:00"), "Once at 2027-07-05 09:00 (UTC)"),
    ],
)
def test_describe(schedule: Schedule, text: str) -> None:
    assert schedule.describe() == text


# -- slot arithmetic (cronkeeper.schedule.slots) -------------------------------------------------
def test_due_slots_lists_the_due_ones_and_the_next() -> None:
    every = Schedule.every(900)
    due = due_slots(every, utc(2027, 1, 5, 9), utc(2027, 1, 5, 9, 40))
    assert due == DueSlots(
        (utc(2027, 1, 5, 9), utc(2027, 1, 5, 9, 15), utc(2027, 1, 5, 9, 30)),
        0,
        utc(2027, 1, 5, 9, 45),
    )
    assert due_slots(every, utc(2027, 1, 5, 10), utc(2027, 1, 5, 9, 40)) == DueSlots(
        (), 0, utc(2027, 1, 5, 10)
    )
    once = Schedule.once("2027-01-05", "09:00")
    assert due_slots(once, once.run_at, utc(2027, 1, 6)) == DueSlots((utc(2027, 1, 5, 9),), 0, None)


def test_due_slots_past_the_cap_counts_an_interval_and_jumps_in_phase() -> None:
    start = utc(2027, 1, 5, 9, 0, 7)
    due = due_slots(Schedule.every(60), start, start + dt.timedelta(minutes=2500, seconds=30))
    assert len(due.slots) == MAX_ENUMERATED_SLOTS and due.slots[-1] == start + dt.timedelta(
        minutes=999
    )
    assert due.unlisted == 2501 - MAX_ENUMERATED_SLOTS
    assert due.next_slot == start + dt.timedelta(minutes=2501)


def test_due_slots_past_the_cap_of_cron_cannot_count_and_takes_the_next_fire() -> None:
    due = due_slots(
        Schedule.cron("*/10 * * * *", NY), utc(2027, 1, 5, 9), utc(2027, 1, 5, 12, 5), limit=4
    )
    assert due.slots == tuple(utc(2027, 1, 5, 9, m) for m in (0, 10, 20, 30))
    assert (due.unlisted, due.next_slot) == (-1, utc(2027, 1, 5, 12, 10))


def test_first_after_keeps_an_interval_phase_and_ends_a_one_off() -> None:
    start = utc(2027, 1, 5, 9, 0, 7)
    assert first_after(Schedule.every(60), start, utc(2027, 1, 5, 10)) == utc(2027, 1, 5, 10, 0, 7)
    assert first_after(Schedule.every(60), start, utc(2027, 1, 5, 8)) == start  # still ahead
    assert first_after(
        Schedule.daily("09:00", BERLIN), utc(2027, 1, 1, 8), utc(2027, 1, 5, 12)
    ) == utc(2027, 1, 6, 8)
    assert (
        first_after(Schedule.once("2027-01-05", "09:00"), utc(2027, 1, 5, 9), utc(2027, 1, 6))
        is None
    )
    assert first_after(Schedule.every(60), None, utc(2027, 1, 6)) is None


def test_slots_between_follows_the_sequence_inclusively_and_stops_at_the_limit() -> None:
    hourly = Schedule.hourly(30)
    listed, following = slots_between(hourly, utc(2027, 1, 5, 9, 30), utc(2027, 1, 5, 12, 30))
    assert listed == [utc(2027, 1, 5, h, 30) for h in (9, 10, 11, 12)] and following == utc(
        2027, 1, 5, 13, 30
    )
    assert slots_between(hourly, utc(2027, 1, 5, 9, 30), utc(2027, 1, 6), limit=2) == (
        [utc(2027, 1, 5, 9, 30), utc(2027, 1, 5, 10, 30)], utc(2027, 1, 5, 11, 30),
    )  # fmt: skip
