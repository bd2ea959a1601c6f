"""Every run's chart from the rollup of 30-minute slots (cronkeeper/stats_rollup.py, migration 0023):
the same counts as the runs give, percentiles within 10 %, recounts only of slots that may still
change and at most every 30 s, one recount at a time, and the runs counted where slots do not fit."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper import stats, stats_rollup
from cronkeeper.db import connect
from cronkeeper.repo import run_stats as repo
from tests.support.factories import make_brand, make_job

H, M, S = dt.timedelta(hours=1), dt.timedelta(minutes=1), dt.timedelta(seconds=1)


def seed_runs(conn, job, t0) -> None:
    """400 runs over the 20 hours before t0: every 3 minutes, durations 1-200 s, every 10th failed,
    every 25th skipped, the last 5 pending."""
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status, skip_reason,
                              scheduled_for, run_after, started_at, finished_at, created_at)
        SELECT %(job)s, %(customer)s, %(brand)s, 'scoring', 'manual', s.status,
               CASE WHEN s.status = 'skipped' THEN 'overlap' END, t, t,
               CASE WHEN s.status IN ('completed', 'failed') THEN t END,
               CASE WHEN s.status IN ('completed', 'failed') THEN t + make_interval(secs => 1 + (g * 37) %% 200)
                    WHEN s.status = 'skipped' THEN t END, t
        FROM generate_series(1, 400) g
        CROSS JOIN LATERAL (SELECT %(t0)s - g * interval '3 minutes' AS t) x
        CROSS JOIN LATERAL (SELECT CASE WHEN g <= 5 THEN 'pending' WHEN g %% 25 = 0 THEN 'skipped'
                                        WHEN g %% 10 = 0 THEN 'failed' ELSE 'completed' END AS status) s
        """,
        {"job": job.id, "customer": job.customer_id, "brand": job.brand_id, "t0": t0},
    )


@pytest.fixture
def job(conn, t0):
    job = make_job(conn, make_brand(conn))
    seed_runs(conn, job, t0)
    return job


def both(conn, span, now):
    """The chart from the rollup and from the runs (a job's scope counts the runs: one job has them all)."""
    rolled = stats.run_stats(conn, span, now=now)
    counted = stats.run_stats(conn, span)  # without `now`: the runs, as before
    return rolled, counted


@pytest.mark.parametrize(("bucket", "zone"), [("hour", "UTC"), ("day", "Europe/Berlin"), ("hour", "Asia/Kolkata")])
def test_the_rollup_gives_the_counts_the_runs_give(conn, job, t0, bucket, zone):
    span = stats.check_range(t0 - 24 * H, t0, bucket, zone, t0)
    rolled, counted = both(conn, span, t0)
    assert rolled.as_of == t0  # the newest slots may still change: counted now
    assert [b.start for b in rolled.buckets] == [b.start for b in counted.buckets]
    assert [b.counts for b in rolled.buckets] == [b.counts for b in counted.buckets]
    assert rolled.overall.counts == counted.overall.counts and rolled.overall.total == 400
    for r, c in zip([*rolled.buckets, rolled.overall], [*counted.buckets, counted.overall], strict=True):
        for got, exact in ((r.p50_seconds, c.p50_seconds), (r.p95_seconds, c.p95_seconds)):
            assert (got is None) == (exact is None)
            if exact is not None:
                assert got == pytest.approx(exact, rel=0.10)


def test_a_customers_chart_has_its_runs_only(conn, job, t0):
    other = make_job(conn, make_brand(conn))
    seed_runs(conn, other, t0 - dt.timedelta(minutes=1))
    span = stats.check_range(t0 - 24 * H, t0, "hour", "UTC", t0)
    mine = stats.run_stats(conn, span, customer_id=job.customer_id, now=t0)
    exact = stats.run_stats(conn, span, customer_id=job.customer_id)
    assert mine.overall.total == 400 and [b.counts for b in mine.buckets] == [b.counts for b in exact.buckets]
    assert stats.run_stats(conn, span, now=t0).overall.total == 800
    assert mine.as_of == t0


