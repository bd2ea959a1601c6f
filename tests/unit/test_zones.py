"""cronkeeper.schedule.zones: the pinned tz data, offset changes past 2037, the local-time rule."""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest
import tzdata

from cronkeeper.errors import InvalidSchedule
from cronkeeper.schedule import zones
from cronkeeper.schedule.cron import fire_times, next_fire

U = dt.UTC
NY, BERLIN, SYDNEY, LORD_HOWE = (
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=U)


def test_the_version_is_the_wheels() -> None:
    assert zones.TZDATA_VERSION == tzdata.IANA_VERSION
    assert len(zones.TZDATA_VERSION) == 5 and zones.TZDATA_VERSION[:4].isdigit()


def test_zones_come_from_the_wheel_not_the_host() -> None:
    # ZoneInfo(name) may read /usr/share/zoneinfo; ours is built from the wheel's file
    ours = zones.zone(NY)
    assert ours is zones.zone("america/new_york") and ours.key == NY
    assert ours is not ZoneInfo(NY)
    with files("tzdata").joinpath("zoneinfo", "America", "New_York").open("rb") as data:
        wheel = ZoneInfo.from_file(data, key=NY)
    for year in range(1970, 2100, 7):
        instant = utc(year, 7, 1, 12)
        assert instant.astimezone(ours).utcoffset() == instant.astimezone(wheel).utcoffset()


@pytest.mark.parametrize("name", ["", "  ", "Mars/Base", "../../etc/passwd", "Factory", "America/"])
def test_unknown_names(name: str) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        zones.zone(name)
    assert caught.value.field == "timezone"


def test_names_are_matched_in_any_case_and_links_kept() -> None:
    assert zones.canonical_name("europe/BERLIN") == BERLIN
    assert zones.canonical_name("us/eastern") == "US/Eastern"
    assert zones.canonical_name("utc") == "UTC"
    assert NY in zones.zone_names() and "Factory" not in zones.zone_names()


@pytest.mark.parametrize(
    "zone", [NY, BERLIN, SYDNEY, LORD_HOWE, "Africa/Casablanca", "Asia/Kolkata"]
)
@pytest.mark.parametrize("year", [1995, 2027, 2038, 2061])
def test_offset_changes_match_an_hourly_probe(zone: str, year: int) -> None:
    """Every change the daily probe + bisection finds, and only those, seen hour by hour."""
    tz, t, expected = zones.zone(zone), utc(year, 1, 1), []
    before = t.astimezone(tz).utcoffset()
    while t.year == year:
        t += dt.timedelta(minutes=30)
        now = t.astimezone(tz).utcoffset()
        if now != before:
            expected.append((t.replace(tzinfo=None), before, now))
            before = now
    got = [(c.at, c.before, c.after) for c in zones.year_changes(zone, year)]
    assert got == expected


# -- past 2037 (where tables that stop at 2037 keep the last offset: summers one hour off) ------------
@pytest.mark.parametrize(
    ("expr", "zone", "after", "expected"),
    [
        ("0 9 * * *", NY, utc(2038, 6, 30, 14), utc(2038, 7, 1, 13)),  # EDT, not 14:00Z
        ("0 9 * * *", NY, utc(2038, 12, 31, 15), utc(2039, 1, 1, 14)),  # EST
        ("0 9 * * *", BERLIN, utc(2038, 6, 30, 8), utc(2038, 7, 1, 7)),  # CEST
        ("0 9 * * *", BERLIN, utc(2045, 1, 9, 9), utc(2045, 1, 10, 8)),  # CET
        ("0 9 * * *", SYDNEY, utc(2038, 1, 14, 23), utc(2038, 1, 15, 22)),  # AEDT
        ("0 9 * * *", SYDNEY, utc(2040, 7, 1), utc(2040, 7, 1, 23)),  # AEST
        ("0 9 * * *", LORD_HOWE, utc(2038, 1, 14, 12), utc(2038, 1, 14, 22)),  # +11
        ("0 9 * * *", LORD_HOWE, utc(2050, 7, 1), utc(2050, 7, 1, 22, 30)),  # +10:30
        ("0 12 1 1 *", NY, utc(2100, 1, 1), utc(2100, 1, 1, 17)),
    ],
)  # fmt: skip
def test_fire_times_after_2037(
    expr: str, zone: str, after: dt.datetime, expected: dt.datetime
) -> None:
    assert next_fire(expr, zone, after) == expected


