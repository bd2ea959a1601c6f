-- name: insert_runs
INSERT INTO job_runs (
    scheduled_job_id, customer_id, brand_id, job_type, trigger, status, skip_reason,
    scheduled_for, run_after, attempt, retry_of, finished_at, error_message
)
SELECT * FROM unnest(
    %(scheduled_job_id)b::uuid[], %(customer_id)b::uuid[], %(brand_id)b::uuid[],
    %(job_type)b::text[], %(trigger)b::text[], %(status)b::text[], %(skip_reason)b::text[],
    %(scheduled_for)b::timestamptz[], %(run_after)b::timestamptz[], %(attempt)b::int[],
    %(retry_of)b::bigint[], %(finished_at)b::timestamptz[], %(error_message)b::text[]
)
ON CONFLICT (scheduled_job_id, scheduled_for) WHERE trigger = 'schedule' DO NOTHING
RETURNING id, scheduled_job_id, status

-- name: active_job_ids
SELECT DISTINCT scheduled_job_id FROM job_runs
WHERE scheduled_job_id = ANY(%(job_ids)s::uuid[]) AND status IN ('pending', 'processing')

-- name: cancel_pending_for_jobs
UPDATE job_runs SET status = 'cancelled', finished_at = %(now)s, updated_at = %(now)s,
    error_message = %(reason)s
WHERE scheduled_job_id = ANY(%(job_ids)s::uuid[]) AND status = 'pending'
RETURNING id

-- name: request_cancel_processing_for_jobs
UPDATE job_runs SET cancel_requested = true, updated_at = %(now)s,
    error_message = %(reason)s
WHERE scheduled_job_id = ANY(%(job_ids)s::uuid[]) AND status = 'processing'
RETURNING id

-- name: claim_runs
-- Returns only what the claim did not set: the caller knows status, worker_id,
-- started_at, heartbeat_at, lease_expires_at and updated_at (its parameters),
-- and skip_reason and finished_at are NULL on a processing run (the table's
-- checks). Metrics come back NULL when empty, the job's metadata as text.
-- The picked ids go in as an array: the UPDATE then reads them by primary key
-- (joined to a CTE, a small table was hashed whole, dead rows and all, at
-- every claim: 15 to 25 percent slower).
-- Overlap forbid holds here too: a scheduled or retry run of a 'forbid' job
-- waits while an earlier run of its job (by slot, then id) is pending or
-- processing, so a run_all catch-up runs one at a time in slot order. The check
-- is one probe of job_runs_active_idx per candidate (none for manual runs,
-- which overlap policy does not hold back); the job's policy is read only when
-- an earlier active run exists. Safe under concurrent claims: a run counts as
-- finished only when that is committed, and an earlier run being claimed by
-- another worker is still pending in this statement's snapshot. The candidates
-- are locked in a subquery of their own, read in index order and only as far
-- as the limit needs (a held-back run is locked too, until the claim commits):
-- with the check beside the ORDER BY, the planner sorted every due run first.
WITH claimed AS (
    UPDATE job_runs r
    SET status = 'processing', worker_id = %(worker_id)s, started_at = %(now)s,
        heartbeat_at = %(now)s, lease_expires_at = %(lease_until)s, updated_at = %(now)s
    WHERE r.id = ANY(ARRAY(
        SELECT id FROM (
            SELECT id, scheduled_job_id, scheduled_for, trigger FROM job_runs
            WHERE status = 'pending' AND run_after <= %(now)s
            ORDER BY run_after, id
            FOR UPDATE SKIP LOCKED
        ) c
        WHERE trigger = 'manual' OR NOT EXISTS (
            SELECT 1 FROM job_runs e JOIN scheduled_jobs j ON j.id = e.scheduled_job_id
            WHERE e.scheduled_job_id = c.scheduled_job_id
              AND e.status IN ('pending', 'processing')
              AND (e.scheduled_for, e.id) < (c.scheduled_for, c.id)
              AND j.overlap_policy = 'forbid'
        )
        LIMIT %(limit)s
    ))
    RETURNING r.id, r.scheduled_job_id, r.customer_id, r.brand_id, r.job_type, r.trigger,
        r.scheduled_for, r.run_after, r.attempt, r.retry_of, r.cancel_requested, r.metrics,
        r.error_message, r.created_at
)
SELECT c.id, c.scheduled_job_id, c.customer_id, c.brand_id, c.job_type, c.trigger,
    c.scheduled_for, c.run_after, c.attempt, c.retry_of, c.cancel_requested,
    NULLIF(c.metrics, '{}'::jsonb), c.error_message, c.created_at,
    j.timeout_seconds, j.max_retries, j.retry_delay, j.metadata::text
