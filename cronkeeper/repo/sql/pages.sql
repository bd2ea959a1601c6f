-- Pages of the admin API's lists, as JSON built here: one json text per row,
-- shaped exactly as api.schemas.RunOut / JobOut encode (tests/test_api_pages.py
-- compares them), with times through ck_json_time (migration 0004).
-- {filters} is replaced by constant fragments of cronkeeper/repo/pages.py
-- (only the filters a request gives, so every combination gets a plan that
-- can use its index); values are always bound parameters.

-- name: runs_page
SELECT r.id, json_build_object(
    'id', r.id, 'scheduled_job_id', r.scheduled_job_id, 'customer_id', r.customer_id,
    'brand_id', r.brand_id, 'job_type', r.job_type, 'trigger', r.trigger, 'status', r.status,
    'scheduled_for', ck_json_time(r.scheduled_for), 'run_after', ck_json_time(r.run_after),
    'attempt', r.attempt, 'retry_of', r.retry_of, 'skip_reason', r.skip_reason,
    'worker_id', r.worker_id, 'cancel_requested', r.cancel_requested,
    'started_at', ck_json_time(r.started_at), 'finished_at', ck_json_time(r.finished_at),
    'heartbeat_at', ck_json_time(r.heartbeat_at), 'lease_expires_at', ck_json_time(r.lease_expires_at),
    'duration_seconds', extract(epoch FROM r.finished_at - r.started_at)::float8,
    'metrics', r.metrics, 'error_message', r.error_message,
    'created_at', ck_json_time(r.created_at), 'updated_at', ck_json_time(r.updated_at),
    'brand_name', b.name
)::text AS json
FROM job_runs r JOIN brands b ON b.id = r.brand_id
WHERE {filters}
ORDER BY r.id DESC
LIMIT %(limit)s

-- name: jobs_page
SELECT j.id, j.created_at, j.schedule_kind, j.cron_expression, j.timezone, j.interval_seconds,
       j.jitter_seconds, j.run_at, json_build_object(
    'id', j.id, 'customer_id', j.customer_id, 'brand_id', j.brand_id, 'name', j.name,
    'job_type', j.job_type, 'schedule_kind', j.schedule_kind, 'cron_expression', j.cron_expression,
    'timezone', j.timezone, 'interval_seconds', j.interval_seconds, 'jitter_seconds', j.jitter_seconds,
    'run_at', ck_json_time(j.run_at), 'is_active', j.is_active, 'metadata', j.metadata,
    'max_retries', j.max_retries, 'retry_delay', j.retry_delay, 'timeout_seconds', j.timeout_seconds,
    'overlap_policy', j.overlap_policy, 'misfire_policy', j.misfire_policy,
    'next_run_at', ck_json_time(j.next_run_at), 'last_run_at', ck_json_time(j.last_run_at),
    'created_at', ck_json_time(j.created_at), 'updated_at', ck_json_time(j.updated_at),
    'brand_name', b.name, 'customer_name', c.name
)::text AS json
FROM scheduled_jobs j
JOIN brands b ON b.id = j.brand_id
JOIN customers c ON c.id = j.customer_id
WHERE {filters}
ORDER BY j.created_at DESC, j.id DESC
LIMIT %(limit)s
