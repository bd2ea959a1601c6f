"""Seed data for bench_pages.py: 100,000 jobs and 1,000,000 runs spread as a live system has them.

100 customers x 10 brands x 100 jobs. A job runs every 15 minutes, hour, 6 hours
or day (a quarter each, phases spread over the period) and keeps its 10 newest
runs (what per-job retention leaves), so runs reach from the last 2.5 hours
(the 15-minute jobs) to 10 days back, densest in the last hours. Ids follow
creation times. Per run: 86 % completed, 5 % failed, 3 % partial, 2 % cancelled,
4 % skipped; the newest slot of 15-minute jobs holds a few pending and processing
ones; 4 % manual and 3 % retry triggers; durations 2-62 s with a 5 % tail of
10 minutes more. Beside them: alerts (about 20,000), audit events (200,000),
answers and scores for 20 brands (their trends), and a few live processes.
Deterministic: statuses and durations come from hashes of (job, slot).
"""

from __future__ import annotations

import time

import psycopg

CUSTOMERS, BRANDS_PER_CUSTOMER = 100, 10
SCORED_BRANDS = 20
# period of each quarter of the jobs, and the cron expression shown for it
PERIODS = ("'15 minutes'", "'1 hour'", "'6 hours'", "'1 day'")
EXPRESSIONS = ("*/15 * * * *", "0 * * * *", "0 */6 * * *", "0 9 * * *")

JOBS = """
INSERT INTO scheduled_jobs (customer_id, brand_id, name, job_type, schedule_kind, cron_expression,
                            timezone, is_active, next_run_at, last_run_at, created_at, updated_at)
SELECT b.customer_id, b.id, 'job ' || n,
       (ARRAY['data_collection', 'scoring', 'data_collection_and_scoring'])[1 + n %% 3], 'cron',
       (%(exprs)s::text[])[1 + n %% 4], (ARRAY['UTC', 'Europe/Berlin', 'America/New_York'])[1 + n %% 3],
       n %% 10 <> 0,
       CASE WHEN n %% 10 <> 0 THEN x.last + p.period END, x.last,
       now() - interval '30 days' + make_interval(secs => n), now()
FROM (SELECT array_agg(id ORDER BY name) AS ids, array_agg(customer_id ORDER BY name) AS customers FROM brands) a
CROSS JOIN generate_series(1, %(jobs)s) n
CROSS JOIN LATERAL (SELECT a.ids[1 + (n - 1) %% %(brands)s] AS id,
                           a.customers[1 + (n - 1) %% %(brands)s] AS customer_id) b
CROSS JOIN LATERAL (SELECT (ARRAY[{periods}]::interval[])[1 + n %% 4] AS period) p
CROSS JOIN LATERAL (SELECT now() - p.period * (abs(hashint8(n)) %% 1000) / 1000.0 AS last) x
"""

