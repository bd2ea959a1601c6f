-- name: finished_since
-- The evaluator's input: runs that finished (or were skipped) in (since, now],
-- with their job's and customer's alert rules. job_runs_finished_idx.
SELECT r.id, r.scheduled_job_id, r.customer_id, r.status, r.trigger, r.skip_reason, r.scheduled_for,
       r.attempt, r.failure_code, r.finished_at,
       extract(epoch FROM r.finished_at - r.started_at)::float8 AS duration,
       j.max_retries, j.alert_rules AS job_rules, c.alert_rules AS customer_rules
FROM job_runs r
JOIN scheduled_jobs j ON j.id = r.scheduled_job_id
JOIN customers c ON c.id = r.customer_id
WHERE r.finished_at > %(since)s AND r.finished_at <= %(now)s
  AND r.status IN ('completed', 'failed', 'skipped')
ORDER BY r.finished_at, r.id
LIMIT %(limit)s

-- name: job_history
-- A job's newest decided runs before (and including) run_id, newest first (job_runs_job_idx).
SELECT r.id, r.status, r.attempt, r.failure_code,
       extract(epoch FROM r.finished_at - r.started_at)::float8 AS duration
FROM job_runs r
WHERE r.scheduled_job_id = %(job_id)s AND r.id <= %(run_id)s AND r.status IN ('completed', 'failed')
ORDER BY r.id DESC
LIMIT %(limit)s

-- name: late_candidates
-- Scheduled runs still pending whose slot has passed (job_runs_pending_idx).
SELECT r.id, r.scheduled_job_id, r.customer_id, r.scheduled_for,
       j.alert_rules AS job_rules, c.alert_rules AS customer_rules
FROM job_runs r
JOIN scheduled_jobs j ON j.id = r.scheduled_job_id
JOIN customers c ON c.id = r.customer_id
WHERE r.status = 'pending' AND r.run_after <= %(now)s AND r.trigger = 'schedule'
  AND r.scheduled_for > %(after)s
ORDER BY r.id
LIMIT %(limit)s

-- name: lagging_jobs
-- Active jobs whose next slot is older than the lag threshold (scheduled_jobs_due_idx).
SELECT j.id, j.customer_id, j.next_run_at, j.alert_rules AS job_rules, c.alert_rules AS customer_rules
FROM scheduled_jobs j JOIN customers c ON c.id = j.customer_id
WHERE j.is_active AND j.next_run_at < %(before)s
ORDER BY j.next_run_at
LIMIT %(limit)s

-- name: raise_alert
-- Open an alert, or count one more occurrence on the open one of (job, kind).
-- An occurrence is counted once: only a newer run (or slot, without a run)
-- than the last counted bumps count. guard_id: open nothing when a run of the
-- job newer than it has completed since (the incident is already over).
INSERT INTO alerts AS a (scheduled_job_id, customer_id, kind, scheduled_for, run_id, message,
                         last_run_id, last_scheduled_for, opened_at, last_seen_at)
SELECT %(job_id)s, %(customer_id)s, %(kind)s, %(scheduled_for)s, %(run_id)s, %(message)s,
       %(run_id)s, %(scheduled_for)s, %(now)s, %(now)s
WHERE %(guard_id)s::bigint IS NULL OR NOT EXISTS (
    SELECT 1 FROM job_runs g
    WHERE g.scheduled_job_id = %(job_id)s AND g.id > %(guard_id)s AND g.status = 'completed')
ON CONFLICT (scheduled_job_id, kind) WHERE resolved_at IS NULL DO UPDATE
SET count = a.count + 1, last_seen_at = excluded.last_seen_at, message = excluded.message,
    last_run_id = excluded.last_run_id, last_scheduled_for = excluded.last_scheduled_for
WHERE (excluded.last_run_id IS NOT NULL AND excluded.last_run_id > coalesce(a.last_run_id, 0))
   OR (excluded.last_run_id IS NULL AND excluded.last_scheduled_for > coalesce(a.last_scheduled_for, '-infinity'))
RETURNING a.id, a.kind, a.customer_id, (xmax = 0) AS opened

-- name: resolve_for_job
-- A good run closes the job's open alerts raised up to it (but the kinds kept).
UPDATE alerts SET resolved_at = %(now)s, resolved_by_run_id = %(run_id)s
WHERE scheduled_job_id = %(job_id)s AND resolved_at IS NULL
  AND coalesce(last_run_id, 0) <= %(run_id)s AND kind <> ALL(%(keep)s::text[])
RETURNING id, kind, customer_id

-- name: get
SELECT a.*, j.name AS job_name FROM alerts a JOIN scheduled_jobs j ON j.id = a.scheduled_job_id
WHERE a.id = %(id)s

-- name: list
-- Newest first, keyset on id; every filter optional.
SELECT a.*, j.name AS job_name FROM alerts a JOIN scheduled_jobs j ON j.id = a.scheduled_job_id
WHERE (%(customer_id)s::uuid IS NULL OR a.customer_id = %(customer_id)s)
  AND (%(job_id)s::uuid IS NULL OR a.scheduled_job_id = %(job_id)s)
  AND (%(kind)s::text IS NULL OR a.kind = %(kind)s)
  AND (%(status)s::text IS NULL OR (%(status)s = 'open') = (a.resolved_at IS NULL))
  AND (%(before_id)s::bigint IS NULL OR a.id < %(before_id)s)
ORDER BY a.id DESC
LIMIT %(limit)s

-- name: ack
UPDATE alerts SET acked_at = %(now)s, acked_by = %(by)s
WHERE id = %(id)s AND acked_at IS NULL
RETURNING id

-- name: rules_of_job
-- A job's alert rules and its customer's (kept here with the alert queries: only alerts read them).
SELECT j.id, j.customer_id, j.alert_rules AS job_rules, c.alert_rules AS customer_rules
FROM scheduled_jobs j JOIN customers c ON c.id = j.customer_id
WHERE j.id = %(job_id)s AND (%(scope)s::uuid IS NULL OR j.customer_id = %(scope)s)
FOR UPDATE OF j

-- name: set_job_rules
UPDATE scheduled_jobs SET alert_rules = %(rules)s, updated_at = now() WHERE id = %(job_id)s

-- name: rules_of_customer
SELECT id, alert_rules AS customer_rules FROM customers
WHERE id = %(customer_id)s AND (%(scope)s::uuid IS NULL OR id = %(scope)s)
FOR UPDATE

-- name: set_customer_rules
UPDATE customers SET alert_rules = %(rules)s, updated_at = now() WHERE id = %(customer_id)s

-- name: prune_resolved
-- Retention (services/scheduler/pruner.py): at most %(limit)s alerts resolved before the cutoff
-- (their deliveries cascade); open alerts stay however old.
WITH doomed AS (
    SELECT id FROM alerts WHERE resolved_at < %(cutoff)s LIMIT %(limit)s
)
DELETE FROM alerts a USING doomed WHERE a.id = doomed.id
