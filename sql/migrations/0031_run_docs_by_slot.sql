-- compatible: additive
-- The runs pages' documents, each run read in its own month: ck_run_docs(ids, slots) takes each
-- run's slot (scheduled_for, job_runs' partition key) with its id, as finish_runs does
-- (cronkeeper/repo/sql/job_runs.sql). Inside its one plan per connection (PL/pgSQL,
-- plan_cache_mode = force_generic_plan, as migration 0007) each (id, slot) is a nested-loop probe
-- of the primary key (id, scheduled_for) that the executor prunes to the slot's month at run
-- time. By id alone (ck_run_docs(ids), 0007) every id was probed in every month's primary key:
-- 51 ids x 8 partitions on bench_api_10m (docs/benchmarks.md, "Runs rendered in their month").
--
-- The document is job_run_docs' row (migrations 0007, 0009), listed here over job_runs so the
-- slot can be joined on (the view shows scheduled_for as text); tests/db/test_plans.py checks
-- both give the same text. The brand is a look-up by its key (always there: a foreign key), as in
-- get_run_named. retried_by keeps the view's meaning: any run retrying this one, whatever its slot.
--
-- ck_run_docs(ids) stays: an API process of the previous release calls it during a rolling upgrade.
CREATE FUNCTION ck_run_docs(ids bigint[], slots timestamptz[]) RETURNS TABLE (run_id bigint, doc text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    SELECT r.id, row_to_json(d)::text
    FROM unnest(ids, slots) AS u(id, slot)
    JOIN job_runs r ON r.id = u.id AND r.scheduled_for = u.slot
    CROSS JOIN LATERAL (
        SELECT r.id, r.scheduled_job_id, r.customer_id, r.brand_id, r.job_type, r.trigger, r.status,
               ck_json_time(r.scheduled_for) AS scheduled_for, ck_json_time(r.run_after) AS run_after,
               r.attempt, r.retry_of, r.skip_reason, r.worker_id, r.cancel_requested,
               ck_json_time(r.started_at) AS started_at, ck_json_time(r.finished_at) AS finished_at,
               ck_json_time(r.heartbeat_at) AS heartbeat_at, ck_json_time(r.lease_expires_at) AS lease_expires_at,
               extract(epoch FROM r.finished_at - r.started_at)::float8 AS duration_seconds,
               r.metrics, r.error_message,
               ck_json_time(r.created_at) AS created_at, ck_json_time(r.updated_at) AS updated_at,
               (SELECT b.name FROM brands b WHERE b.id = r.brand_id) AS brand_name,
               (SELECT max(n.id) FROM job_runs n WHERE n.retry_of = r.id) AS retried_by,
               r.failure_code
    ) d
    ORDER BY r.id DESC;
END
$$;