RUNS = """
INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status, skip_reason,
                      scheduled_for, run_after, attempt, worker_id, lease_expires_at, started_at, finished_at,
                      metrics, error_message, failure_code, created_at, updated_at)
SELECT j.id, j.customer_id, j.brand_id, j.job_type, t.trigger, s.status,
       CASE WHEN s.status = 'skipped' THEN 'overlap' END,
       t.slot, t.slot, CASE WHEN t.trigger = 'retry' THEN 2 ELSE 1 END,
       CASE WHEN s.status NOT IN ('pending', 'skipped') THEN 'worker-bench' END,
       CASE WHEN s.status = 'processing' THEN now() + interval '5 minutes' END,
       CASE WHEN s.status NOT IN ('pending', 'skipped') THEN t.slot + interval '1 second' END,
       CASE WHEN s.status NOT IN ('pending', 'processing') THEN t.slot + interval '1 second' + d.dur END,
       CASE WHEN s.status IN ('completed', 'partial')
            THEN jsonb_build_object('answers_collected', 12, 'duration_ms', extract(epoch FROM d.dur) * 1000,
                 'calls_by_collector', jsonb_build_object('openai', jsonb_build_object('ok', 10, 'failed', 0),
                                                          'perplexity', jsonb_build_object('ok', 1, 'failed', 1)))
            ELSE '{{}}'::jsonb END,
       CASE WHEN s.status = 'failed' THEN 'collector timed out' END,
       CASE WHEN s.status = 'failed' THEN 'timeout' END,
       t.slot, t.slot + interval '1 second' + d.dur
FROM (SELECT j.*, row_number() OVER (ORDER BY j.created_at) AS n,
             (ARRAY[{periods}]::interval[])[1 + (row_number() OVER (ORDER BY j.created_at)) %% 4] AS period
      FROM scheduled_jobs j) j
CROSS JOIN generate_series(0, %(runs_per_job)s - 1) k
CROSS JOIN LATERAL (SELECT abs(hashint8(j.n * 64 + k)) %% 1000 AS h,
                           abs(hashint8(j.n * 64 + k + 7777)) %% 1000 AS h2) r
CROSS JOIN LATERAL (SELECT j.last_run_at - j.period * k AS slot,
                           CASE WHEN r.h2 < 40 THEN 'manual' WHEN r.h2 < 70 THEN 'retry' ELSE 'schedule' END AS trigger) t
CROSS JOIN LATERAL (SELECT CASE WHEN k = 0 AND j.period = interval '15 minutes' AND r.h < 20 THEN 'pending'
                                WHEN k = 0 AND j.period = interval '15 minutes' AND r.h < 30 THEN 'processing'
                                WHEN r.h < 80 THEN 'failed' WHEN r.h < 110 THEN 'partial'
                                WHEN r.h < 130 THEN 'cancelled' WHEN r.h < 170 THEN 'skipped'
                                ELSE 'completed' END AS status) s
CROSS JOIN LATERAL (SELECT make_interval(secs => 2 + r.h2 %% 60 + CASE WHEN r.h %% 20 = 0 THEN 600 ELSE 0 END
                                                 + (r.h %% 7) / 10.0) AS dur) d
ORDER BY t.slot
"""

ALERTS = """
INSERT INTO alerts (scheduled_job_id, customer_id, kind, scheduled_for, run_id, message, count,
                    last_run_id, opened_at, last_seen_at, resolved_at, acked_at, acked_by)
SELECT j.id, j.customer_id, (ARRAY['late', 'missed', 'failed', 'consecutive_failures', 'slow'])[1 + g %% 5],
       j.last_run_at, NULL, 'bench alert ' || g, 1 + g %% 4, NULL,
       now() - make_interval(mins => g::int), now() - make_interval(mins => g::int),
       CASE WHEN g %% 3 <> 0 THEN now() - make_interval(mins => g::int) + interval '10 minutes' END,
       CASE WHEN g %% 7 = 0 THEN now() END, CASE WHEN g %% 7 = 0 THEN 'bench' END
FROM (SELECT id, customer_id, last_run_at, row_number() OVER (ORDER BY created_at) AS g
      FROM scheduled_jobs TABLESAMPLE BERNOULLI (20) REPEATABLE (7)) j
ORDER BY g DESC
"""

AUDIT = """
INSERT INTO audit_events (at, token_name, customer_id, action, resource_type, resource_id, job_id, changes)
SELECT now() - make_interval(secs => g * 3.0), 'bench', j.customers[1 + g %% 1000],
       (ARRAY['job_updated', 'run_cancelled', 'run_retried', 'job_paused'])[1 + g %% 4],
       CASE WHEN g %% 4 = 0 THEN 'job' ELSE 'run' END, g::text, j.ids[1 + g %% 1000], '{}'::jsonb
FROM (SELECT array_agg(id) AS ids, array_agg(customer_id) AS customers
      FROM (SELECT id, customer_id FROM scheduled_jobs ORDER BY id LIMIT 1000) x) j
CROSS JOIN generate_series(%(events)s, 1, -1) g
"""

