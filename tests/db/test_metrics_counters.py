"""/metrics: counters kept in the database that only go up, cheap gauges, HTTP metrics, the token."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cronkeeper.api.metrics import MetricsConfig
from cronkeeper.clock import FixedClock
from cronkeeper.db import make_pool
from cronkeeper.errors import ConfigurationError
from cronkeeper.models import RunStatus
from cronkeeper.repo import counters
from cronkeeper.repo.queries import load
from cronkeeper.repo.runs import claim_runs
from cronkeeper.services.scheduler.pruner import Pruner
from cronkeeper.services.worker.completer import Completer
from cronkeeper.services.worker.executor import RunOutcome
from cronkeeper.services.worker.rescuer import rescue_expired
from cronkeeper.settings import Settings
from tests.support.api import api_client
from tests.support.factories import make_job, make_run
from tests.support.plans import plan_text

S = dt.timedelta(seconds=1)
DC = "data_collection"


@pytest.fixture(autouse=True)
def no_cache(monkeypatch):
    monkeypatch.delenv("CRONKEEPER_METRICS_TOKEN", raising=False)
    monkeypatch.setenv("CRONKEEPER_METRICS_CACHE_SECONDS", "0")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, parsed by prometheus_client's own parser: (name, labels) -> value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(dsn, t0, **headers) -> dict:
    with api_client(dsn, FixedClock(t0), token=False) as api:
        r = api.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    return samples(r.text)


def work_through_runs(dsn, conn, t0) -> None:
    """A worker's outcomes: completed (with calls and a webhook), partial, failed (retried); a rescued lease."""
    job = make_job(conn, job_type=DC, max_retries=1, retry_delay=0)
    for _ in range(3):
        make_run(conn, job, now=t0)
    make_run(conn, job, status="processing", worker_id="gone", started_at=t0 - 90 * S,
             lease_expires_at=t0 - S, now=t0 - 90 * S)  # fmt: skip
    done = {
        "calls_by_collector": {"chatgpt": {"ok": 2, "failed": 1}, "perplexity": {"ok": 3, "failed": 0}},
        "webhook": {"ok": True, "attempts": 1, "status_code": 200},
    }
    with make_pool(dsn, max_size=2) as pool:
        with pool.connection() as c:
            ok, half, bad = claim_runs(c, "w1", t0, 10, lease_seconds=30)
        completer = Completer(pool, "w1", FixedClock(t0 + 3 * S), rng=random.Random(1), batch=True)
        completer.submit(ok, RunOutcome(RunStatus.COMPLETED, done))
        completer.submit(half, RunOutcome(RunStatus.PARTIAL, {"webhook_error": "ConnectError: refused"}))
        assert completer.submit(bad, RunOutcome(RunStatus.FAILED, {}, "boom")).retry_run_id is not None
        assert completer.flush() == 2
    assert rescue_expired(conn, t0, rng=random.Random(1)).retried == 1


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_counters_count_where_events_happen_and_pruning_takes_nothing_from_them(dsn, conn, t0):
    work_through_runs(dsn, conn, t0)
    before = scrape(dsn, t0 + 4 * S)
    finished = "cronkeeper_runs_finished_total"
    assert value(before, finished, status="completed", job_type=DC) == 1
    assert value(before, finished, status="partial", job_type=DC) == 1
    assert value(before, finished, status="failed", job_type=DC) == 2  # the completer's and the rescuer's
    assert value(before, "cronkeeper_run_retries_total", job_type=DC) == 2
    assert value(before, "cronkeeper_lease_expiries_total", job_type=DC) == 1
    assert value(before, "cronkeeper_collector_calls_total", collector="chatgpt", outcome="ok") == 2
    assert value(before, "cronkeeper_collector_calls_total", collector="chatgpt", outcome="failed") == 1
    assert value(before, "cronkeeper_collector_calls_total", collector="perplexity", outcome="ok") == 3
    assert value(before, "cronkeeper_webhook_deliveries_total", outcome="delivered") == 1
    assert value(before, "cronkeeper_webhook_deliveries_total", outcome="failed") == 1
    hist = "cronkeeper_run_duration_seconds"
    assert value(before, hist + "_count", job_type=DC) == 3  # the worker's three outcomes, 3 s each
    assert value(before, hist + "_sum", job_type=DC) == 9.0
    assert value(before, hist + "_bucket", job_type=DC, le="1.0") == 0
    assert value(before, hist + "_bucket", job_type=DC, le="5.0") == 3
    assert value(before, hist + "_bucket", job_type=DC, le="+Inf") == 3
    assert value(before, "cronkeeper_queue_depth", status="pending") == 2  # the two retries

    later = t0 + dt.timedelta(days=40)
    pruned = Pruner(Settings(database_url=None, data_dir=".", retention_days=30)).run_once(conn, later)
    assert pruned.by_age == 4
    assert conn.execute("SELECT count(*) AS n FROM job_runs WHERE finished_at IS NOT NULL").fetchone()["n"] == 0
    after = scrape(dsn, later)
    counter_names = ("_total", "_bucket", "_count", "_sum")
    went_down = {
        key: (v, after.get(key)) for key, v in before.items()
        if key[0].startswith("cronkeeper_") and key[0].endswith(counter_names) and after.get(key, -1) < v
    }  # fmt: skip
    assert not went_down
    assert value(after, finished, status="failed", job_type=DC) == 2


