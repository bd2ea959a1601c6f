"""The poll queries use their indexes (EXPLAIN on a table big enough to matter)."""

import datetime as dt

from cronkeeper.repo.queries import load
from tests.factories import make_brand


def _plan(conn, query, params):
    conn.execute("SET enable_seqscan = off")
    rows = conn.execute(b"EXPLAIN " + query, params).fetchall()
    return "\n".join(r["QUERY PLAN"] for r in rows)


def test_due_jobs_and_claim_use_partial_indexes(conn, t0):
    brand = make_brand(conn)
    conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, job_type, schedule_kind, cron_expression,
                                    next_run_at, is_active)
        SELECT %s, %s, 'scoring', 'cron', '* * * * *', %s + g * interval '1 minute', g %% 10 <> 0
        FROM generate_series(1, 5000) g
        """,
        (brand.customer_id, brand.id, t0),
    )
    conn.execute("ANALYZE scheduled_jobs")
    plan = _plan(conn, load("scheduled_jobs")["lock_due_jobs"], {"now": t0, "limit": 100})
    assert "scheduled_jobs_due_idx" in plan
    plan = _plan(
        conn,
        load("job_runs")["claim_runs"],
        {"now": t0, "limit": 10, "worker_id": "w", "lease_until": t0 + dt.timedelta(seconds=30)},
    )
    assert "job_runs_pending_idx" in plan
    plan = _plan(conn, load("job_runs")["lock_expired_runs"], {"now": t0, "limit": 10})
    assert "job_runs_lease_idx" in plan