ANSWERS = """
WITH runs AS (
    SELECT r.id, r.scheduled_for, r.brand_id, r.created_at, r.id %% 3 AS q FROM job_runs r
    WHERE r.brand_id = ANY(%(brands)s) AND r.status = 'completed'
), answers AS (
    INSERT INTO collected_answers (run_id, run_scheduled_for, brand_id, query, collector, answer, latency_ms,
                                   created_at)
    SELECT runs.id, runs.scheduled_for, runs.brand_id, 'query ' || g, (ARRAY['openai', 'perplexity'])[1 + g %% 2], 'an answer',
           200 + (runs.id * 7 + g) %% 900, runs.created_at
    FROM runs CROSS JOIN generate_series(1, 3) g
    RETURNING id, run_id, run_scheduled_for, brand_id, created_at
)
INSERT INTO answer_scores (answer_id, run_id, run_scheduled_for, brand_id, mentioned, mention_count, position, sentiment,
                           share_of_voice, competitors_mentioned, created_at)
SELECT a.id, a.run_id, a.run_scheduled_for, a.brand_id, a.id %% 3 <> 0, (a.id %% 3 <> 0)::int,
       CASE WHEN a.id %% 3 <> 0 THEN 1 + a.id %% 5 END, ((a.id %% 21) - 10) / 10.0, (a.id %% 10) / 10.0,
       CASE WHEN a.id %% 2 = 0 THEN ARRAY['Rival A'] ELSE ARRAY['Rival A', 'Rival B'] END, a.created_at
FROM answers a
"""

PROCESSES = """
INSERT INTO processes (id, kind, hostname, pid, started_at, heartbeat_at)
SELECT 'bench-' || g, (ARRAY['scheduler', 'worker', 'worker', 'worker'])[g], 'bench-host-' || g, 1000 + g,
       now() - interval '1 hour', now()
FROM generate_series(1, 4) g
"""


def seed(conn: psycopg.Connection, jobs: int, runs_per_job: int) -> None:
    """Load everything into the (migrated, empty) database of ``conn``; prints the time taken."""
    t = time.perf_counter()
    periods = ", ".join(PERIODS)
    conn.execute("INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, %s) g", (CUSTOMERS,))
    conn.execute("INSERT INTO brands (customer_id, name, competitors) SELECT c.id, c.name || ' brand ' || g, "
                 "ARRAY['Rival A', 'Rival B'] FROM customers c, generate_series(1, %s) g", (BRANDS_PER_CUSTOMER,))  # fmt: skip
    brands = CUSTOMERS * BRANDS_PER_CUSTOMER
    conn.execute(JOBS.format(periods=periods), {"jobs": jobs, "exprs": list(EXPRESSIONS), "brands": brands})
    print(f"  jobs in {time.perf_counter() - t:.0f} s", flush=True)
    # the months the runs reach back into, as a scheduler running then would have made them (0025)
    conn.execute("SELECT ck_run_partition_ensure(m) FROM generate_series(now() - interval '11 days', now(), "
                 "interval '1 day') m")
    conn.execute(RUNS.format(periods=periods), {"runs_per_job": runs_per_job})
    print(f"  runs in {time.perf_counter() - t:.0f} s", flush=True)
    conn.execute(ALERTS, {})
    conn.execute(AUDIT, {"events": 200_000})
    scored = [r[0] for r in conn.execute("SELECT id FROM brands ORDER BY name LIMIT %s", (SCORED_BRANDS,))]
    conn.execute(ANSWERS, {"brands": scored})
    conn.execute(PROCESSES)
    conn.execute("VACUUM ANALYZE")
    try:
        conn.execute("CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege:
        pass
    print(f"  loaded in {time.perf_counter() - t:.0f} s", flush=True)