def test_a_zone_whose_days_start_off_the_slots_counts_the_runs(conn, job, t0):
    span = stats.check_range(t0 - 72 * H, t0, "day", "Asia/Kathmandu", t0)  # +05:45
    assert not stats_rollup.covers(stats.bucket_starts(span.start, span.end, "day", span.timezone))
    rolled, counted = both(conn, span, t0)
    assert rolled.as_of is None and rolled == counted
    assert conn.execute("SELECT count(*) AS n FROM run_stats_slots").fetchone()["n"] == 0


def test_open_slots_are_recounted_after_30_seconds_and_final_ones_never(conn, job, t0):
    span = stats.check_range(t0 - 2 * H, t0, "hour", "UTC", t0)
    first = stats.run_stats(conn, span, now=t0)
    assert first.overall.counts["pending"] == 5
    conn.execute("UPDATE job_runs SET status = 'cancelled', finished_at = %s WHERE status = 'pending'", (t0,))
    # an old (final) slot changed behind the cache's back: never recounted
    conn.execute("UPDATE job_runs SET status = 'cancelled' WHERE status = 'completed' AND created_at < %s",
                 (t0 - 90 * dt.timedelta(minutes=1),))  # fmt: skip
    soon = stats.run_stats(conn, span, now=t0 + 29 * S)
    assert soon.overall.counts == first.overall.counts and soon.as_of == t0  # within REFRESH: as counted
    later = stats.run_stats(conn, span, now=t0 + 31 * S)
    assert later.overall.counts["pending"] == 0 and later.overall.counts["cancelled"] == 5
    assert later.as_of == t0 + 31 * S
    assert later.overall.counts["completed"] == first.overall.counts["completed"]  # the final slots kept theirs
    whole = (t0 - 2 * H, t0 - 2 * H, t0 - 2 * H, t0)  # [start, head_end) empty, [tail_start, end)
    stored, changing = repo.slot_states(conn, whole, stats_rollup.SLOT + stats_rollup.SETTLE)
    assert stored == 4 and changing == [(t0 - 30 * M, t0 + 31 * S)]  # 07:00-08:30 ended 5 min before t0: final


def test_while_another_reader_recounts_the_stored_counts_are_served(conn, dsn, job, t0):
    span = stats.check_range(t0 - H, t0, "hour", "UTC", t0)
    stats.run_stats(conn, span, now=t0)
    conn.execute("UPDATE job_runs SET status = 'cancelled', finished_at = %s WHERE status = 'pending'", (t0,))
    later = t0 + dt.timedelta(minutes=1)
    with connect(dsn) as other:  # holds the recount lock in an open transaction
        assert other.execute("SELECT pg_try_advisory_xact_lock(%s) AS got", (stats_rollup.LOCK_KEY,)).fetchone()["got"]
        served = stats.run_stats(conn, span, now=later)
        assert served.overall.counts["pending"] == 5 and served.as_of == t0
    fresh = stats.run_stats(conn, span, now=later)  # the lock released: recounted
    assert fresh.overall.counts["pending"] == 0 and fresh.as_of == later


def test_slots_of_a_range_are_widened_and_empty_ones_stored(conn, job, t0):
    start = t0 - 3 * H - dt.timedelta(minutes=10)  # inside a slot
    end = t0 + 40 * M
    rows, as_of = stats_rollup.buckets(conn, starts=stats.bucket_starts(start, end, "hour", "UTC"), start=start,
                                       end=end, bucket="hour", timezone="UTC", now=t0)  # fmt: skip
    starts = repo.slot_starts(conn, (t0 - 4 * H, t0 - 4 * H, t0 - 4 * H, t0 + 2 * H))
    assert starts == [t0 - 3 * H - 30 * M + i * stats_rollup.SLOT for i in range(9)]  # 05:30 .. 09:30
    assert rows[-1]["bucket"] is None and rows[-1]["total"] == 3 * 20 + 10  # 05:30-09:00 of runs every 3 min
    assert as_of == t0