FROM claimed c JOIN scheduled_jobs j ON j.id = c.scheduled_job_id
ORDER BY c.run_after, c.id

-- name: renew_leases
UPDATE job_runs SET heartbeat_at = %(now)s, lease_expires_at = %(lease_until)s
WHERE id = ANY(%(ids)s::bigint[]) AND worker_id = %(worker_id)s AND status = 'processing'
RETURNING id, cancel_requested

-- name: is_cancel_requested
SELECT cancel_requested OR status <> 'processing' OR worker_id IS DISTINCT FROM %(worker_id)s
    AS stop
FROM job_runs WHERE id = %(id)s

-- name: update_metrics
UPDATE job_runs SET metrics = metrics || %(metrics)s, updated_at = %(now)s
WHERE id = %(id)s AND status = 'processing' AND worker_id = %(worker_id)s
RETURNING id

-- name: finish_run
UPDATE job_runs
SET status = %(status)s, finished_at = %(now)s, updated_at = %(now)s,
    metrics = metrics || %(metrics)s, error_message = %(error_message)s,
    failure_code = %(failure_code)s, lease_expires_at = NULL
WHERE id = %(id)s AND status = 'processing' AND worker_id = %(worker_id)s
RETURNING *

-- name: release_run
UPDATE job_runs
SET status = 'pending', worker_id = NULL, started_at = NULL, heartbeat_at = NULL,
    lease_expires_at = NULL, updated_at = %(now)s
WHERE id = %(id)s AND status = 'processing' AND worker_id = %(worker_id)s
RETURNING id

-- name: lock_expired_runs
SELECT r.*, j.max_retries, j.retry_delay
FROM job_runs r JOIN scheduled_jobs j ON j.id = r.scheduled_job_id
WHERE r.status = 'processing' AND r.lease_expires_at < %(now)s
ORDER BY r.lease_expires_at
LIMIT %(limit)s
FOR UPDATE OF r SKIP LOCKED

-- name: fail_expired
UPDATE job_runs
SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'failed' END,
    finished_at = %(now)s, updated_at = %(now)s,
    lease_expires_at = NULL, error_message = %(error_message)s
WHERE id = %(id)s AND status = 'processing'
RETURNING *

-- name: get_run
SELECT r.* FROM job_runs r
WHERE r.id = %(id)s AND (%(customer_id)s::uuid IS NULL OR r.customer_id = %(customer_id)s)

-- name: list_runs
SELECT r.*, b.name AS brand_name,
    (SELECT max(n.id) FROM job_runs n WHERE n.retry_of = r.id) AS retried_by
FROM job_runs r JOIN brands b ON b.id = r.brand_id
WHERE (%(customer_id)s::uuid IS NULL OR r.customer_id = %(customer_id)s)
  AND (%(brand_id)s::uuid IS NULL OR r.brand_id = %(brand_id)s)
  AND (%(job_id)s::uuid IS NULL OR r.scheduled_job_id = %(job_id)s)
  AND (%(status)s::text IS NULL OR r.status = %(status)s)
  AND (%(job_type)s::text IS NULL OR r.job_type = %(job_type)s)
  AND (%(before_id)s::bigint IS NULL OR r.id < %(before_id)s)
ORDER BY r.id DESC
LIMIT %(limit)s

-- name: cancel_run
UPDATE job_runs
SET status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
    finished_at = CASE WHEN status = 'pending' THEN %(now)s ELSE finished_at END,
    cancel_requested = true, updated_at = %(now)s,
    error_message = COALESCE(error_message, 'cancelled by request')
WHERE id = %(id)s AND status IN ('pending', 'processing')
RETURNING *

-- name: count_by_status
SELECT status, count(*) AS n FROM job_runs
WHERE status IN ('pending', 'processing') GROUP BY status

-- name: oldest_pending
SELECT min(run_after) AS oldest FROM job_runs WHERE status = 'pending' AND run_after <= %(now)s

-- name: next_run_after
-- The earliest run_after still ahead (job_runs_pending_idx): when a worker
-- wakes to claim a delayed run (jitter, retry backoff).
SELECT min(run_after) AS run_after FROM job_runs WHERE status = 'pending' AND run_after > %(now)s

-- name: count_by_status_and_type
SELECT status, job_type, count(*) AS n FROM job_runs GROUP BY status, job_type

