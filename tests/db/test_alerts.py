"""Alert evaluation (services/scheduler/alerts.py): each kind, once per incident, with a fixed clock."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from psycopg.types.json import Jsonb

from cronkeeper.alert_rules import AlertSettings
from cronkeeper.clock import FixedClock
from cronkeeper.db import connect
from cronkeeper.repo import alert_channels, counters
from cronkeeper.repo.queries import load
from cronkeeper.services.scheduler.alerts import alert_step, evaluate_alerts, p95
from cronkeeper.services.scheduler.loop import SchedulerLoop
from cronkeeper.services.scheduler.tick import tick
from cronkeeper.settings import Settings
from tests.support.factories import make_job, make_run
from tests.support.plans import plan_text

S = AlertSettings(default_rules={})
MIN = dt.timedelta(minutes=1)


def rules(conn, job, **r):
    conn.execute("UPDATE scheduled_jobs SET alert_rules = %s WHERE id = %s", (Jsonb(r), job.id))


def done(conn, job, status, at, *, seconds=10.0, **kw):
    kw.setdefault("trigger", "schedule")
    kw.setdefault("scheduled_for", at - dt.timedelta(seconds=seconds))
    started = at - dt.timedelta(seconds=seconds)
    return make_run(conn, job, status=status, started_at=started, finished_at=at, worker_id="w", now=started,
                    error_message="boom" if status == "failed" else None, **kw)


def alerts(conn, job=None):
    q = "SELECT * FROM alerts WHERE %(job)s::uuid IS NULL OR scheduled_job_id = %(job)s ORDER BY id"
    return conn.execute(q, {"job": job.id if job else None}).fetchall()


def test_late_fires_at_grace_and_not_before(conn, t0):
    job = make_job(conn)
    rules(conn, job, late_grace_seconds=120)
    make_run(conn, job, trigger="schedule", scheduled_for=t0, run_after=t0, now=t0)
    assert evaluate_alerts(conn, t0 + dt.timedelta(seconds=119), S).opened == 0
    assert alerts(conn) == []
    assert evaluate_alerts(conn, t0 + dt.timedelta(seconds=120), S).opened == 1
    evaluate_alerts(conn, t0 + 5 * MIN, S)  # the same late slot again: no second alert, no count
    [a] = alerts(conn)
    assert (a["kind"], a["count"], a["scheduled_for"], a["resolved_at"]) == ("late", 1, t0, None)


def test_default_grace_is_five_minutes_and_null_switches_off(conn, t0):
    on, off = make_job(conn), make_job(conn)
    rules(conn, off, late_grace_seconds=None)
    for job in (on, off):
        make_run(conn, job, trigger="schedule", scheduled_for=t0, run_after=t0, now=t0)
    evaluate_alerts(conn, t0 + 4 * MIN, S)
    assert alerts(conn) == []
    evaluate_alerts(conn, t0 + 5 * MIN, S)
    assert [a["scheduled_job_id"] for a in alerts(conn)] == [on.id]


def test_missed_on_a_misfire_skip(conn, t0):
    make_job(conn, misfire_policy="skip", overlap_policy="allow", next_run_at=t0 - 10 * MIN)
    tick(conn, t0, grace_seconds=120)
    skipped = conn.execute("SELECT count(*) AS n FROM job_runs WHERE status = 'skipped'").fetchone()["n"]
    assert skipped >= 8
    result = evaluate_alerts(conn, t0, S)
    [a] = alerts(conn)
    assert (a["kind"], a["count"], result.opened) == ("missed", skipped, 1)
    assert "misfire" in a["message"]
    evaluate_alerts(conn, t0 + MIN, S)  # read again (overlap): counted once
    assert alerts(conn)[0]["count"] == skipped


def test_missed_when_the_scheduler_is_behind(conn, t0):
    make_job(conn, next_run_at=t0 - 11 * MIN)
    make_job(conn, next_run_at=t0 - 9 * MIN)
    evaluate_alerts(conn, t0, S)
    [a] = alerts(conn)
    assert a["kind"] == "missed" and "behind" in a["message"]


def test_failed_only_after_retries_by_default(conn, t0):
    job = make_job(conn, max_retries=2)
    first = done(conn, job, "failed", t0, attempt=1)
    evaluate_alerts(conn, t0 + MIN, S)
    assert alerts(conn) == []  # a retry follows
    done(conn, job, "failed", t0 + 2 * MIN, attempt=2, retry_of=first.id, trigger="retry")
    last = done(conn, job, "failed", t0 + 3 * MIN, attempt=3, trigger="retry")
    evaluate_alerts(conn, t0 + 4 * MIN, S)
    [a] = alerts(conn)
    assert (a["kind"], a["run_id"], a["count"]) == ("failed", last.id, 1)


def test_failed_each_and_off(conn, t0):
    each, off = make_job(conn, max_retries=2), make_job(conn, max_retries=0)
    rules(conn, each, failed="each")
    rules(conn, off, failed="off")
    done(conn, each, "failed", t0, attempt=1)
    done(conn, off, "failed", t0, attempt=1)
    evaluate_alerts(conn, t0 + MIN, S)
    assert [(a["scheduled_job_id"], a["kind"]) for a in alerts(conn)] == [(each.id, "failed")]


def test_n_consecutive_failures(conn, t0):
    job = make_job(conn, max_retries=0)
    rules(conn, job, consecutive_failures=3, failed="off")
    done(conn, job, "completed", t0)
    done(conn, job, "failed", t0 + MIN)
    done(conn, job, "failed", t0 + 2 * MIN)
    evaluate_alerts(conn, t0 + 2 * MIN, S)
    assert alerts(conn) == []
    third = done(conn, job, "failed", t0 + 3 * MIN)
    evaluate_alerts(conn, t0 + 3 * MIN, S)
    [a] = alerts(conn)
    assert (a["kind"], a["run_id"]) == ("consecutive_failures", third.id)
    done(conn, job, "failed", t0 + 4 * MIN)
    evaluate_alerts(conn, t0 + 4 * MIN, S)
    assert [(a["kind"], a["count"]) for a in alerts(conn)] == [("consecutive_failures", 2)]


def test_slow_against_p95(conn, t0):
    slow_job, ok_job, young = make_job(conn), make_job(conn), make_job(conn)
    for job in (slow_job, ok_job, young):
        rules(conn, job, slow_factor=2)
    for i in range(5):
        done(conn, slow_job, "completed", t0 + i * MIN, seconds=10)
        done(conn, ok_job, "completed", t0 + i * MIN, seconds=10)
    for i in range(4):
        done(conn, young, "completed", t0 + i * MIN, seconds=10)
    slow = done(conn, slow_job, "completed", t0 + 10 * MIN, seconds=25)
    done(conn, ok_job, "completed", t0 + 10 * MIN, seconds=19)
    done(conn, young, "completed", t0 + 10 * MIN, seconds=100)  # 4 runs before: too few to judge
    evaluate_alerts(conn, t0 + 11 * MIN, S)
    [a] = alerts(conn)
    assert (a["scheduled_job_id"], a["kind"], a["run_id"], a["resolved_at"]) == (slow_job.id, "slow", slow.id, None)
    assert p95([1, 2, 3, 4, 100]) == 100 and p95([float(i) for i in range(1, 21)]) == 19


def test_recovered_closes_and_queues_resolved_deliveries(conn, t0):
    job = make_job(conn, max_retries=0)
    channel = alert_channels.insert(conn, customer_id=job.customer_id, kind="email", target="ops@example.com",
                                    secret_name=None)
    alert_channels.insert(conn, customer_id=None, kind="email", target="all@example.com", secret_name=None)
    other = alert_channels.insert(conn, customer_id=make_job(conn).customer_id, kind="email",
                                  target="x@example.com", secret_name=None)
    done(conn, job, "failed", t0)
    evaluate_alerts(conn, t0 + MIN, S)
    good = done(conn, job, "completed", t0 + 2 * MIN)
    result = evaluate_alerts(conn, t0 + 3 * MIN, S)
    [a] = alerts(conn)
    assert result.resolved == 1
    assert (a["resolved_at"], a["resolved_by_run_id"]) == (t0 + 3 * MIN, good.id)
    deliveries = conn.execute("SELECT channel_id, event FROM alert_deliveries ORDER BY id").fetchall()
    assert sorted((d["event"], d["channel_id"] == channel["id"]) for d in deliveries) == [
        ("opened", False), ("opened", True), ("resolved", False), ("resolved", True)]
    assert other["id"] not in {d["channel_id"] for d in deliveries}
    evaluate_alerts(conn, t0 + 3 * MIN + dt.timedelta(seconds=1), S)  # the failure read again: not reopened
    assert len(alerts(conn)) == 1


def test_a_failure_already_followed_by_success_opens_nothing(conn, t0):
    job = make_job(conn, max_retries=0)
    done(conn, job, "failed", t0)
    done(conn, job, "completed", t0 + MIN)
    evaluate_alerts(conn, t0 + 2 * MIN, S)
    assert alerts(conn) == []


def test_counted_by_kind(conn, t0):
    job = make_job(conn, max_retries=0)
    done(conn, job, "failed", t0)
    evaluate_alerts(conn, t0 + MIN, S)
    totals = {(t.name, tuple(t.labels.items())): t.value for t in counters.totals(conn)}
    assert totals[(counters.ALERTS_OPENED, (("kind", "failed"),))] == 1


def test_one_alert_per_incident_with_three_concurrent_evaluators(dsn, conn, t0):
    jobs = [make_job(conn, max_retries=0) for _ in range(3)]
    for job in jobs:
        done(conn, job, "failed", t0)
        make_run(conn, job, trigger="schedule", scheduled_for=t0 - 10 * MIN, run_after=t0 - 10 * MIN, now=t0)
    for exclusive in (False, True):
        barrier = threading.Barrier(3)
        errors: list[BaseException] = []

        def evaluate(exclusive=exclusive, barrier=barrier, errors=errors):
            try:
                with connect(dsn, autocommit=True) as c:
                    barrier.wait()
                    evaluate_alerts(c, t0 + MIN, S, exclusive=exclusive)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=evaluate) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        rows = alerts(conn)
        assert sorted((a["kind"], a["count"]) for a in rows) == [("failed", 1)] * 3 + [("late", 1)] * 3
        opened = conn.execute("SELECT count(*) AS n FROM alert_deliveries").fetchone()["n"]
        assert opened == 0  # no channels: nothing queued
        totals = {tuple(t.labels.items()): t.value for t in counters.totals(conn) if t.name == counters.ALERTS_OPENED}
        assert totals == {(("kind", "failed"),): 3, (("kind", "late"),): 3}


def test_the_scheduler_loop_evaluates_each_pass(dsn, conn, t0):
    job = make_job(conn)
    make_run(conn, job, trigger="schedule", scheduled_for=t0, run_after=t0, now=t0)
    scheduler = SchedulerLoop(dsn, Settings(database_url=dsn, data_dir="."), clock=FixedClock(t0 + 6 * MIN))
    try:
        scheduler.run_once()
    finally:
        scheduler.close()
    assert [a["kind"] for a in alerts(conn)] == ["late"]


def test_alert_step_never_raises(conn, t0, monkeypatch, caplog):
    monkeypatch.setenv("CRONKEEPER_ALERT_RULES", '{"late_grace_seconds": "soon"}')
    assert alert_step(conn, t0) is None
    assert "alerts_failed" in caplog.text
    monkeypatch.delenv("CRONKEEPER_ALERT_RULES")
    assert alert_step(conn, t0) is not None


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_evaluators_reads_use_their_indexes(conn, t0):
    job, crowd = make_job(conn), make_job(conn)  # the crowd: 20,000 runs of another job
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at, worker_id)
        SELECT %(job)s, %(customer)s, %(brand)s, 'scoring', 'schedule', 'completed',
               %(t0)s - g * interval '1 minute', %(t0)s - g * interval '1 minute',
               %(t0)s - g * interval '1 minute', %(t0)s - g * interval '1 minute' + interval '5 seconds', 'w'
        FROM generate_series(1, 20000) g
        """,
        {"job": crowd.id, "customer": crowd.customer_id, "brand": crowd.brand_id, "t0": t0},
    )
    conn.execute("ANALYZE job_runs")
    q = load("alerts")

    def plan(name, params):
        rows = conn.execute(b"EXPLAIN " + q[name], params).fetchall()
        return plan_text(rows)

    assert "job_runs_finished_idx" in plan("finished_since", {"since": t0 - MIN, "now": t0, "limit": 5000})
    late = plan("late_candidates", {"now": t0, "after": t0 - MIN, "limit": 5000})
    assert "Seq Scan on job_runs" not in late and "job_runs_" in late  # a partial index of pending runs
    assert "job_runs_job_idx" in plan("job_history", {"job_id": job.id, "run_id": 10**9, "limit": 60})
