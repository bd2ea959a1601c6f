"""The hot paths on partitioned history (migration 0025): no query reads a partition's heap whole.

A year of monthly partitions plus the default, runs in each, analyzed. By-id statements
(finish, heartbeat, the run page) carry no slot, so they probe each partition's primary
key once: bounded by the months kept, and measured in docs/partitioning.md. The slot key
(the tick's ON CONFLICT), everything keyed by a slot, and the worker's batched write-back
(each outcome with its run's slot) reach one partition."""

import datetime as dt
import json
import re

import pytest

from cronkeeper.repo import run_partitions
from cronkeeper.repo.pages import _statement
from cronkeeper.repo.queries import load
from tests.support.factories import make_brand, make_job
from tests.support.plans import function_plans, plan_text

MONTHS = 12
START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _plan(conn, query, params) -> str:
    conn.execute("SET enable_seqscan = off")
    return plan_text(conn.execute(b"EXPLAIN " + query, params).fetchall())


def _partitions(conn) -> int:
    return len(run_partitions.listing(conn))


@pytest.fixture
def year(conn):
    """12 months of runs (a job's 1,000 per month, another's 1,000), pending runs in the last month."""
    for i in range(MONTHS):
        run_partitions.ensure(conn, run_partitions.add_months(START, i))
    brand, crowd = make_brand(conn), make_brand(conn)
    job, busy = make_job(conn, brand), make_job(conn, crowd)
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at, worker_id)
        SELECT j.id, j.customer_id, j.brand_id, 'scoring', 'schedule',
               CASE WHEN t < %(last)s THEN 'completed' ELSE 'pending' END, t, t,
               CASE WHEN t < %(last)s THEN t END, CASE WHEN t < %(last)s THEN t END,
               CASE WHEN t < %(last)s THEN 'w' END
        FROM scheduled_jobs j, generate_series(%(start)s, %(end)s, interval '22 minutes') t
        WHERE j.id IN (%(job)s, %(busy)s)
        """,
        {"start": START, "end": run_partitions.add_months(START, MONTHS) - dt.timedelta(minutes=1),
         "last": run_partitions.add_months(START, MONTHS - 1), "job": job.id, "busy": busy.id},
    )  # fmt: skip
    conn.execute("ANALYZE job_runs")
    row = conn.execute("SELECT id, scheduled_for FROM job_runs ORDER BY id LIMIT 1 OFFSET 5000").fetchone()
    return {"job": job, "busy": busy, "brand": brand, "run": row}


@pytest.mark.slow  # over 0.5 s: creates 12 months of partitions and 50,000 runs
def test_hot_paths_never_scan_a_partition_and_probe_each_at_most_once(conn, year):
    parts = _partitions(conn)
    assert parts >= MONTHS + 1  # this year's, the default, the months of the template (conftest)
    t = START + dt.timedelta(days=340)
    run = year["run"]
    by_id = {"id": run["id"], "slot": run["scheduled_for"], "customer_id": None, "worker_id": "w",
             "status": "completed", "now": t, "metrics": "{}", "error_message": None, "failure_code": None,
             "lease_until": t}  # fmt: skip
    q = load("job_runs")
    for name in ("finish_run", "get_run", "progress_checkpoint", "is_cancel_requested", "claim_run"):
        # the worker's own statements run in functions (migration 0032) on one generic plan, given the run's
        # slot: pruned to its month when the plan starts, one probe (the plan each ran, read by auto_explain)
        in_function = name in ("progress_checkpoint", "finish_run", "is_cancel_requested")
        plan = function_plans(conn, q[name], by_id) if in_function else _plan(conn, q[name], by_id)
        assert "Seq Scan" not in plan, (name, plan)
        # one index probe per partition at most: its primary key, or a partial index of a few rows
        probes = len(re.findall(r"Index (?:Only )?Scan using \w+ on job_runs ", plan))
        assert 1 <= probes <= (1 if in_function else parts), (name, probes, plan)
    # the worker's claim and the lease rescue: their partial indexes, nothing scanned whole
    claim = {"now": t, "limit": 10, "worker_id": "w", "lease_until": t + dt.timedelta(seconds=30)}
    for name in ("claim_runs", "lock_expired_runs", "next_run_after", "oldest_pending"):
        plan = function_plans(conn, q[name], claim) if name == "claim_runs" else _plan(conn, q[name], claim)
        assert "Seq Scan on job_runs" not in plan, (name, plan)  # (a job with many pending runs: bitmap reads of them)
    # keyset lists by id: one index walk per partition merged in id order, never a sort of the job's runs
    params = {"customer_id": year["brand"].customer_id, "brand_id": year["brand"].id, "job_id": year["job"].id,
              "before_id": run["id"], "limit": 51}  # fmt: skip
    for given, index in {("job_id", None): "job_runs_job_idx", ("customer_id", None): "job_runs_customer_idx",
                         ("before_id", None): "job_runs_pkey"}.items():  # fmt: skip
        plan = _plan(conn, _statement("runs_page", (given,)), params)
        assert index in plan and "Seq Scan" not in plan, (given, plan)
        assert not re.search(r"^\s*(->\s*)?Sort  \(", plan, re.M), (given, plan)


@pytest.mark.slow  # over 0.5 s: creates 12 months of partitions and 50,000 runs
def test_statements_keyed_by_a_slot_reach_one_partition(conn, year):
    job, run = year["job"], year["run"]
    slot = run["scheduled_for"]
    plan = plan_text(conn.execute(
        "EXPLAIN INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, scheduled_for,"
        " run_after) VALUES (%s, %s, %s, 'scoring', 'schedule', %s, %s)"
        " ON CONFLICT (scheduled_job_id, scheduled_for) WHERE trigger = 'schedule' DO NOTHING",
        (job.id, job.customer_id, job.brand_id, slot, slot),
    ).fetchall())  # fmt: skip
    assert "Conflict Arbiter Indexes: job_runs_slot_key" in plan, plan
    plan = _plan(conn, b"UPDATE job_runs SET heartbeat_at = now() WHERE id = %(id)s AND scheduled_for = %(s)s",
                 {"id": run["id"], "s": slot})
    assert len(re.findall(r"using job_runs_pkey on job_runs", plan)) == 1, plan  # pruned to its month
    got = conn.execute(
        "INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, scheduled_for, run_after)"
        " SELECT scheduled_job_id, customer_id, brand_id, job_type, trigger, scheduled_for, run_after"
        " FROM job_runs WHERE id = %s ON CONFLICT (scheduled_job_id, scheduled_for) WHERE trigger = 'schedule'"
        " DO NOTHING RETURNING id", (run["id"],),
    ).fetchall()  # fmt: skip
    assert got == []  # the slot is taken: exactly once, across partitions as before


@pytest.mark.slow  # over 0.5 s: creates 12 months of partitions and 50,000 runs
def test_a_batch_of_outcomes_reaches_only_the_months_of_its_runs(conn, year):
    """The worker's write-back (finish_runs): each outcome carries its run's slot, so when the
    outcomes are looked up one by one (the plan of a big batch among many processing runs) each
    lookup is pruned to its run's month at run time. (With few processing runs the planner
    hashes them instead: read through each month's partial index of active runs.)"""
    conn.execute("UPDATE job_runs SET status = 'processing', worker_id = 'w', started_at = run_after, "
                 "heartbeat_at = run_after, lease_expires_at = run_after + interval '1 hour' WHERE status = 'pending'")
    conn.execute("ANALYZE job_runs")
    run = conn.execute("SELECT id, scheduled_for FROM job_runs WHERE status = 'processing' LIMIT 1").fetchone()
    t = run["scheduled_for"] + dt.timedelta(minutes=1)
    outcomes = json.dumps([[run["id"], run["scheduled_for"].isoformat(), "completed", t.isoformat(), {}, None]])
    conn.execute("SET enable_hashjoin = off; SET enable_mergejoin = off")
    # ck_finish_runs (migration 0032) runs it on one generic plan: the plan it runs, rolled back
    plan = function_plans(conn, load("job_runs")["finish_runs"], {"outcomes": outcomes, "worker_id": "w"},
                          analyze=True)  # fmt: skip
    assert "Nested Loop" in plan, plan
    ran = [line for line in plan.splitlines() if re.search(r"Scan .*\bon job_runs ", line) and "never executed" not in line]
    assert len(ran) == 1 and re.search(r"rows=1(\.00)? ", ran[0]), plan  # one month's primary key, the run found in it
    assert conn.execute(load("job_runs")["finish_runs"], {"outcomes": outcomes, "worker_id": "w"}).fetchall() == [
        {"id": run["id"]}]  # fmt: skip
    assert conn.execute("SELECT status FROM job_runs WHERE id = %s", (run["id"],)).fetchone()["status"] == "completed"
