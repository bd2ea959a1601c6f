"""Auto-pause after repeated failures, its alert and the trial run (services/scheduler/pauses.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper import jobs, pausing
from cronkeeper.alert_rules import AlertSettings
from cronkeeper.clock import FixedClock
from cronkeeper.handlers import Registry
from cronkeeper.repo import alert_channels, counters
from cronkeeper.repo.queries import load
from cronkeeper.services.scheduler import pauses
from cronkeeper.services.scheduler.alerts import evaluate_alerts
from cronkeeper.services.scheduler.tick import tick
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.db.test_pauses import events, together
from tests.support.factories import make_job, make_run, runs_of
from tests.support.plans import plan_text

MIN = dt.timedelta(minutes=1)


def done(conn, job, status, at, **kw):
    kw.setdefault("trigger", "schedule")
    kw.setdefault("scheduled_for", at - MIN)
    return make_run(conn, job, status=status, started_at=at - dt.timedelta(seconds=5), finished_at=at,
                    worker_id="w", now=at - MIN, error_message="boom" if status == "failed" else None, **kw)  # fmt: skip


def auto_alerts(conn, job):
    q = "SELECT * FROM alerts WHERE scheduled_job_id = %s AND kind = 'auto_paused' ORDER BY id"
    return conn.execute(q, (job.id,)).fetchall()


def opened_total(conn, kind="auto_paused"):
    found = [t.value for t in counters.totals(conn) if t.name == counters.ALERTS_OPENED and t.labels == {"kind": kind}]
    return sum(found)


def test_auto_pause_after_n_consecutive_failures_raises_one_alert(conn, t0):
    job = make_job(conn, max_retries=1, auto_pause_after_failures=3, next_run_at=t0 + MIN)
    alert_channels.insert(conn, customer_id=job.customer_id, kind="email", target="ops@example.com",
                          secret_name=None, enabled=True)  # fmt: skip
    done(conn, job, "completed", t0 - 10 * MIN)
    for i in range(2):  # two slots, each failed twice (its retry too)
        done(conn, job, "failed", t0 - (8 - 2 * i) * MIN, attempt=1)
        done(conn, job, "failed", t0 - (7 - 2 * i) * MIN, attempt=2, trigger="retry")
    assert pauses.run_once(conn, t0).auto_paused == 0  # two failed slots, threshold 3
    done(conn, job, "failed", t0 + MIN, attempt=1)  # a retry follows: not yet a failed slot
    assert pauses.run_once(conn, t0 + MIN).auto_paused == 0
    last = done(conn, job, "failed", t0 + 2 * MIN, attempt=2, trigger="retry")
    assert pauses.run_once(conn, t0 + 2 * MIN).auto_paused == 1
    paused = jobs.get_job(conn, job.id)
    assert (paused.is_active, paused.paused_automatically, paused.paused_by) == (False, True, "auto-pause")
    assert paused.paused_reason == "auto-paused after 3 consecutive failures"
    assert paused.trial_due_at is None  # no trial asked
    [alert] = auto_alerts(conn, job)
    assert (alert["run_id"], alert["count"], alert["resolved_at"]) == (last.id, 1, None)
    assert opened_total(conn) == 1
    assert conn.execute("SELECT count(*) AS n FROM alert_deliveries").fetchone()["n"] == 1
    assert events(conn, job, "pause")[0]["token_name"] == "auto-pause"
    pauses.run_once(conn, t0 + 3 * MIN)  # read again: nothing more
    assert len(auto_alerts(conn, job)) == 1 and opened_total(conn) == 1


def test_auto_pause_is_off_by_default_and_counts_only_after_a_resume(conn, t0):
    off = make_job(conn, max_retries=0)
    on = make_job(conn, max_retries=0, auto_pause_after_failures=2)
    for job in (off, on):
        done(conn, job, "failed", t0 - 2 * MIN)
        done(conn, job, "failed", t0 - MIN)
    pauses.run_once(conn, t0)
    assert jobs.get_job(conn, off.id).is_active and not jobs.get_job(conn, on.id).is_active
    pausing.resume_job(conn, on.id, t0 + MIN)
    done(conn, on, "failed", t0 + 2 * MIN)  # one failure since the resume
    pauses.run_once(conn, t0 + 2 * MIN)
    assert jobs.get_job(conn, on.id).is_active
    done(conn, on, "failed", t0 + 3 * MIN)
    pauses.run_once(conn, t0 + 3 * MIN)
    assert not jobs.get_job(conn, on.id).is_active
    assert auto_alerts(conn, on)[0]["count"] == 2  # the open alert counts the second incident


def _auto_paused(conn, t0, **kw):
    job = make_job(conn, max_retries=0, auto_pause_after_failures=2, auto_pause_trial_after_seconds=600,
                   next_run_at=t0, **kw)  # fmt: skip
    done(conn, job, "failed", t0 - 2 * MIN)
    done(conn, job, "failed", t0 - MIN)
    assert pauses.run_once(conn, t0).auto_paused == 1
    return job


def test_trial_after_the_cool_down_resumes_the_job_when_it_completes(conn, t0):
    job = _auto_paused(conn, t0)
    assert pauses.run_once(conn, t0 + 599 * dt.timedelta(seconds=1)).trials_started == 0
    assert pauses.run_once(conn, t0 + 10 * MIN).trials_started == 1
    assert pauses.run_once(conn, t0 + 11 * MIN).trials_started == 0  # one trial only
    [trial] = [r for r in runs_of(conn, job.id) if r["trigger"] == "manual"]
    assert (trial["status"], jobs.get_job(conn, job.id).trial_run_id) == ("pending", trial["id"])
    assert pauses.run_once(conn, t0 + 12 * MIN).trials_passed == 0  # still pending: the job waits
    conn.execute("UPDATE job_runs SET status = 'completed', started_at = %(t)s, finished_at = %(t)s, "
                 "worker_id = 'w' WHERE id = %(id)s", {"t": t0 + 13 * MIN, "id": trial["id"]})  # fmt: skip
    assert pauses.run_once(conn, t0 + 14 * MIN).trials_passed == 1
    back = jobs.get_job(conn, job.id)
    assert (back.is_active, back.resumed_by, back.paused_reason, back.trial_run_id) == (
        True, "auto-pause trial", None, None)  # fmt: skip
    evaluate_alerts(conn, t0 + 14 * MIN, AlertSettings(default_rules={}))  # the good run closes the alert
    assert auto_alerts(conn, job)[0]["resolved_by_run_id"] == trial["id"]


def test_a_failed_trial_leaves_the_job_paused_and_is_counted(conn, t0):
    job = _auto_paused(conn, t0)
    pauses.run_once(conn, t0 + 10 * MIN)
    trial_id = jobs.get_job(conn, job.id).trial_run_id
    conn.execute("UPDATE job_runs SET status = 'failed', started_at = %(t)s, finished_at = %(t)s, "
                 "worker_id = 'w', error_message = 'boom' WHERE id = %(id)s",
                 {"t": t0 + 11 * MIN, "id": trial_id})  # fmt: skip
    assert pauses.run_once(conn, t0 + 12 * MIN).trials_failed == 1
    kept = jobs.get_job(conn, job.id)
    assert (kept.is_active, kept.paused_automatically, kept.trial_run_id, kept.trial_due_at) == (False, True, None, None)
    assert kept.paused_reason == f"auto-paused after 2 consecutive failures; trial run {trial_id} failed"
    [alert] = auto_alerts(conn, job)
    assert (alert["count"], alert["last_run_id"]) == (2, trial_id)
    assert pauses.run_once(conn, t0 + 60 * MIN).trials_started == 0  # no second trial
    assert [e["action"] for e in events(conn, job) if e["action"].startswith("trial")] == ["trial", "trial_failed"]


def test_several_schedulers_auto_pause_and_try_once(dsn, conn, t0):
    made = [_auto_paused_later(conn, t0) for _ in range(3)]
    results = together(dsn, lambda c: pauses.run_once(c, t0))
    assert sum(r.auto_paused for r in results) == 3
    results = together(dsn, lambda c: pauses.run_once(c, t0 + 10 * MIN))
    assert sum(r.trials_started for r in results) == 3
    for job in made:
        assert len([r for r in runs_of(conn, job.id) if r["trigger"] == "manual"]) == 1
        assert len(auto_alerts(conn, job)) == 1
    assert opened_total(conn) == 3


def _auto_paused_later(conn, t0):
    job = make_job(conn, max_retries=0, auto_pause_after_failures=2, auto_pause_trial_after_seconds=600)
    done(conn, job, "failed", t0 - 2 * MIN)
    done(conn, job, "failed", t0 - MIN)
    return job


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_pause_steps_reads_use_their_indexes(conn, t0):
    crowd = make_job(conn)  # 20,000 finished runs of another job, one in five failed
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at, worker_id, error_message)
        SELECT %(job)s, %(customer)s, %(brand)s, 'scoring', 'schedule',
               CASE WHEN g %% 5 = 0 THEN 'failed' ELSE 'completed' END,
               %(t0)s - g * interval '1 minute', %(t0)s - g * interval '1 minute',
               %(t0)s - g * interval '1 minute', %(t0)s - g * interval '1 minute' + interval '5 seconds', 'w',
               CASE WHEN g %% 5 = 0 THEN 'boom' END
        FROM generate_series(1, 20000) g
        """,
        {"job": crowd.id, "customer": crowd.customer_id, "brand": crowd.brand_id, "t0": t0},
    )
    conn.execute("ANALYZE job_runs")
    q = load("job_pauses")

    def plan(name, params):
        return plan_text(conn.execute(b"EXPLAIN " + q[name], params).fetchall())

    got = plan("auto_pause_candidates", {"since": t0 - MIN, "now": t0})
    assert "job_runs_finished_idx" in got, got
    assert "job_runs_retry_of_idx" in plan("trial_outcome", {"run_id": 1})
    quiet = make_job(conn)  # one job's streak among the crowd's runs
    assert "job_runs_job_idx" in plan("failure_streak_runs", {"job_id": quiet.id, "after": None, "limit": 60})