def test_a_lost_outcome_is_counted_as_lost_not_finished(dsn, conn, t0):
    job = make_job(conn, job_type=DC, max_retries=0)
    make_run(conn, job, now=t0)
    with make_pool(dsn, max_size=1) as pool:
        with pool.connection() as c:
            [claimed] = claim_runs(c, "w1", t0, 1, lease_seconds=5)
        rescue_expired(conn, t0 + 10 * S)
        Completer(pool, "w1", FixedClock(t0 + 11 * S)).submit(claimed, RunOutcome(RunStatus.COMPLETED, {}))
    got = scrape(dsn, t0)
    assert value(got, "cronkeeper_runs_lost_total", job_type=DC) == 1
    assert value(got, "cronkeeper_runs_finished_total", status="completed", job_type=DC) == 0
    assert value(got, "cronkeeper_runs_finished_total", status="failed", job_type=DC) == 1


def test_shards_are_summed_and_one_batch_is_one_row_per_counter(conn):
    for shard in (0, 3, 7, 3):
        counts = counters.Counts()
        counts.add(counters.RUNS_FINISHED, 2, status="completed", job_type=DC)
        counts.add(counters.RUNS_FINISHED, 1, job_type=DC, status="completed")  # same labels, other order
        counts.add(counters.RUNS_LOST, 0, job_type=DC)  # nothing
        counters.add(conn, counts, shard_no=shard)
    assert [(t.name, t.labels, t.value) for t in counters.totals(conn)] == [
        (counters.RUNS_FINISHED, {"job_type": DC, "status": "completed"}, 12)
    ]
    rows = conn.execute("SELECT shard, value FROM cronkeeper_counters ORDER BY shard").fetchall()
    assert [(r["shard"], r["value"]) for r in rows] == [(0, 3), (3, 6), (7, 3)]


def test_scrape_parses_and_has_this_processes_http_and_process_metrics(dsn, t0):
    with api_client(dsn, FixedClock(t0), token=False) as api:
        assert api.get("/api/health").status_code in (200, 503)
        assert api.get("/no/such/page").status_code == 404
        assert api.get("/api/admin/scheduled-jobs").status_code == 401
        text = api.get("/metrics").text
    got = samples(text)
    requests = "cronkeeper_http_requests_total"
    assert value(got, requests, method="GET", route="/api/health", status="503") + value(
        got, requests, method="GET", route="/api/health", status="200"
    ) == 1
    assert value(got, requests, method="GET", route="unmatched", status="404") == 1
    assert value(got, requests, method="GET", route="/api/admin/scheduled-jobs", status="401") == 1
    assert value(got, "cronkeeper_http_request_duration_seconds_count", method="GET", route="unmatched") == 1
    assert value(got, "process_cpu_seconds_total") > 0 and value(got, "process_open_fds") > 0
    assert value(got, "cronkeeper_queue_depth", status="processing") == 0


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_token_guards_metrics_when_set(dsn, t0, monkeypatch):
    monkeypatch.setenv("CRONKEEPER_METRICS_TOKEN", "s3cret-metrics")
    with api_client(dsn, FixedClock(t0)) as api:  # sends an admin API token: not the metrics token
        r = api.get("/metrics")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert "CRONKEEPER_METRICS_TOKEN" in r.json()["message"]
        api.client.headers.pop("Authorization")
        assert api.get("/metrics").status_code == 401
        assert api.get("/metrics", headers={"Authorization": "Bearer s3cret-metricsX"}).status_code == 401
        assert api.get("/metrics", headers={"Authorization": "Basic s3cret-metrics"}).status_code == 401
        r = api.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
        assert r.status_code == 200 and "cronkeeper_queue_depth" in r.text
        assert api.get("/api/health").status_code in (200, 503)  # the health route stays open


