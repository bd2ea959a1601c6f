-- name: lock_quotas
-- The customer's quota row, created when missing, locked until the caller's
-- transaction ends: concurrent saves and triggers of one customer count one
-- after the other (DO UPDATE locks the row it finds).
INSERT INTO customer_quotas (customer_id) VALUES (%(customer_id)s)
ON CONFLICT (customer_id) DO UPDATE SET customer_id = EXCLUDED.customer_id
RETURNING *

-- name: get_quotas
SELECT * FROM customer_quotas WHERE customer_id = %(customer_id)s

-- name: set_quotas
-- Each limit named in given replaces the stored one (NULL: back to the default); the others are kept.
INSERT INTO customer_quotas (customer_id, max_jobs, max_active_jobs, manual_triggers_per_minute, max_sync_runs)
VALUES (%(customer_id)s, %(max_jobs)s, %(max_active_jobs)s, %(manual_triggers_per_minute)s, %(max_sync_runs)s)
ON CONFLICT (customer_id) DO UPDATE SET
    max_jobs = CASE WHEN 'max_jobs' = ANY(%(given)s::text[])
                    THEN EXCLUDED.max_jobs ELSE customer_quotas.max_jobs END,
    max_active_jobs = CASE WHEN 'max_active_jobs' = ANY(%(given)s::text[])
                    THEN EXCLUDED.max_active_jobs ELSE customer_quotas.max_active_jobs END,
    manual_triggers_per_minute = CASE WHEN 'manual_triggers_per_minute' = ANY(%(given)s::text[])
                    THEN EXCLUDED.manual_triggers_per_minute ELSE customer_quotas.manual_triggers_per_minute END,
    max_sync_runs = CASE WHEN 'max_sync_runs' = ANY(%(given)s::text[])
                    THEN EXCLUDED.max_sync_runs ELSE customer_quotas.max_sync_runs END,
    updated_at = now()
RETURNING *

-- name: count_trigger
-- One more manual trigger in the row's one-minute window (a new window when the
-- last one is over); returns the count with this one.
UPDATE customer_quotas SET
    trigger_window = CASE WHEN trigger_window IS NULL OR trigger_window <= %(now)s - interval '1 minute'
                          THEN %(now)s ELSE trigger_window END,
    triggers_in_window = CASE WHEN trigger_window IS NULL OR trigger_window <= %(now)s - interval '1 minute'
                              THEN 1 ELSE triggers_in_window + 1 END
WHERE customer_id = %(customer_id)s
RETURNING triggers_in_window, trigger_window

-- name: job_usage
-- What the job quotas count (read here, beside the quota it is checked against:
-- scheduled_jobs_customer_idx finds the customer's jobs).
SELECT count(*) AS jobs, count(*) FILTER (WHERE is_active) AS active_jobs
FROM scheduled_jobs WHERE customer_id = %(customer_id)s

-- name: sync_runs_in_flight
-- The customer's sync runs (?mode=sync, worker ids "sync-...") pending or
-- processing, from job_runs_customer_queue_idx.
SELECT count(*) AS n FROM job_runs
WHERE customer_id = %(customer_id)s AND status IN ('pending', 'processing') AND worker_id LIKE 'sync-%%'
