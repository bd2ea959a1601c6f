"""The charts' aggregates read through indexes, never the whole table (EXPLAIN on enough rows to
matter; the same plans were checked at 1,000,000 runs on PostgreSQL 15, see docs)."""

from __future__ import annotations

import datetime as dt

from psycopg import sql

from cronkeeper.repo import run_stats
from cronkeeper.repo.queries import load
from tests.support.factories import make_brand, make_job


def _plan(conn, query, params) -> str:
    conn.execute("SET enable_seqscan = off")
    if isinstance(query, bytes):
        query = sql.SQL(query.decode())
    rows = conn.execute(sql.SQL("EXPLAIN ") + query, params).fetchall()
    return "\n".join(r["QUERY PLAN"] for r in rows)


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
