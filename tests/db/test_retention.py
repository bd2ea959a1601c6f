"""Retention: old finished runs (and their answers and scores) pruned by age and per-job count."""

import datetime as dt

import pytest

from cronkeeper.clock import FixedClock
from cronkeeper.repo import answers as answers_repo
from cronkeeper.repo.answers import NewAnswer, NewScore
from cronkeeper.services.scheduler.loop import SchedulerLoop
from cronkeeper.services.scheduler.pruner import JOBS_PER_SLICE, Pruner, PruneResult
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job, make_run

DAY = dt.timedelta(days=1)


def settings(**kw) -> Settings:
    return Settings(database_url=None, data_dir=".", **kw)


def finished(conn, job, when: dt.datetime, status: str = "completed", **kw):
    extra = {"skip_reason": "overlap"} if status == "skipped" else {}
    started = {} if status in ("skipped", "cancelled") else {"started_at": when}
    return make_run(conn, job, now=when, status=status, finished_at=when, **started, **extra, **kw)


def ids(conn, job) -> set[int]:
    return {r["id"] for r in conn.execute("SELECT id FROM job_runs WHERE scheduled_job_id = %s", (job.id,))}


def test_age_rule_prunes_only_old_finished_runs_with_their_answers(conn, t0):
    job = make_job(conn)
    old = [finished(conn, job, t0 - 40 * DAY, status) for status in ("completed", "failed", "skipped", "cancelled")]
    young = finished(conn, job, t0 - 5 * DAY)
    old_pending = make_run(conn, job, now=t0 - 50 * DAY)  # never pruned, however old
    old_processing = make_run(
        conn, job, now=t0 - 50 * DAY, status="processing", worker_id="w",
        started_at=t0 - 50 * DAY, lease_expires_at=t0 - 49 * DAY,
    )  # fmt: skip
    a = answers_repo.insert_answers(
        conn, [NewAnswer(old[0].id, job.brand_id, None, "q", "chatgpt", None, "text", [], 1.0)]
    )
    answers_repo.insert_scores(conn, [NewScore(a[0], old[0].id, job.brand_id, True, 1, 1, 0.1, 0.5, [])])

    result = Pruner(settings(retention_days=30, retention_runs_per_job=0)).run_once(conn, t0)

    assert result == PruneResult(by_age=4, by_count=0)
    assert ids(conn, job) == {young.id, old_pending.id, old_processing.id}
    assert conn.execute("SELECT count(*) AS n FROM collected_answers").fetchone()["n"] == 0
    assert conn.execute("SELECT count(*) AS n FROM answer_scores").fetchone()["n"] == 0


def test_age_rule_works_in_batches_and_keeps_a_retry_whose_original_goes(conn, t0):
    job = make_job(conn)
    olds = [finished(conn, job, t0 - 40 * DAY + i * dt.timedelta(seconds=1)) for i in range(25)]
    retry = finished(conn, job, t0 - DAY, "completed", trigger="retry", attempt=2, retry_of=olds[-1].id)
    pruner = Pruner(settings(retention_days=30, retention_runs_per_job=0, retention_batch_size=7))
    assert pruner.run_once(conn, t0).by_age == 25
    row = conn.execute("SELECT retry_of FROM job_runs WHERE id = %s", (retry.id,)).fetchone()
    assert row == {"retry_of": None}
    assert pruner.run_once(conn, t0).by_age == 0


def test_count_rule_keeps_each_jobs_newest_runs(conn, t0):
    brand = make_brand(conn)
    busy, quiet = make_job(conn, brand), make_job(conn, brand)
    busy_runs = [finished(conn, busy, t0 - dt.timedelta(minutes=30 - i)) for i in range(12)]
    pending = make_run(conn, busy, now=t0 - dt.timedelta(hours=5))  # old id order, still pending
    quiet_runs = [finished(conn, quiet, t0 - dt.timedelta(minutes=i)) for i in range(3)]

    result = Pruner(settings(retention_days=0, retention_runs_per_job=5, retention_batch_size=2)).run_once(conn, t0)

    # the newest five runs of each job are kept (the pending one counts among the newest by id)
    kept_busy = ids(conn, busy)
    assert pending.id in kept_busy
    assert {r.id for r in busy_runs[-4:]} <= kept_busy
    assert len(kept_busy) == 5
    assert ids(conn, quiet) == {r.id for r in quiet_runs}
    assert result == PruneResult(by_age=0, by_count=8)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_count_rule_walks_jobs_in_slices_across_passes(conn, t0):
    brand = make_brand(conn)
    jobs = [make_job(conn, brand) for _ in range(JOBS_PER_SLICE + 5)]
    conn.execute(
        """INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                                 scheduled_for, run_after, started_at, finished_at)
           SELECT j.id, j.customer_id, j.brand_id, j.job_type, 'manual', 'completed',
                  %(t)s, %(t)s, %(t)s, %(t)s
           FROM scheduled_jobs j CROSS JOIN generate_series(1, 3)""",
        {"t": t0 - DAY},
    )
    pruner = Pruner(settings(retention_days=0, retention_runs_per_job=1), budget_seconds=30)
    assert pruner.run_once(conn, t0).by_count == 2 * len(jobs)
    per_job = conn.execute("SELECT count(*) AS n FROM job_runs GROUP BY scheduled_job_id").fetchall()
    assert {r["n"] for r in per_job} == {1} and len(per_job) == len(jobs)