def test_whole_final_days_are_summed_once_and_read_whole(conn, job, t0):
    """Runs over the 20 hours before 09:00: 3 Jan (from 13:00) is a whole day of the range, final."""
    span = stats.check_range(t0 - 72 * H, t0, "day", "UTC", t0)
    first = stats.run_stats(conn, span, now=t0)
    days = conn.execute("SELECT day_start, counts FROM run_stats_days ORDER BY day_start").fetchall()
    assert [d["day_start"] for d in days] == [t0 - 33 * H - 24 * H, t0 - 33 * H]  # 2 and 3 Jan, not the 4th
    assert days[1]["counts"] == [first.buckets[-2].counts[s] for s in stats.STATUSES]
    conn.execute("DELETE FROM run_stats_slots WHERE slot_start < %s", (t0 - 9 * H,))  # 3 Jan's slots gone
    again = stats.run_stats(conn, span, now=t0 + 20 * S)
    assert again.buckets == first.buckets and again.overall.counts == first.overall.counts  # read from the day
    # a customer's days too, a day without its runs as zeros (else every later day were summed again)
    mine = stats.run_stats(conn, span, customer_id=job.customer_id, now=t0 + 20 * S)
    assert mine.buckets[-2].counts == first.buckets[-2].counts
    kept = conn.execute("SELECT counts FROM run_stats_days WHERE scope = %s ORDER BY day_start", (job.customer_id,))
    assert [r["counts"] for r in kept] == [[0] * 7, days[1]["counts"]]


def test_a_first_count_keeps_each_day_it_finished(conn, job, t0, monkeypatch):
    """A request ended by its deadline in the middle of a first count leaves the days it counted."""
    span = stats.check_range(t0 - 72 * H, t0, "hour", "UTC", t0)
    calls = []

    def count_then_fail(c, start, end, now):
        calls.append(start)
        if len(calls) == 2:
            raise TimeoutError("the request's deadline")
        count(c, start, end, now)

    count = repo.count_slots
    monkeypatch.setattr(repo, "count_slots", count_then_fail)
    with pytest.raises(TimeoutError):
        stats.run_stats(conn, span, now=t0)
    monkeypatch.setattr(repo, "count_slots", count)
    kept = repo.slot_starts(conn, (t0 - 72 * H, t0 - 72 * H, t0 - 72 * H, t0))
    assert kept == [t0 - 72 * H + i * stats_rollup.SLOT for i in range(48)]  # the first day, committed
    assert stats.run_stats(conn, span, now=t0).overall.total == 400  # the rest counted by the next request


def test_percentile_from_classes():
    assert stats_rollup.percentile([], 0.5) is None
    # 11 runs of ~1 s (class 0: [1, 1.19)) and 9 of ~8 s (class 12: [8, 9.51))
    classes = [(0, 11), (12, 9)]
    assert stats_rollup.percentile(classes, 0.5) == pytest.approx(2 ** (0.5 / 4))  # ranks 9 and 10
    assert stats_rollup.percentile(classes, 0.95) == pytest.approx(2 ** (12.5 / 4))
    # between two classes as percentile_cont interpolates: rank 0.5 of one run in each
    assert stats_rollup.percentile([(0, 1), (12, 1)], 0.5) == pytest.approx((2 ** (0.5 / 4) + 2 ** (12.5 / 4)) / 2)
    assert stats_rollup.floor_slot(dt.datetime(2027, 1, 4, 9, 44, tzinfo=dt.UTC)).minute == 30
    assert stats_rollup.ceil_slot(dt.datetime(2027, 1, 4, 9, 30, tzinfo=dt.UTC)).minute == 30
