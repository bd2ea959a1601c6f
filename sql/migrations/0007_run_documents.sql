-- A run as the admin API's JSON document, defined once for both ways the runs
-- list reads it (cronkeeper/repo/sql/pages.sql): job_run_docs is the row whose
-- columns are the fields of api.schemas.RunOut, in its order
-- (tests/test_api_serving.py compares them); row_to_json of it is the document
-- (less than half the time of json_build_object: PostgreSQL 15, 51 runs, 0.6 ms
-- instead of 1.4 ms). A simple view: PostgreSQL folds it into the query that
-- reads it, so a page's filter, order and limit still use the table's indexes.
CREATE VIEW job_run_docs AS
SELECT r.id, r.scheduled_job_id, r.customer_id, r.brand_id, r.job_type, r.trigger, r.status,
       ck_json_time(r.scheduled_for) AS scheduled_for, ck_json_time(r.run_after) AS run_after,
       r.attempt, r.retry_of, r.skip_reason, r.worker_id, r.cancel_requested,
       ck_json_time(r.started_at) AS started_at, ck_json_time(r.finished_at) AS finished_at,
       ck_json_time(r.heartbeat_at) AS heartbeat_at, ck_json_time(r.lease_expires_at) AS lease_expires_at,
       extract(epoch FROM r.finished_at - r.started_at)::float8 AS duration_seconds,
       r.metrics, r.error_message,
       ck_json_time(r.created_at) AS created_at, ck_json_time(r.updated_at) AS updated_at,
       b.name AS brand_name
FROM job_runs r JOIN brands b ON b.id = r.brand_id;

-- The documents of the runs with these ids, newest first. For the pages with a
-- customer, brand or job filter: those must be planned for their value (a
-- generic plan sees only an average: tests/test_plans.py), and planning the
-- rendering with them (ck_json_time inlined eight times) was ~0.25 ms of a job's
-- history page. PL/pgSQL keeps the plan of the query inside for the session,
-- and SET plan_cache_mode makes it one plan per connection whatever the
-- caller's setting, so the caller plans only the cheap id query. A job's
-- history: PostgreSQL CPU per page ~0.75 -> ~0.49 ms (best of 6 interleaved
-- rounds, 100,000 jobs / 1,000,000 runs). Not for the pages planned once
-- anyway: looking up 51 ids costs more than walking the index (deep cursor +13 %).
CREATE FUNCTION ck_run_docs(ids bigint[]) RETURNS TABLE (run_id bigint, doc text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    SELECT d.id, row_to_json(d)::text FROM job_run_docs d WHERE d.id = ANY (ids) ORDER BY d.id DESC;
END
$$;
