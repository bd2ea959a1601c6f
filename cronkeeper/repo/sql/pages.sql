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
-- For pages of ids found on an index of their own (a customer, brand or job, whose order
-- leads with it: cronkeeper/repo/pages.py, OWNERS; a time range; a status):
-- ck_run_docs renders them on its own plan, so a page planned per execution plans
-- only the id query. Each id comes with its run's slot, so that plan reads each run in its
-- month only (migration 0031); both arrays are aggregated from the same rows, in step.
SELECT d.run_id, d.doc FROM (
    SELECT array_agg(p.id) AS ids, array_agg(p.scheduled_for) AS slots FROM (
        SELECT r.id, r.scheduled_for FROM job_runs r
        WHERE {filters}
        ORDER BY {order}
        LIMIT %(limit)s
    ) p
) a CROSS JOIN LATERAL ck_run_docs(a.ids, a.slots) d

-- name: runs_page_window
-- The pending runs, planned once (no index keeps them in id order). First the newest runs, at
-- most 5,000 (from the cursor on: {window} is its bound, or true): when they hold a page of
-- matches, that is the page (no newer match can be missing); else the plain query, whatever the
-- planner picks for it. A pending backlog is the newest runs, while the statistics (analyzed
-- once a tenth of the table changed) still counted the few of idle hours: the plan made once read
-- every pending run on job_runs_pending_idx and sorted them (200,000: 2-6 s a page at 10,000,000
-- runs). A few old ones (the idle case) are the second part's, as before.
SELECT d.run_id, d.doc FROM (
    WITH newest AS MATERIALIZED (
        SELECT r.id, r.scheduled_for FROM (
            SELECT * FROM job_runs r WHERE {window} ORDER BY r.id DESC LIMIT 5000
        ) r
        WHERE {filters}
        ORDER BY r.id DESC
        LIMIT %(limit)s
    ), page AS (
        SELECT id, scheduled_for FROM newest WHERE (SELECT count(*) FROM newest) >= %(limit)s
        UNION ALL
        (SELECT r.id, r.scheduled_for FROM job_runs r
         WHERE {filters} AND (SELECT count(*) FROM newest) < %(limit)s
         ORDER BY r.id DESC
         LIMIT %(limit)s)
    )
    SELECT array_agg(id) AS ids, array_agg(scheduled_for) AS slots FROM page
) a CROSS JOIN LATERAL ck_run_docs(a.ids, a.slots) d

-- name: jobs_page
-- The ids of the page, in its order; ck_job_docs (migration 0030) renders them on a
-- plan made once per connection: a page planned for its filter's value (customer,
-- brand, search) plans only this id query, not the document with the running check
-- over every month of job_runs (3 ms -> 0.1-0.5 ms at 10,000,000 runs).
SELECT schedule_key, doc FROM ck_job_docs(ARRAY(
    SELECT j.id FROM scheduled_jobs j
    WHERE {filters}
    ORDER BY {order}
    LIMIT %(limit)s
))

-- name: running_jobs
-- Which of these jobs have a run processing (a job's state: cronkeeper/job_states.py).
SELECT DISTINCT scheduled_job_id FROM job_runs
WHERE scheduled_job_id = ANY(%(ids)s) AND status = 'processing'
