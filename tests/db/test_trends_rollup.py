"""A brand's trends per day from its rollup of scores per day (cronkeeper/trends_rollup.py, migration
0026): the numbers the runs and scores give (means, competitors, share of voice) in several zones and
with ranges that cut days, recounts only of days that may still change and at most every 30 s, one
recount at a time, and one stored row per day read."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper import stats, trends_rollup
from cronkeeper.db import connect
from cronkeeper.repo import answers as answers_repo
from cronkeeper.repo import brand_score_days as repo
from tests.support.factories import make_brand, make_job

H, S = dt.timedelta(hours=1), dt.timedelta(seconds=1)
MEANS = ("runs", "answers", "mention_rate", "mean_position", "mean_sentiment", "share_of_voice")


def seed(conn, job, t0) -> None:
    """120 runs, one every 100 minutes over the ~8 days before t0, 3 answers scored each: every 7th
    failed and every 11th partial (a failed run's scores do not count), the 2 newest processing
    and pending; positions, sentiments and shares of voice with gaps (NULL), 1-2 competitors
    named in some answers."""
    conn.execute(
        """
        WITH runs AS (
            INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                                  scheduled_for, run_after, started_at, finished_at, worker_id, lease_expires_at,
                                  created_at)
            SELECT %(job)s, %(customer)s, %(brand)s, 'scoring', 'manual', s.status, t, t,
                   CASE WHEN s.status <> 'pending' THEN t END,
                   CASE WHEN s.status NOT IN ('pending', 'processing') THEN t + interval '1 minute' END,
                   CASE WHEN s.status = 'processing' THEN 'w' END,
                   CASE WHEN s.status = 'processing' THEN %(t0)s + interval '1 hour' END, t
            FROM generate_series(1, 120) g
            CROSS JOIN LATERAL (SELECT %(t0)s - g * interval '100 minutes' AS t) x
            CROSS JOIN LATERAL (SELECT CASE WHEN g = 1 THEN 'pending' WHEN g = 2 THEN 'processing'
                                            WHEN g %% 7 = 0 THEN 'failed' WHEN g %% 11 = 0 THEN 'partial'
                                            ELSE 'completed' END AS status) s
            RETURNING id, created_at, scheduled_for
        ), answers AS (
            INSERT INTO collected_answers (run_id, run_scheduled_for, brand_id, query, collector, answer, created_at)
            SELECT runs.id, runs.scheduled_for, %(brand)s, 'q' || k, 'fake', 'text', runs.created_at
            FROM runs CROSS JOIN generate_series(1, 3) k
            RETURNING id, run_id, run_scheduled_for, created_at
        )
        INSERT INTO answer_scores (answer_id, run_id, run_scheduled_for, brand_id, mentioned, mention_count, position,
                                   sentiment, share_of_voice, competitors_mentioned, created_at)
        SELECT a.id, a.run_id, a.run_scheduled_for, %(brand)s, a.id %% 3 <> 0, (a.id %% 3 <> 0)::int,
               CASE WHEN a.id %% 3 <> 0 THEN 1 + a.id %% 4 END,
               CASE WHEN a.id %% 5 <> 0 THEN ((a.id %% 9) - 4) / 4.0 END,
               CASE WHEN a.id %% 4 <> 0 THEN (a.id %% 10) / 10.0 END,
               CASE a.id %% 3 WHEN 0 THEN '{}'::text[] WHEN 1 THEN ARRAY['Rival'] ELSE ARRAY['Rival', 'Other'] END,
               a.created_at
        FROM answers a
        """,
        {"job": job.id, "customer": job.customer_id, "brand": job.brand_id, "t0": t0},
    )


@pytest.fixture
def job(conn, t0):
    job = make_job(conn, make_brand(conn, competitors=["Rival"]))
    seed(conn, job, t0)
    return job


def direct(conn, brand_id, span):
    """Per day as the chart gives them, counted from the runs and scores (the queries used before)."""
    rows, competitors = answers_repo.brand_days(conn, brand_id, span.start, span.end, span.timezone)
    by_day = {r["day"]: r for r in rows}
    return [
        {"day": day, **{k: (by_day.get(day) or {}).get(k, 0 if k in ("runs", "answers") else None) for k in MEANS},
         "competitors": competitors.get(day, {})}
        for day in stats.bucket_starts(span.start, span.end, "day", span.timezone)
    ]  # fmt: skip


def same(got, exact):
    assert [d["day"] for d in got] == [d["day"] for d in exact]
    for g, e in zip(got, exact, strict=True):
        assert g["competitors"] == e["competitors"], g["day"]
        for k in MEANS:
            assert g[k] == pytest.approx(e[k]), (g["day"], k)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/New_York", "Asia/Kathmandu"])
@pytest.mark.parametrize("cut", ["to now", "whole days", "both ends inside days"])
def test_the_rollup_gives_what_the_runs_and_scores_give(conn, job, t0, zone, cut):
    start, end = {"to now": (t0 - 10 * 24 * H, t0), "whole days": (None, None),
                  "both ends inside days": (t0 - 6 * 24 * H + 5 * H, t0 - 31 * H)}[cut]  # fmt: skip
    if cut == "whole days":
        starts = stats.bucket_starts(t0 - 9 * 24 * H, t0, "day", zone)
        start, end = starts[0], trends_rollup._day_after(starts[-1], zone)  # the last (today's) too
    span = stats.check_range(start, end, "day", zone, t0)
    got, as_of = trends_rollup.day_scores(conn, job.brand_id, span, t0)
    exact = direct(conn, job.brand_id, span)
    same(got, exact)
    assert sum(d["runs"] for d in got) > 50 and any(d["competitors"].get("Other") for d in got)
    assert as_of == (t0 if cut != "both ends inside days" else None)  # today's day: counted now, open
    stored = conn.execute("SELECT count(*) AS n FROM brand_score_days").fetchone()["n"]
    whole = [d for d in exact if d["day"] >= span.start]
    assert stored == len(whole) - (cut == "both ends inside days")  # the cut days are counted, not kept
    again, _ = trends_rollup.day_scores(conn, job.brand_id, span, t0 + S)  # now from the stored days
    same(again, exact)


def chart(conn, job, start, now, zone="UTC"):
    """The chart from ``start`` to ``now`` (the API's default end), asked at ``now``."""
    return trends_rollup.day_scores(conn, job.brand_id, stats.check_range(start, now, "day", zone, now), now)


def test_open_days_are_recounted_after_30_seconds_and_final_ones_never(conn, job, t0):
    start = t0 - 3 * 24 * H - 9 * H  # 1 Jan 00:00
    first, as_of = chart(conn, job, start, t0)
    assert as_of == t0
    # the processing run completes; an old (final) day's run is cancelled behind the cache's back
    conn.execute("UPDATE job_runs SET status = 'completed', finished_at = %s WHERE status = 'processing'", (t0,))
    conn.execute("UPDATE job_runs SET status = 'cancelled' WHERE created_at < %s AND created_at >= %s",
                 (t0 - 2 * 24 * H, t0 - 3 * 24 * H))  # fmt: skip
    soon, as_of = chart(conn, job, start, t0 + 29 * S)
    assert soon == first and as_of == t0  # within REFRESH: as counted
    later, as_of = chart(conn, job, start, t0 + 31 * S)
    assert later[-1]["runs"] == first[-1]["runs"] + 1 and as_of == t0 + 31 * S
    assert later[:-1] == first[:-1]  # 1-3 Jan: final, never recounted
    rows = repo.stored_days(conn, job.brand_id, "UTC", t0 - 4 * 24 * H, t0 + 24 * H)
    assert [(r["day"].day, r["open"], trends_rollup._final(r)) for r in rows] == [
        (1, False, True), (2, False, True), (3, False, True), (4, True, False)]  # fmt: skip


def test_a_day_with_a_run_still_open_is_not_final(conn, job, t0):
    """A run left processing in a past day keeps that day recounted until it ends."""
    old = t0 - 2 * 24 * H
    conn.execute("UPDATE job_runs SET status = 'processing', finished_at = NULL, worker_id = 'w', "
                 "lease_expires_at = %s WHERE id = (SELECT id FROM job_runs WHERE created_at >= %s "
                 "AND status = 'completed' ORDER BY created_at LIMIT 1)", (t0 + H, old))  # fmt: skip
    span = stats.check_range(old - 33 * H, t0 - 33 * H, "day", "UTC", t0)  # 1 and 2 Jan, whole
    first, as_of = trends_rollup.day_scores(conn, job.brand_id, span, t0)
    assert as_of == t0  # 2 Jan holds the processing run
    conn.execute("UPDATE job_runs SET status = 'completed', finished_at = %s WHERE status = 'processing' "
                 "AND created_at < %s", (t0, t0 - 24 * H))  # fmt: skip
    later, as_of = trends_rollup.day_scores(conn, job.brand_id, span, t0 + H)
    assert as_of is None and later[1]["runs"] == first[1]["runs"] + 1
    same(later, direct(conn, job.brand_id, span))


def test_while_another_reader_recounts_the_stored_counts_are_served(conn, dsn, job, t0):
    first, _ = chart(conn, job, t0 - 24 * H, t0)
    conn.execute("UPDATE job_runs SET status = 'completed', finished_at = %s WHERE status = 'processing'", (t0,))
    later = t0 + dt.timedelta(minutes=1)
    with connect(dsn) as other:  # holds the brand's count lock in an open transaction
        assert repo.try_lock_brand(other, job.brand_id)
        served, as_of = chart(conn, job, t0 - 24 * H, later)
        assert served == first and as_of == t0
    fresh, as_of = chart(conn, job, t0 - 24 * H, later)
    assert fresh[-1]["runs"] == first[-1]["runs"] + 1 and as_of == later


def test_a_90_day_chart_reads_one_stored_row_per_day(conn, job, t0):
    span = stats.check_range(t0 - 90 * 24 * H, t0, "day", "Europe/Berlin", t0)
    got, _ = trends_rollup.day_scores(conn, job.brand_id, span, t0)
    same(got, direct(conn, job.brand_id, span))
    rows = repo.stored_days(conn, job.brand_id, "Europe/Berlin", span.start - 24 * H, span.end + 24 * H)
    assert len(got) == 91 and len(rows) == 90  # the first day is cut by `from`: counted each time
    assert sum(r["answers"] for r in rows) == sum(d["answers"] for d in got)
