"""H (hashed cron fields): a value per job, stable, in range, spread evenly; jitter on cron."""

from __future__ import annotations

import collections
import datetime as dt
import uuid

import pytest

from cronkeeper import limits
from cronkeeper.errors import InvalidSchedule
from cronkeeper.schedule import Schedule, spread

IDS = [str(uuid.UUID(int=n * 7919 + 12345)) for n in range(1000)]


def test_h_is_stable_per_job_and_differs_between_jobs():
    s = Schedule.cron("H 9 * * *")
    a = s.for_job(IDS[0])
    assert a.resolved_expression == Schedule.cron("H 9 * * *").for_job(IDS[0]).resolved_expression
    assert a.cron_expression == "H 9 * * *"  # the stored expression keeps H
    assert len({s.for_job(i).resolved_expression for i in IDS[:20]}) > 10


def test_h_values_stay_in_each_fields_range():
    for job in IDS[:300]:
        minute, hour, dom, month, dow = spread.resolve("H H H H H", job).split()
        assert 0 <= int(minute) <= 59 and 0 <= int(hour) <= 23
        assert 1 <= int(dom) <= 28 and 1 <= int(month) <= 12 and 0 <= int(dow) <= 6


def test_1000_daily_jobs_spread_over_the_hour():
    minutes = collections.Counter(int(spread.resolve("H 9 * * *", j).split()[0]) for j in IDS)
    mean = len(IDS) / 60
    assert len(minutes) == 60
    assert max(minutes.values()) <= 2 * mean, minutes.most_common(3)


def test_h_step_keeps_the_step_from_an_offset_below_it():
    offsets = set()
    for job in IDS[:200]:
        resolved = spread.resolve("H/15 * * * *", job)
        first, rest = resolved.split()[0].split("-")
        assert rest == "59/15" and 0 <= int(first) < 15
        offsets.add(int(first))
        times = Schedule.cron("H/15 * * * *").for_job(job).upcoming(dt.datetime(2027, 1, 4, tzinfo=dt.UTC), 5)
        assert {(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)} == {900.0}
    assert len(offsets) == 15


def test_h_range_stays_in_the_range():
    values = {int(spread.resolve("H(0-29) * * * *", j).split()[0]) for j in IDS}
    assert values == set(range(30))
    stepped = {spread.resolve("H(10-40)/10 * * * *", j).split()[0] for j in IDS}
    assert stepped == {f"{v}-40/10" for v in range(10, 20)}


def test_resolved_times_and_description():
    job = IDS[3]
    s = Schedule.cron("H 9 * * *", "Europe/Berlin").for_job(job)
    minute = int(s.resolved_expression.split()[0])
    first = s.first_run(dt.datetime(2027, 1, 4, tzinfo=dt.UTC))
    assert first == dt.datetime(2027, 1, 4, 8, minute, tzinfo=dt.UTC)  # 09:mm CET
    assert f"H 9 * * * → {minute} 9 * * * for this job" in s.describe()
    assert "when it is saved" in Schedule.cron("H 9 * * *").describe()


def test_unresolved_h_refuses_to_compute():
    with pytest.raises(ValueError, match="job's id"):
        Schedule.cron("H 9 * * *").first_run(dt.datetime(2027, 1, 4, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("H(50-70) * * * *", "range must lie in 0-59"),
        ("H/0 * * * *", "step must be"),
        ("h 9 * * *", "capitals"),
        ("H,H * * * *", "more than one H"),
        ("Hx * * * *", "write H"),
        ("0 0 H(30-31) 2 *", "never fires"),
    ],
)
def test_bad_h_is_refused_naming_cron_expression(expr, fragment):
    with pytest.raises(InvalidSchedule, match=fragment) as err:
        Schedule.cron(expr)
    assert err.value.field == "cron_expression"


def test_thursday_is_not_h():
    assert not Schedule.cron("0 9 * * THU").spread


def test_min_interval_gap_counts_every_h_value():
    assert limits.cron_min_gap_seconds("H/15 * * * *") == 900
    assert limits.cron_min_gap_seconds("H 9 * * *") == 86400
    assert limits.cron_min_gap_seconds("H/7 * * * *") == 240  # offset 0: 56 -> 0 is 4 minutes
    assert limits.cron_min_gap_seconds("*/15 * * * *") == 900


def test_min_interval_check_passes_h_schedules(monkeypatch):
    monkeypatch.setenv(limits.MIN_INTERVAL_ENV, "3600")
    limits.check_min_interval("data_collection", Schedule.cron("H * * * *"))
    with pytest.raises(InvalidSchedule) as err:
        limits.check_min_interval("data_collection", Schedule.cron("H/15 * * * *"))
    assert err.value.field == "cron_expression"


def test_cron_jitter_is_allowed_below_the_shortest_gap():
    s = Schedule.from_fields(cron_expression="*/15 * * * *", jitter_seconds=899)
    assert s.jitter_seconds == 899 and "jitter up to 899 s" in s.describe()
    assert Schedule.from_fields(cron_expression="@daily", jitter_seconds=3600).jitter_seconds == 3600
    with pytest.raises(InvalidSchedule) as err:
        Schedule.from_fields(cron_expression="*/15 * * * *", jitter_seconds=900)
    assert err.value.field == "jitter_seconds"
    with pytest.raises(InvalidSchedule) as err:
        Schedule.from_fields(run_at="2027-01-05T09:00:00+00:00", jitter_seconds=5)
    assert err.value.field == "jitter_seconds"