def test_a_failing_job_pauses_itself_then_a_good_trial_resumes_it_with_a_real_worker(dsn, conn, t0):
    failing = {"on": True}

    def handler(ctx):
        if failing["on"]:
            raise RuntimeError("collector down")
        return {"ok": 1}

    registry = Registry()
    registry.register("data_collection", handler)
    job = make_job(conn, max_retries=0, overlap_policy="allow", next_run_at=t0, auto_pause_after_failures=2,
                   auto_pause_trial_after_seconds=300)  # fmt: skip
    clock = FixedClock(t0)
    worker = Worker(dsn, Settings(database_url=None, data_dir=".", lease_seconds=30), registry=registry, clock=clock)
    try:
        for minute in range(10):
            now = t0 + minute * MIN
            clock.set(now)
            pauses.run_once(conn, now)
            tick(conn, now)
            worker.run_once()
            if minute == 5:
                failing["on"] = False  # fixed during the cool-down
    finally:
        worker.close()
    rows = runs_of(conn, job.id)
    assert [(r["trigger"], r["status"]) for r in rows if r["status"] != "skipped"] == [
        ("schedule", "failed"), ("schedule", "failed"), ("manual", "completed"), ("schedule", "completed"),
        ("schedule", "completed")]  # fmt: skip
    trial = next(r for r in rows if r["trigger"] == "manual")
    assert trial["scheduled_for"] == t0 + 7 * MIN  # paused at t0+2m (the pass after the 2nd failure), + 300 s
    skipped = [r["scheduled_for"] for r in rows if r["status"] == "skipped"]
    assert skipped == [t0 + m * MIN for m in range(2, 8)]  # while paused; t0+8m, when it resumed, ran
    assert {r["skip_reason"] for r in rows if r["status"] == "skipped"} == {"job paused"}
    back = jobs.get_job(conn, job.id)
    assert (back.is_active, back.resumed_by) == (True, "auto-pause trial")