def test_the_database_part_is_read_once_per_cache_period(dsn, conn, t0, monkeypatch):
    monkeypatch.setenv("CRONKEEPER_METRICS_CACHE_SECONDS", "600")
    job = make_job(conn)
    with api_client(dsn, FixedClock(t0), token=False) as api:
        first = samples(api.get("/metrics").text)
        make_run(conn, job, now=t0)
        cached = samples(api.get("/metrics").text)
    assert value(first, "cronkeeper_queue_depth", status="pending") == 0
    assert value(cached, "cronkeeper_queue_depth", status="pending") == 0  # not read again yet
    assert value(scrape(dsn, t0), "cronkeeper_queue_depth", status="pending") == 1  # cache 0: read


@pytest.mark.parametrize("raw", ["soon", "-1", "99999"])
def test_a_bad_cache_setting_names_the_variable(raw):
    with pytest.raises(ConfigurationError, match="CRONKEEPER_METRICS_CACHE_SECONDS"):
        MetricsConfig.from_env({"CRONKEEPER_METRICS_CACHE_SECONDS": raw})
    assert MetricsConfig.from_env({}).cache_seconds == 5.0 and MetricsConfig.from_env({}).token is None


@pytest.mark.slow  # a few seconds: the full suite only
def test_no_gauge_scans_job_runs(conn, t0):
    """The gauges' plans on 200,000 finished runs with a small queue: partial indexes, no Seq Scan."""
    job = make_job(conn, next_run_at=t0 - 60 * S)
    params = {"job": job.id, "customer": job.customer_id, "brand": job.brand_id, "t0": t0}
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at, worker_id, lease_expires_at)
        SELECT %(job)s, %(customer)s, %(brand)s, 'scoring', 'manual', s,
               %(t0)s - g * interval '1 second', %(t0)s - g * interval '1 second',
               CASE WHEN s <> 'pending' THEN %(t0)s END,
               CASE WHEN s NOT IN ('pending', 'processing') THEN %(t0)s END,
               CASE WHEN s <> 'pending' THEN 'w' END,
               CASE WHEN s = 'processing' THEN %(t0)s + interval '1 minute' END
        FROM generate_series(1, 200000) g,
             LATERAL (SELECT CASE WHEN g %% 1000 = 0 THEN 'pending' WHEN g %% 1000 = 1 THEN 'processing'
                                  ELSE 'completed' END AS s) st
        """,
        params,
    )
    conn.execute("ANALYZE job_runs")
    conn.execute("ANALYZE scheduled_jobs")
    runs, jobs = load("job_runs"), load("scheduled_jobs")
    queue_indexes = ("job_runs_pending_idx", "job_runs_active_idx", "job_runs_lease_idx")  # all partial
    for query, args, indexes in (
        (runs["count_by_status"], {}, queue_indexes),
        (runs["oldest_pending"], {"now": t0}, queue_indexes),
    ):
        plan = plan_text(conn.execute(b"EXPLAIN " + query, args).fetchall())
        assert "Seq Scan on job_runs" not in plan, plan
        scans = [line for line in plan.splitlines() if " on job_runs" in line and "Empty Scan" not in line]  # (empty months)
        assert scans and all(any(i in line for i in indexes) for line in scans), plan
    conn.execute("SET enable_seqscan = off")  # one job here: the planner may read it whole; it can use the index
    plan = plan_text(conn.execute(b"EXPLAIN " + jobs["count_due"], {"now": t0}))
    assert "scheduled_jobs_due_idx" in plan, plan
    plan = plan_text(conn.execute(b"EXPLAIN " + load("cronkeeper_counters")["totals"]))
    assert "job_runs" not in plan
