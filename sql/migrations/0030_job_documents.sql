-- compatible: additive
-- A job as the admin API's JSON document, rendered on a plan made once per
-- connection (as ck_run_docs of migration 0007 renders runs), for the jobs pages
-- (cronkeeper/repo/sql/pages.sql: jobs_page).
--
-- A jobs page filtered by a customer, a brand or a brand name is planned for its
-- value (cronkeeper/repo/pages.py), and planning the whole page -- the document's
-- columns with ck_json_time inlined eleven times, and the running check over
-- job_runs, one index per month's partition -- took about 3 ms at 10,000,000 runs,
-- against 0.2-2 ms of execution (docs/benchmarks.md, "Admin API at 10 M runs").
-- Now such a page plans only its id query (scheduled_jobs, and brands for a
-- search); this function renders the ids in the order given.
--
-- schedule_key: the schedule's columns as one record text, the key under which the
-- API keeps each schedule's description (record_out is unambiguous: it quotes
-- values with separators in them and writes NULL as nothing).
-- state: the rule of cronkeeper/job_states.py, first match wins. Processing runs
-- are few (at most the workers' slots): the check probes job_runs_active_idx.
CREATE FUNCTION ck_job_docs(ids uuid[]) RETURNS TABLE (schedule_key text, doc text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    SELECT ROW(j.schedule_kind, j.cron_expression, j.timezone, j.interval_seconds, j.jitter_seconds,
               j.run_at)::text,
           row_to_json(x)::text
    FROM unnest(ids) WITH ORDINALITY AS o(id, n)
    JOIN scheduled_jobs j ON j.id = o.id
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
    ORDER BY o.n;
END
$$;
