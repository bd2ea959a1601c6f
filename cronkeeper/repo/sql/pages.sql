-- Pages of the admin API's lists, as JSON built here: one json text per row,
-- shaped exactly as cronkeeper.api.schemas RunOut / JobOut encode (tests/e2e/test_api_serving.py
-- compares them), with times through ck_json_time (migrations 0004, 0006).
-- {filters} (and a jobs page's {order}) are replaced by constant fragments of cronkeeper/repo/pages.py
-- (only the filters a request gives, so every combination gets a plan that
-- can use its index); values are bound parameters, except those of a closed
-- set (status, job type, active), which pages.py writes in as literals.

-- name: runs_page
-- A run's document is row_to_json of its job_run_docs row (migration 0007).
-- For pages planned once per connection (no filter, a cursor, closed-set filters).
SELECT x.id, row_to_json(x)::text AS json FROM (
    SELECT r.* FROM job_run_docs r
    WHERE {filters}
    ORDER BY r.id DESC
    LIMIT %(limit)s
) x
ORDER BY x.id DESC

-- name: runs_page_by_ids
-- For pages planned for their filter's value (customer, brand, job): only the
-- id query is planned per execution; ck_run_docs renders on its own plan.
SELECT run_id, doc FROM ck_run_docs(ARRAY(
    SELECT r.id FROM job_runs r
    WHERE {filters}
    ORDER BY r.id DESC
    LIMIT %(limit)s
))

-- name: runs_page_window
-- The pending runs, planned once (no index keeps them in id order). First the newest runs, at
-- most 5,000 (from the cursor on: {window} is its bound, or true): when they hold a page of
-- matches, that is the page (no newer match can be missing); else the plain query, whatever the
-- planner picks for it. A pending backlog is the newest runs, while the statistics (analyzed
-- once a tenth of the table changed) still counted the few of idle hours: the plan made once read
-- every pending run on job_runs_pending_idx and sorted them (200,000: 2-6 s a page at 10,000,000
-- runs). A few old ones (the idle case) are the second part's, as before.
SELECT run_id, doc FROM ck_run_docs(ARRAY(
    WITH newest AS MATERIALIZED (
        SELECT r.id FROM (
            SELECT * FROM job_runs r WHERE {window} ORDER BY r.id DESC LIMIT 5000
        ) r
        WHERE {filters}
        ORDER BY r.id DESC
        LIMIT %(limit)s
    )
    SELECT id FROM newest WHERE (SELECT count(*) FROM newest) >= %(limit)s
    UNION ALL
    (SELECT r.id FROM job_runs r
     WHERE {filters} AND (SELECT count(*) FROM newest) < %(limit)s
     ORDER BY r.id DESC
     LIMIT %(limit)s)
))

-- name: jobs_page
-- schedule_key: the schedule's columns as one record text, the key under which the
-- API keeps each schedule's description (record_out is unambiguous: it quotes
-- values with separators in them and writes NULL as nothing). One text column
-- instead of six typed ones: ~1/5 of the API's CPU for a page of 50 jobs.
-- state: the rule of cronkeeper/job_states.py, first match wins. Processing runs
-- are few (at most the workers' slots): the running check reads them once from
-- job_runs_lease_idx (which holds only those) or probes job_runs_active_idx per row.
SELECT ROW(j.schedule_kind, j.cron_expression, j.timezone, j.interval_seconds, j.jitter_seconds,
           j.run_at)::text AS schedule_key,
       row_to_json(x)::text AS json
FROM scheduled_jobs j
JOIN brands b ON b.id = j.brand_id
JOIN customers c ON c.id = j.customer_id
CROSS JOIN LATERAL (
    SELECT j.id, j.customer_id, j.brand_id, j.name, j.job_type, j.schedule_kind, j.cron_expression,
           j.timezone, j.interval_seconds, j.jitter_seconds, ck_json_time(j.run_at) AS run_at,
           j.is_active,
           CASE WHEN EXISTS (SELECT 1 FROM job_runs r WHERE r.scheduled_job_id = j.id AND r.status = 'processing')
                THEN 'running'
                WHEN NOT j.is_active THEN 'paused'
                WHEN j.next_run_at IS NULL THEN 'finished'
                ELSE 'scheduled' END AS state,
           j.metadata, j.max_retries, j.retry_delay, j.timeout_seconds,
           j.overlap_policy, j.misfire_policy,
           ck_json_time(j.next_run_at) AS next_run_at, ck_json_time(j.last_run_at) AS last_run_at,
           ck_json_time(j.created_at) AS created_at, ck_json_time(j.updated_at) AS updated_at,
           j.paused_reason, j.paused_by, ck_json_time(j.paused_at) AS paused_at,
           ck_json_time(j.paused_until) AS paused_until, j.paused_automatically, j.resumed_by,
           ck_json_time(j.resumed_at) AS resumed_at, j.skip_next_runs, j.auto_pause_after_failures,
           j.auto_pause_trial_after_seconds,
           j.calendar_id, ck_json_time(j.starts_at) AS starts_at, ck_json_time(j.ends_at) AS ends_at,
           j.max_runs, j.scheduled_run_count,
           -- cronkeeper.schedule.bounds.finished_reason, in SQL
           CASE WHEN j.is_active AND j.next_run_at IS NULL THEN
                CASE WHEN j.max_runs IS NOT NULL AND j.scheduled_run_count >= j.max_runs
                     THEN 'reached its ' || j.max_runs || CASE WHEN j.max_runs = 1 THEN ' run' ELSE ' runs' END
                     WHEN j.ends_at IS NOT NULL
                     THEN 'ended at ' || to_char(j.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
                END
           END AS finished_reason,
           b.name AS brand_name, c.name AS customer_name
) x
WHERE {filters}
ORDER BY {order}
LIMIT %(limit)s

-- name: running_jobs
-- Which of these jobs have a run processing (a job's state: cronkeeper/job_states.py).
SELECT DISTINCT scheduled_job_id FROM job_runs
WHERE scheduled_job_id = ANY(%(ids)s) AND status = 'processing'
