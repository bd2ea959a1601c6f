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


def test_api_list_pages_use_the_index_of_their_filter(conn, t0):
    """Each filter combination is its own statement, so a bound filter reaches its index."""
    from cronkeeper.repo.pages import _statement
    from tests.factories import make_job

    brand, crowd = make_brand(conn), make_brand(conn)
    job, busy = make_job(conn, brand), make_job(conn, crowd)
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at, worker_id)
        SELECT %(job)s, %(customer)s, %(brand)s, 'scoring', 'schedule', 'completed',
               %(t0)s + g * interval '1 minute', %(t0)s + g * interval '1 minute',
               %(t0)s + g * interval '1 minute', %(t0)s + g * interval '1 minute', 'w'
        FROM generate_series(1, 5000) g
        """,
        {"job": busy.id, "customer": crowd.customer_id, "brand": crowd.id, "t0": t0},
    )  # the crowd: 5,000 runs of another customer's job; ours has none, so its filters are selective
    conn.execute("ANALYZE job_runs")
    params = {"customer_id": brand.customer_id, "brand_id": brand.id, "job_id": job.id, "status": "failed",
              "job_type": "scoring", "before_id": 100, "limit": 51}  # fmt: skip
    expected = {
        "customer_id": "job_runs_customer_idx", "brand_id": "job_runs_brand_idx", "job_id": "job_runs_job_idx",
        "status": "job_runs_status_idx", "before_id": "job_runs_pkey", (): "job_runs_pkey",
    }  # fmt: skip
    for given, index in expected.items():
        statement = _statement("runs_page", (given,) if given else ())
        assert index in _plan(conn, statement, params), (given, index)
    plan = _plan(conn, _statement("jobs_page", ("customer_id",)), {"customer_id": brand.customer_id, "limit": 51})
    assert "scheduled_jobs_customer_idx" in plan
    assert "scheduled_jobs_created_idx" in _plan(conn, _statement("jobs_page", ()), {"limit": 51})
