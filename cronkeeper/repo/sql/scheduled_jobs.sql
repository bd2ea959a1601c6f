-- name: insert_job
INSERT INTO scheduled_jobs (
    customer_id, brand_id, name, job_type, schedule_kind, cron_expression, timezone,
    interval_seconds, jitter_seconds, run_at, is_active, metadata, max_retries, retry_delay,
    timeout_seconds, overlap_policy, misfire_policy, next_run_at,
    calendar_id, starts_at, ends_at, max_runs,
    auto_pause_after_failures, auto_pause_trial_after_seconds
) VALUES (
    %(customer_id)s, %(brand_id)s, %(name)s, %(job_type)s, %(schedule_kind)s,
    %(cron_expression)s, %(timezone)s, %(interval_seconds)s, %(jitter_seconds)s, %(run_at)s,
    %(is_active)s, %(metadata)s, %(max_retries)s, %(retry_delay)s, %(timeout_seconds)s,
    %(overlap_policy)s, %(misfire_policy)s, %(next_run_at)s,
    %(calendar_id)s, %(starts_at)s, %(ends_at)s, %(max_runs)s,
    %(auto_pause_after_failures)s, %(auto_pause_trial_after_seconds)s
)
RETURNING *

-- name: get_job
SELECT * FROM scheduled_jobs
WHERE id = %(id)s AND (%(customer_id)s::uuid IS NULL OR customer_id = %(customer_id)s)

-- name: get_job_for_update
SELECT * FROM scheduled_jobs
WHERE id = %(id)s AND (%(customer_id)s::uuid IS NULL OR customer_id = %(customer_id)s)
FOR UPDATE

-- name: update_job
UPDATE scheduled_jobs SET
    name = %(name)s, job_type = %(job_type)s, schedule_kind = %(schedule_kind)s,
    cron_expression = %(cron_expression)s, timezone = %(timezone)s,
    interval_seconds = %(interval_seconds)s, jitter_seconds = %(jitter_seconds)s,
    run_at = %(run_at)s, is_active = %(is_active)s, metadata = %(metadata)s,
    max_retries = %(max_retries)s, retry_delay = %(retry_delay)s,
    timeout_seconds = %(timeout_seconds)s, overlap_policy = %(overlap_policy)s,
    misfire_policy = %(misfire_policy)s, next_run_at = %(next_run_at)s,
    calendar_id = %(calendar_id)s, starts_at = %(starts_at)s, ends_at = %(ends_at)s,
    max_runs = %(max_runs)s, auto_pause_after_failures = %(auto_pause_after_failures)s,
    auto_pause_trial_after_seconds = %(auto_pause_trial_after_seconds)s, updated_at = now()
WHERE id = %(id)s
RETURNING *

-- name: delete_job
DELETE FROM scheduled_jobs
WHERE id = %(id)s AND (%(customer_id)s::uuid IS NULL OR customer_id = %(customer_id)s)
RETURNING id

-- name: list_jobs
SELECT j.*, b.name AS brand_name, c.name AS customer_name
FROM scheduled_jobs j
JOIN brands b ON b.id = j.brand_id
JOIN customers c ON c.id = j.customer_id
WHERE (%(customer_id)s::uuid IS NULL OR j.customer_id = %(customer_id)s)
  AND (%(brand_id)s::uuid IS NULL OR j.brand_id = %(brand_id)s)
  AND (%(is_active)s::boolean IS NULL OR j.is_active = %(is_active)s)
  AND (%(job_type)s::text IS NULL OR j.job_type = %(job_type)s)
  AND (%(search)s::text IS NULL OR b.name ILIKE '%%' || %(search)s || '%%')
  AND (%(after_created)s::timestamptz IS NULL
       OR (j.created_at, j.id) < (%(after_created)s, %(after_id)s::uuid))
ORDER BY j.created_at DESC, j.id DESC
LIMIT %(limit)s

-- name: lock_due_jobs
-- The columns of DueJob in its field order (cronkeeper.repo.jobs builds it from
-- tuples; tests/db/test_tick_writes.py checks the order): what the tick uses,
-- not the metadata (decoded for every job) nor the audit fields.
SELECT id, customer_id, brand_id, job_type, schedule_kind, cron_expression, timezone,
    interval_seconds, jitter_seconds, run_at, next_run_at, overlap_policy, misfire_policy,
    calendar_id, starts_at, ends_at, max_runs, scheduled_run_count, skip_next_runs,
    skip_requested_by
FROM scheduled_jobs
WHERE is_active AND next_run_at <= %(now)s
ORDER BY next_run_at
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED

-- name: advance_jobs
UPDATE scheduled_jobs j
SET next_run_at = u.next_run_at,
    last_run_at = COALESCE(u.last_run_at, j.last_run_at),
    scheduled_run_count = j.scheduled_run_count + u.run_count
FROM unnest(%(ids)b::uuid[], %(next_run_at)b::timestamptz[], %(last_run_at)b::timestamptz[],
            %(run_counts)b::integer[])
    AS u(id, next_run_at, last_run_at, run_count)
WHERE j.id = u.id

-- name: stage_advance
-- The tick's advances, written by COPY (binary) into a table of the transaction's
-- own, then applied in one UPDATE (advance_from_stage): faster than dumping four
-- arrays in Python. IF NOT EXISTS: a tick inside a caller's transaction reuses it.
CREATE TEMP TABLE IF NOT EXISTS ck_tick_advance (
    id uuid, next_run_at timestamptz, last_run_at timestamptz, run_count integer
) ON COMMIT DROP

-- name: copy_advance
COPY ck_tick_advance (id, next_run_at, last_run_at, run_count) FROM STDIN (FORMAT BINARY)

-- name: advance_from_stage
-- As advance_jobs; the staged rows are taken out as they are applied.
WITH u AS (DELETE FROM ck_tick_advance RETURNING *)
UPDATE scheduled_jobs j
SET next_run_at = u.next_run_at,
    last_run_at = COALESCE(u.last_run_at, j.last_run_at),
    scheduled_run_count = j.scheduled_run_count + u.run_count
FROM u
WHERE j.id = u.id

-- name: earliest_next_run
SELECT min(next_run_at) AS next_run_at FROM scheduled_jobs WHERE is_active

-- name: count_due
SELECT count(*) AS due, min(next_run_at) AS oldest
FROM scheduled_jobs WHERE is_active AND next_run_at <= %(now)s

-- name: count_due_capped
-- count_due for the pages: at most %(cap)s + 1 due jobs counted (a backlog of
-- 45,000 made each request count them all), the oldest from the index's first entry.
SELECT (SELECT count(*) FROM (SELECT 1 FROM scheduled_jobs WHERE is_active AND next_run_at <= %(now)s
                              LIMIT %(cap)s + 1) d) AS due,
       (SELECT min(next_run_at) FROM scheduled_jobs WHERE is_active AND next_run_at <= %(now)s) AS oldest

-- name: lock_future_cron_jobs
-- active cron jobs not yet due, by id after a cursor, locked (waiting for a tick that holds one)
SELECT * FROM scheduled_jobs
WHERE is_active AND schedule_kind = 'cron' AND next_run_at > %(now)s
  AND (%(after)s::uuid IS NULL OR id > %(after)s::uuid)
ORDER BY id
LIMIT %(limit)s
FOR UPDATE
