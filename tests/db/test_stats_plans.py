"""The charts' aggregates read through indexes, never the whole table (EXPLAIN on enough rows to
matter; the same plans were checked at 1,000,000 runs on PostgreSQL 15, see docs)."""

from __future__ import annotations

import datetime as dt

import pytest
from psycopg import sql

from cronkeeper.repo import run_stats
from cronkeeper.repo.queries import load
from tests.support.factories import make_brand, make_job
from tests.support.plans import plan_text


def _plan(conn, query, params) -> str:
    conn.execute("SET enable_seqscan = off")
    if isinstance(query, bytes):
        query = sql.SQL(query.decode())
    rows = conn.execute(sql.SQL("EXPLAIN ") + query, params).fetchall()
    return plan_text(rows)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_run_stats_and_brand_days_use_their_scope_index(conn, t0):
    brand = make_brand(conn)
    jobs = [make_job(conn, brand) for _ in range(20)]
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at, created_at)
        SELECT j, %s, %s, 'data_collection', 'schedule', 'completed', t, t, t, t + interval '5 s', t
        FROM unnest(%s::uuid[]) j, generate_series(1, 500) g,
             LATERAL (SELECT %s - g * interval '5 minutes' AS t) x
        """,
        (brand.customer_id, brand.id, [j.id for j in jobs], t0),
    )
    conn.execute("ANALYZE job_runs")
    base = {"bucket": "hour", "timezone": "UTC", "start": t0 - dt.timedelta(hours=2), "end": t0,
            "job_id": jobs[0].id, "customer_id": None}  # fmt: skip
    plan = _plan(conn, run_stats._scoped("run_buckets", "job"), base)
    assert "job_runs_job_idx" in plan and "Seq Scan" not in plan, plan
    plan = _plan(conn, run_stats._scoped("run_buckets", "all"), base)
    assert "job_runs_created_idx" in plan and "Seq Scan" not in plan, plan
    plan = _plan(conn, run_stats._scoped("run_buckets", "customer"), {**base, "customer_id": brand.customer_id})
    assert "Seq Scan" not in plan, plan
    params = {"brand_id": brand.id, "start": base["start"], "end": t0, "timezone": "UTC"}
    for name in ("brand_days", "brand_competitor_days"):
        plan = _plan(conn, load("answer_scores")[name], params)
        # the brand's runs by its index, or the range's by job_runs_created_idx when fewer
        assert ("job_runs_brand_idx" in plan or "job_runs_created_idx" in plan) and "Seq Scan" not in plan, plan


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_rollup_reads_runs_by_creation_time_and_its_slots_by_key(conn, t0):
    """cronkeeper/stats_rollup.py: a recount reads its slots' runs through job_runs_created_idx; a chart
    reads one scope's slots through the primary key, a recount clears customers' rows by slot."""
    from cronkeeper import stats_rollup
    from cronkeeper.repo.run_stats import EVERY_RUN, Q

    jobs = [make_job(conn, make_brand(conn)) for _ in range(20)]  # 20 customers: a slot has 21 rows
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at, created_at)
        SELECT j.id, j.customer_id, j.brand_id, 'scoring', 'schedule', 'completed', t, t, t, t + interval '5 s', t
        FROM scheduled_jobs j, generate_series(1, 500) g, LATERAL (SELECT %s - g * interval '20 minutes' AS t) x
        """,
        (t0,),
    )
    one = jobs[0]
    week = t0 - dt.timedelta(days=7)
    stats_rollup.buckets(conn, starts=[], start=week, end=t0, bucket="hour", timezone="UTC", now=t0)
    conn.execute("ANALYZE job_runs")
    conn.execute("ANALYZE run_stats_slots")
    hour = {"start": t0 - dt.timedelta(hours=1), "end": t0, "now": t0}
    plan = _plan(conn, Q["count_slots"], hour)
    assert "job_runs_created_idx" in plan and "Seq Scan on job_runs" not in plan, plan
    assert "run_stats_slots_slot_idx" in _plan(conn, Q["clear_slots"], hour)
    # one scope's slots: its range of the key, not every scope's
    week = {**hour, "start": week, "head_end": week, "tail_start": week, "final_after": dt.timedelta(minutes=35)}
    assert "run_stats_slots_pkey" in _plan(conn, Q["slot_states"], week)
    for scope in (EVERY_RUN, one.customer_id):
        plan = _plan(conn, Q["slot_buckets"], {**week, "bucket": "day", "timezone": "UTC", "scope": scope})
        assert "run_stats_slots_pkey" in plan and "Seq Scan" not in plan, plan
    plan = _plan(conn, Q["stored_days"], {**week, "timezone": "UTC", "scope": EVERY_RUN})
    assert "run_stats_days_pkey" in plan, plan


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_collector_figures_read_answers_of_their_runs_only(conn, t0):
    """GET /system/collectors: the answers of the newest finished runs by collected_answers_run_idx, one
    run at a time; a hash join read the whole table (every answer ever collected) on each request."""
    brand = make_brand(conn)
    job = make_job(conn, brand)
    conn.execute(
        """
        WITH runs AS (
            INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                                  scheduled_for, run_after, started_at, finished_at, created_at)
            SELECT %(job)s, %(customer)s, %(brand)s, 'data_collection', 'schedule', 'completed', t, t, t, t, t
            FROM generate_series(1, 2000) g, LATERAL (SELECT %(t0)s - g * interval '1 minute' AS t) x
            RETURNING id, scheduled_for
        )
        INSERT INTO collected_answers (run_id, run_scheduled_for, brand_id, query, collector, answer, latency_ms)
        SELECT runs.id, runs.scheduled_for, %(brand)s, 'q', 'openai', 'a', 100 FROM runs, generate_series(1, 10)
        """,
        {"job": job.id, "customer": brand.customer_id, "brand": brand.id, "t0": t0},
    )
    conn.execute("ANALYZE job_runs")
    conn.execute("ANALYZE collected_answers")
    rows = conn.execute(sql.SQL("EXPLAIN ") + sql.SQL(load("job_runs")["collector_stats"].decode()),
                        {"since": t0 - dt.timedelta(hours=1), "customer_id": None, "runs": 2000}).fetchall()  # fmt: skip
    plan = plan_text(rows)
    assert "Index Cond: (run_id = recent" in plan and "Seq Scan on collected_answers" not in plan, plan
    assert "job_runs_finished_idx" in plan, plan