@pytest.mark.parametrize(
    ("expr", "zone", "after", "expected"),
    [
        # NY 2038: 03-14 02:00 EST -> 03:00 EDT (07:00Z); 11-07 02:00 EDT -> 01:00 EST (06:00Z)
        ("30 2 * * *", NY, utc(2038, 3, 13, 12), ["03-14 07:00", "03-15 06:30"]),  # at the jump
        ("30 1 * * *", NY, utc(2038, 11, 6, 12), ["11-07 05:30", "11-08 06:30"]),  # first pass only
        # Berlin 2038: 03-28 02:00 -> 03:00 (01:00Z); 10-31 03:00 -> 02:00 (01:00Z)
        ("30 2 * * *", BERLIN, utc(2038, 3, 27, 12), ["03-28 01:00", "03-29 00:30"]),
        ("30 2 * * *", BERLIN, utc(2038, 10, 30, 12), ["10-31 00:30", "11-01 01:30"]),
        # Lord Howe 2038: 10-03 02:00 -> 02:30 (10-02 15:30Z); 04-04 02:00 -> 01:30 (04-03 15:00Z)
        ("15 2 * * *", LORD_HOWE, utc(2038, 10, 2, 12), ["10-02 15:30", "10-03 15:15"]),
        ("45 1 * * *", LORD_HOWE, utc(2038, 4, 3, 12), ["04-03 14:45", "04-04 15:15"]),
        ("*/30 * * * *", LORD_HOWE, utc(2038, 4, 3, 14, 20), ["04-03 14:30", "04-03 15:00", "04-03 15:30"]),
    ],
)  # fmt: skip
def test_dst_rules_keep_working_after_2037(
    expr: str, zone: str, after: dt.datetime, expected: list[str]
) -> None:
    got = [t.strftime("%m-%d %H:%M") for t in fire_times(expr, zone, after, len(expected))]
    assert got == expected


# -- one local-time rule -------------------------------------------------------------------
LOCAL_VECTORS = [
    # (wall time, zone, instant, note): a gap time moves to the jump, a repeated one takes the first pass
    (dt.datetime(2027, 3, 14, 2, 30), NY, utc(2027, 3, 14, 7), "shifted"),
    (dt.datetime(2027, 11, 7, 1, 30), NY, utc(2027, 11, 7, 5, 30), "ambiguous"),
    (dt.datetime(2027, 10, 31, 2, 30), BERLIN, utc(2027, 10, 31, 0, 30), "ambiguous"),
    (dt.datetime(2027, 3, 28, 2, 30), BERLIN, utc(2027, 3, 28, 1), "shifted"),
    (dt.datetime(2027, 10, 3, 2, 15), LORD_HOWE, utc(2027, 10, 2, 15, 30), "shifted"),
    (dt.datetime(2027, 4, 4, 1, 45), LORD_HOWE, utc(2027, 4, 3, 14, 45), "ambiguous"),
    (dt.datetime(2027, 11, 7, 2, 30), NY, utc(2027, 11, 7, 7, 30), None),
    (dt.datetime(2038, 7, 1, 9), NY, utc(2038, 7, 1, 13), None),
    (dt.datetime(2027, 6, 1, 9), "UTC", utc(2027, 6, 1, 9), None),
]


@pytest.mark.parametrize(("wall", "zone", "instant", "note"), LOCAL_VECTORS)
def test_resolve_local(
    wall: dt.datetime, zone: str, instant: dt.datetime, note: str | None
) -> None:
    got, got_note = zones.resolve_local(wall, zone)
    assert (got, got_note) == (instant, note) and got.tzinfo is U


def test_resolve_local_agrees_with_a_fixed_time_cron_job() -> None:
    """The rule is cron's: a daily job at the wall time fires at the resolved instant."""
    for wall, zone, instant, _note in LOCAL_VECTORS:
        expr = f"{wall.minute} {wall.hour} {wall.day} {wall.month} *"
        assert next_fire(expr, zone, instant - dt.timedelta(days=1)) == instant, (wall, zone)


def test_resolve_local_takes_naive_times_only() -> None:
    with pytest.raises(ValueError, match="naive"):
        zones.resolve_local(utc(2027, 1, 1), NY)
