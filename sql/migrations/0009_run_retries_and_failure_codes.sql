-- failure_code: why a failed run will not be retried, for failures a retry
-- cannot fix (no active queries, a missing API key, an unknown collector,
-- nothing to score: cronkeeper.errors.NonRetryable). NULL for every other run.
ALTER TABLE job_runs ADD COLUMN failure_code text;
-- NOT VALID: every existing row holds NULL, so scanning them proves nothing;
-- rows written from now on are checked.
ALTER TABLE job_runs ADD CONSTRAINT job_runs_failure_code_check
    CHECK (failure_code IS NULL OR status = 'failed') NOT VALID;

-- A run's document also names the run retrying it (retried_by: the newest run
-- whose retry_of is this one, found through job_runs_retry_of_idx), so the
-- admin UI can link a failed run forward to its retry, and its failure_code.
-- Both added at the end of the view, after brand_name, in
-- api.schemas.RunOut's order.
CREATE OR REPLACE VIEW job_run_docs AS
SELECT r.id, r.scheduled_job_id, r.customer_id, r.brand_id, r.job_type, r.trigger, r.status,
       ck_json_time(r.scheduled_for) AS scheduled_for, ck_json_time(r.run_after) AS run_after,
       r.attempt, r.retry_of, r.skip_reason, r.worker_id, r.cancel_requested,
       ck_json_time(r.started_at) AS started_at, ck_json_time(r.finished_at) AS finished_at,
       ck_json_time(r.heartbeat_at) AS heartbeat_at, ck_json_time(r.lease_expires_at) AS lease_expires_at,
       extract(epoch FROM r.finished_at - r.started_at)::float8 AS duration_seconds,
       r.metrics, r.error_message,
       ck_json_time(r.created_at) AS created_at, ck_json_time(r.updated_at) AS updated_at,
       b.name AS brand_name,
       (SELECT max(n.id) FROM job_runs n WHERE n.retry_of = r.id) AS retried_by,
       r.failure_code
FROM job_runs r JOIN brands b ON b.id = r.brand_id;
