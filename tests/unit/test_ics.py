"""The .ics reader (``cronkeeper/ics.py``) and the pure calendar/bounds rules (``schedule/bounds.py``)."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper.errors import ValidationError
from cronkeeper.ics import parse_ics
from cronkeeper.schedule import Schedule
from cronkeeper.schedule.bounds import Bounds, CalendarRule, cap_runs, finished_reason, preview

D = dt.date
UNTIL = D(2031, 12, 31)


def _cal(*events: str) -> str:
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "".join(f"BEGIN:VEVENT\r\n{e}\r\nEND:VEVENT\r\n" for e in events) + "END:VCALENDAR\r\n"


def test_timed_events_durations_and_folded_labels():
    text = _cal(
        "DTSTART:20270310T090000Z\r\nDTEND:20270311T120000Z\r\nSUMMARY:Two\r\n  days",  # 10th and 11th
        "DTSTART;TZID=Europe/Berlin:20270401T080000\r\nDTEND;TZID=Europe/Berlin:20270402T000000",  # 1st only
        "DTSTART;VALUE=DATE:20270501\r\nDURATION:P2D\r\nSUMMARY:Long\\; weekend",
    )
    parsed = parse_ics(text, until=UNTIL)
    assert parsed.dates == {D(2027, 3, 10): "Two days", D(2027, 3, 11): "Two days", D(2027, 4, 1): None,
                            D(2027, 5, 1): "Long; weekend", D(2027, 5, 2): "Long; weekend"}  # fmt: skip


def test_yearly_rules_count_until_interval_exdate_and_leap_days():
    parsed = parse_ics(_cal(
        "DTSTART;VALUE=DATE:20270704\r\nRRULE:FREQ=YEARLY;COUNT=3",
        "DTSTART;VALUE=DATE:20271225\r\nRRULE:FREQ=YEARLY;UNTIL=20291231;INTERVAL=2",
        "DTSTART;VALUE=DATE:20280229\r\nRRULE:FREQ=YEARLY",
        "DTSTART;VALUE=DATE:20270101\r\nRRULE:FREQ=YEARLY\r\nEXDATE;VALUE=DATE:20280101,20290101",
    ), until=UNTIL)
    days = sorted(parsed.dates)
    assert [d for d in days if (d.month, d.day) == (7, 4)] == [D(2027, 7, 4), D(2028, 7, 4), D(2029, 7, 4)]
    assert [d for d in days if (d.month, d.day) == (12, 25)] == [D(2027, 12, 25), D(2029, 12, 25)]
    assert [d for d in days if d.month == 2] == [D(2028, 2, 29)]  # no 29 February in 2029-2031
    assert [d for d in days if (d.month, d.day) == (1, 1)] == [D(2027, 1, 1), D(2030, 1, 1), D(2031, 1, 1)]


def test_what_cannot_be_read_is_reported_or_refused():
    parsed = parse_ics(_cal("DTSTART;VALUE=DATE:20270105\r\nRRULE:FREQ=YEARLY;BYDAY=1MO\r\nSUMMARY:Moving",
                            "SUMMARY:no start", "DTSTART;VALUE=DATE:20270106"), until=UNTIL)  # fmt: skip
    assert parsed.dates == {D(2027, 1, 6): None} and parsed.events == 3
    assert "Moving" in parsed.warnings[0] and "fixed dates only" in parsed.warnings[0]
    assert "without DTSTART" in parsed.warnings[1]
    for text in ("BEGIN:VEVENT\nEND:VEVENT", _cal("DTSTART;VALUE=DATE:2027011")):
        with pytest.raises(ValidationError) as bad:
            parse_ics(text, until=UNTIL)
        assert bad.value.field == "ics"


def test_calendar_rule_reads_the_local_date():
    rule = CalendarRule("H", business_days_only=True, dates=frozenset({D(2027, 1, 1)}))
    new_year_in_tokyo = dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)
    assert rule.excludes(new_year_in_tokyo, "Asia/Tokyo") == "calendar: H excludes 2027-01-01"
    assert rule.excludes(new_year_in_tokyo, "UTC") is None  # a Thursday in UTC
    assert "weekends" in rule.excludes(dt.datetime(2027, 1, 2, 12, tzinfo=dt.UTC), "UTC")


def test_bounds_cap_and_preview():
    t = dt.datetime(2027, 1, 4, 10, tzinfo=dt.UTC)
    slots = [t + dt.timedelta(days=n) for n in range(5)]
    # two runs left: the slots up to the second runnable one (the skipped one between is kept)
    assert cap_runs(Bounds(max_runs=3, run_count=1), slots, {slots[1]}, slots[-1]) == (slots[:3], None)
    assert cap_runs(Bounds(max_runs=9), slots, (), t) == (slots, t)
    daily = Schedule.cron("0 10 * * *")
    rule = CalendarRule("H", dates=frozenset({D(2027, 1, 5)}))
    shown = preview(daily, t - dt.timedelta(hours=1), 10, Bounds(ends_at=slots[3], max_runs=3), rule)
    # three runs allowed (the excluded slot is not one), and nothing after the end
    assert shown == [(slots[0], None), (slots[1], "calendar: H excludes 2027-01-05"), (slots[2], None), (slots[3], None)]
    assert preview(daily, t - dt.timedelta(hours=1), 10, Bounds(ends_at=slots[1]), rule)[-1][0] == slots[1]
    every = Schedule.every(3600)
    assert preview(every, t, 2, Bounds(starts_at=t + dt.timedelta(days=1)), None)[0][0] == t + dt.timedelta(days=1)


def test_finished_reason():
    class Job:
        is_active, next_run_at, starts_at = True, None, None
        ends_at = dt.datetime(2027, 1, 31, tzinfo=dt.UTC)
        max_runs, scheduled_run_count = 10, 10

    assert finished_reason(Job) == "reached its 10 runs"
    Job.scheduled_run_count = 4
    assert finished_reason(Job) == "ended at 2027-01-31T00:00:00+00:00"
    Job.next_run_at = Job.ends_at
    assert finished_reason(Job) is None
