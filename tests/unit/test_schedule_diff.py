"""The upcoming-runs diff as a pure function (``cronkeeper/schedule/diff.py``): matching moved
runs, bounds, and the clock-change notes in words."""

from __future__ import annotations

import datetime as dt

from cronkeeper.schedule import Schedule
from cronkeeper.schedule.bounds import Bounds
from cronkeeper.schedule.diff import diff_slots, dst_notes, match_window

NOW = dt.datetime(2027, 10, 25, 12, 0, tzinfo=dt.UTC)  # the Monday before Berlin falls back (31st)
H = dt.timedelta(hours=1)


def _diff(old: Schedule, new: Schedule, count: int = 10, **kw):
    return diff_slots(old, old.first_run(NOW), new, new.first_run(NOW), count=count, now=NOW, **kw)


def test_an_hourly_shift_moves_every_run_the_same_way():
    d = _diff(Schedule.cron("0 * * * *"), Schedule.cron("30 * * * *"), count=6)
    assert [b - a for a, b in d.moved] == [dt.timedelta(minutes=-30)] * 6  # nearest, ties to the earlier
    assert (d.added, d.removed, d.unchanged) == ([], [], [])


def test_runs_far_apart_are_added_and_removed_not_moved():
    d = _diff(Schedule.cron("0 9 * * 1"), Schedule.cron("0 9 * * 4"), count=2)
    assert d.moved == [] and len(d.added) == 2 and len(d.removed) == 2
    assert match_window(d.before, d.after) == dt.timedelta(hours=12)


def test_a_one_off_moved_by_days_is_one_run_moved():
    old, new = Schedule.once("2027-11-02", "09:00"), Schedule.once("2027-11-05", "10:00")
    d = _diff(old, new)
    assert d.moved == [(old.run_at, new.run_at)] and d.dst_notes == []


def test_a_denser_schedule_keeps_the_common_runs_unchanged():
    d = _diff(Schedule.cron("0 */2 * * *"), Schedule.cron("0 * * * *"), count=4)
    assert d.unchanged == [NOW + 2 * H, NOW + 4 * H, NOW + 6 * H, NOW + 8 * H]
    assert d.added == [NOW + H, NOW + 3 * H] and d.removed == [] and d.complete


def test_bounds_cut_the_sequence():
    d = _diff(Schedule.cron("0 * * * *"), Schedule.cron("0 * * * *"), count=5, new_bounds=Bounds(max_runs=2))
    assert d.after == d.before[:2] and d.removed == d.before[2:]


def test_fall_back_notes_for_fixed_time_and_wildcard_jobs():
    until = NOW + dt.timedelta(days=10)
    fixed = [n.text for n in dst_notes(Schedule.cron("30 2 * * *", "Europe/Berlin"), NOW, until)]
    assert fixed == [
        "On Sun 2027-10-31 the clocks in Europe/Berlin go back from 03:00 to 02:00 (UTC+02:00 → UTC+01:00).",
        "02:30 on 2027-10-31 happens twice in Europe/Berlin: the job runs at the first pass only (00:30 UTC).",
    ]
    wildcard = dst_notes(Schedule.cron("*/30 * * * *", "Europe/Berlin"), NOW, until)
    assert wildcard[1].kind == "overlap" and wildcard[1].text.endswith("the job runs in both passes.")
    assert dst_notes(Schedule.cron("30 2 * * *", "UTC"), NOW, until) == []


def test_spring_forward_gap_for_a_wildcard_job_has_no_run():
    spring = dt.datetime(2027, 3, 22, tzinfo=dt.UTC)
    notes = dst_notes(Schedule.cron("*/15 * * * *", "Europe/Berlin"), spring, spring + dt.timedelta(days=7))
    assert notes[1].text == (
        "4 times from 02:00 to 02:45 on 2027-03-28 do not exist in Europe/Berlin: "
        "no run then (the job follows elapsed time)."
    )


def test_a_schedule_too_dense_to_compare_says_so():
    d = _diff(Schedule.cron("0 9 * * *"), Schedule.every(1), count=3)
    assert not d.complete and len(d.added) == 3 and d.removed == []
