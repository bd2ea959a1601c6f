-- compatible: additive
-- The id range of the runs created in a time range, for the admin API's runs
-- pages with `from` / `to` (cronkeeper/repo/pages.py, RUN_FILTERS).
--
-- A page over a time range reads the id range of its runs through the index of
-- its other filter. The page's own statement is planned for its values (a
-- customer's or a brand's filter needs that), and with job_runs partitioned by
-- month (0025) planning its two bound look-ups on job_runs_created_idx (a
-- Merge Append over every partition each) was half of its planning: 0.6-0.8 of
-- 1.3-1.5 ms at 1,000,000 runs in 5 partitions, more than its execution. The
-- look-ups do not depend on their value (a LIMIT 1 walk of that index), so here
-- they are planned once per connection; the page plans only its own scan.
-- NULL when no run matches (the page is then empty, as before).
CREATE FUNCTION ck_run_id_from(at timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    -- the first run created at or after `at`
    RETURN (SELECT f.id FROM job_runs f WHERE f.created_at >= at ORDER BY f.created_at, f.id LIMIT 1);
END
$$;

CREATE FUNCTION ck_run_id_before(at timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    -- the last run created before `at`
    RETURN (SELECT t.id FROM job_runs t WHERE t.created_at < at ORDER BY t.created_at DESC, t.id DESC LIMIT 1);
END
$$;