-- name: duration_buckets
-- bucket k holds durations in [bounds[k-1], bounds[k]) (0-based bounds); the last, those past all
SELECT job_type, width_bucket(d, %(bounds)s::float8[]) AS bucket, count(*) AS n, sum(d) AS total
FROM (
    SELECT job_type, extract(epoch FROM finished_at - started_at)::float8 AS d
    FROM job_runs WHERE started_at IS NOT NULL AND finished_at IS NOT NULL
) AS finished
GROUP BY job_type, bucket

-- name: finish_runs
-- %(outcomes)s: a JSON array of [id, status, finished_at, metrics, error_message]
UPDATE job_runs r
SET status = u.status, finished_at = u.finished_at, updated_at = u.finished_at,
    metrics = r.metrics || u.metrics, error_message = u.error_message, lease_expires_at = NULL
FROM (
    SELECT (e->>0)::bigint AS id, e->>1 AS status, (e->>2)::timestamptz AS finished_at,
        (e->3)::jsonb AS metrics, e->>4 AS error_message
    FROM json_array_elements(%(outcomes)s::json) AS e
) AS u
WHERE r.id = u.id AND r.status = 'processing' AND r.worker_id = %(worker_id)s
RETURNING r.id

-- name: prune_by_age
-- Finished runs older than the cutoff, oldest first; their answers and scores
-- go with them (ON DELETE CASCADE). Rows locked by anyone are left for later.
DELETE FROM job_runs WHERE id IN (
    SELECT id FROM job_runs
    WHERE finished_at IS NOT NULL AND finished_at < %(cutoff)s
    ORDER BY finished_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING id

-- name: prune_by_count
-- For a slice of jobs (by id, after a cursor), the finished runs beyond each
-- job's newest %(keep)s runs. Pending and processing runs are never touched.
WITH slice AS (
    SELECT id FROM scheduled_jobs
    WHERE %(after)s::uuid IS NULL OR id > %(after)s::uuid
    ORDER BY id
    LIMIT %(jobs)s
), doomed AS (
    SELECT r.id FROM slice j
    CROSS JOIN LATERAL (
        SELECT id FROM job_runs
        WHERE scheduled_job_id = j.id
        ORDER BY id DESC
        OFFSET %(keep)s
        LIMIT %(limit)s
    ) r
    LIMIT %(limit)s
), deleted AS (
    DELETE FROM job_runs WHERE id IN (
        SELECT id FROM job_runs
        WHERE id IN (SELECT id FROM doomed) AND finished_at IS NOT NULL
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id
)
SELECT (SELECT count(*) FROM deleted) AS deleted,
       (SELECT id FROM slice ORDER BY id DESC LIMIT 1) AS last_job,
       (SELECT count(*) FROM slice) AS jobs

-- name: claim_run
-- One given pending run, for a caller that runs it in its own process (Job.run());
-- the caller inserts and claims it in one transaction, so no worker sees it pending.
WITH claimed AS (
    UPDATE job_runs r
    SET status = 'processing', worker_id = %(worker_id)s, started_at = %(now)s,
        heartbeat_at = %(now)s, lease_expires_at = %(lease_until)s, updated_at = %(now)s
    WHERE r.id = %(id)s AND r.status = 'pending'
    RETURNING r.*
)
SELECT c.*, j.timeout_seconds, j.max_retries, j.retry_delay, j.metadata::text AS job_metadata_json
FROM claimed c JOIN scheduled_jobs j ON j.id = c.scheduled_job_id

-- name: latest_runs_of_jobs
-- Each job's newest run that is not a skipped slot (job_runs_job_idx, newest first).
SELECT r.* FROM unnest(%(job_ids)s::uuid[]) AS j(id)
CROSS JOIN LATERAL (
    SELECT * FROM job_runs
    WHERE scheduled_job_id = j.id AND status <> 'skipped'
    ORDER BY id DESC
    LIMIT 1
) r

-- name: lock_run
SELECT id FROM job_runs WHERE id = %(id)s FOR UPDATE

-- name: retried_by
-- The newest run whose retry_of is this one (job_runs_retry_of_idx).
SELECT max(id) AS id FROM job_runs WHERE retry_of = %(id)s

-- name: active_retry
-- The first pending or processing run retrying this one, directly or later in
-- its chain (retry_of always points to an older run: the walk ends).
WITH RECURSIVE chain AS (
    SELECT id, status FROM job_runs WHERE retry_of = %(id)s
    UNION ALL
    SELECT n.id, n.status FROM job_runs n JOIN chain c ON n.retry_of = c.id
)
SELECT id FROM chain WHERE status IN ('pending', 'processing') ORDER BY id LIMIT 1