def test_zero_disables_both_rules(conn, t0):
    job = make_job(conn)
    finished(conn, job, t0 - 400 * DAY)
    finished(conn, job, t0 - 300 * DAY)
    assert Pruner(settings(retention_days=0, retention_runs_per_job=0)).run_once(conn, t0) == PruneResult(by_age=0, by_count=0)
    assert len(ids(conn, job)) == 2


def test_scheduler_prunes_with_its_clock(dsn, conn, t0):
    job = make_job(conn)
    finished(conn, job, t0 - 100 * DAY)
    keep = finished(conn, job, t0 - 10 * DAY)
    scheduler = SchedulerLoop(dsn, settings(), clock=FixedClock(t0))  # defaults: 90 days, 1000 per job
    try:
        assert scheduler.prune() == PruneResult(by_age=1, by_count=0)
    finally:
        scheduler.close()
    assert ids(conn, job) == {keep.id}


def test_settings_read_retention_from_env(tmp_path):
    s = Settings.from_env(
        {"CRONKEEPER_DATA_DIR": str(tmp_path), "CRONKEEPER_RETENTION_DAYS": "7",
         "CRONKEEPER_RETENTION_RUNS_PER_JOB": "0", "CRONKEEPER_RETENTION_BATCH_SIZE": "50"}
    )  # fmt: skip
    assert (s.retention_days, s.retention_runs_per_job, s.retention_batch_size) == (7, 0, 50)
    assert s.retention_interval_seconds == 300


def test_age_rule_prunes_old_rollup_rows_and_resolved_alerts_not_open_ones(conn, t0):
    """What outlives its runs goes with the age rule: the charts' rollup rows of slots and days
    before the cutoff, and alerts resolved before it; an open alert stays however old."""
    job = make_job(conn)
    old, recent = t0 - dt.timedelta(days=100), t0 - dt.timedelta(days=10)
    nil = "00000000-0000-0000-0000-000000000000"
    for when in (old, recent):
        conn.execute(
            "INSERT INTO run_stats_slots (scope, slot_start, counts, open, counted_at) VALUES (%s, %s, %s, false, %s)",
            (nil, when, [0, 0, 1, 0, 0, 0, 0], when),
        )
        conn.execute(
            "INSERT INTO run_stats_days (scope, timezone, day_start, counts) VALUES (%s, 'UTC', %s, %s)",
            (nil, when, [0, 0, 1, 0, 0, 0, 0]),
        )
        conn.execute(
            "INSERT INTO brand_score_days (brand_id, timezone, day_start, day_end, runs, answers, open, counted_at)"
            " VALUES (%s, 'UTC', %s, %s, 1, 3, false, %s)",
            (job.brand_id, when, when + dt.timedelta(days=1), when),
        )
    alert = "INSERT INTO alerts (scheduled_job_id, customer_id, kind, message, opened_at, last_seen_at, resolved_at) VALUES (%s, %s, %s, 'x', %s, %s, %s) RETURNING id"  # noqa: E501
    resolved_old = conn.execute(alert, (job.id, job.customer_id, "failed", old, old, old)).fetchone()["id"]
    resolved_recent = conn.execute(alert, (job.id, job.customer_id, "late", old, old, recent)).fetchone()["id"]
    open_old = conn.execute(alert, (job.id, job.customer_id, "missed", old, old, None)).fetchone()["id"]

    result = Pruner(settings(retention_days=90, retention_runs_per_job=0, retention_batch_size=1)).run_once(conn, t0)

    assert result.side_rows == 4  # one of each rollup table, one alert (batches of 1: each loop ran again)
    for table, column in (("run_stats_slots", "slot_start"), ("run_stats_days", "day_start"),
                          ("brand_score_days", "day_start")):  # fmt: skip
        left = [r[column] for r in conn.execute(f"SELECT {column} FROM {table}")]
        assert left == [recent], table
    left = {r["id"] for r in conn.execute("SELECT id FROM alerts")}
    assert left == {resolved_recent, open_old} and resolved_old not in left
    # retention off: nothing of the kind goes
    assert Pruner(settings(retention_days=0, retention_runs_per_job=0)).run_once(conn, t0 + dt.timedelta(days=400)).side_rows == 0
