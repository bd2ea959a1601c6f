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

-- name: stage_scheduled_runs
-- When copy_runs met a slot already there: the tick's runs, written by COPY
-- (binary) into a table of the transaction's own (no index, no WAL), then
-- inserted in one statement (insert_staged_runs) whose ON CONFLICT on
-- job_runs_slot_key keeps each slot once, whoever else inserts it: COPY into
-- job_runs itself has no ON CONFLICT. The trigger column is 'schedule' (ignored).
-- IF NOT EXISTS: a tick inside a caller's transaction reuses it (the inserts empty it).
CREATE TEMP TABLE IF NOT EXISTS ck_tick_runs (
    scheduled_job_id uuid, customer_id uuid, brand_id uuid, job_type text, status text,
    skip_reason text, scheduled_for timestamptz, run_after timestamptz, finished_at timestamptz,
    trigger text
) ON COMMIT DROP

-- name: copy_scheduled_runs
COPY ck_tick_runs (scheduled_job_id, customer_id, brand_id, job_type, status, skip_reason,
    scheduled_for, run_after, finished_at, trigger) FROM STDIN (FORMAT BINARY)

-- name: copy_runs
-- The tick's runs straight into job_runs (in a savepoint: a slot already there
-- fails it, and the rows go again through ck_tick_runs and ON CONFLICT).
COPY job_runs (scheduled_job_id, customer_id, brand_id, job_type, status, skip_reason,
    scheduled_for, run_after, finished_at, trigger) FROM STDIN (FORMAT BINARY)

-- name: insert_staged_runs
-- The staged runs into job_runs, a slot already there left alone; the counts only, one row back.
WITH staged AS (DELETE FROM ck_tick_runs RETURNING *), inserted AS (
    INSERT INTO job_runs (
        scheduled_job_id, customer_id, brand_id, job_type, trigger, status, skip_reason,
        scheduled_for, run_after, finished_at
    )
    SELECT scheduled_job_id, customer_id, brand_id, job_type, 'schedule', status, skip_reason,
        scheduled_for, run_after, finished_at
    FROM staged
    ON CONFLICT (scheduled_job_id, scheduled_for) WHERE trigger = 'schedule' DO NOTHING
    RETURNING status
)
SELECT count(*) FILTER (WHERE status = 'pending') AS pending, count(*) AS inserted FROM inserted

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
-- The fair claim (round-robin across customers, overlap forbid held): its text,
-- and why it reads as it does, are in migration 0032 (ck_claim_runs), planned once
-- per server connection, through PgBouncer too. Returns only what the claim did
-- not set: the caller knows status, worker_id, started_at, heartbeat_at,
-- lease_expires_at and updated_at (its parameters), and skip_reason and
-- finished_at are NULL on a processing run (the table's checks). Metrics come
-- back NULL when empty, the job's metadata as text; the batch in the order the
-- worker hands it to its executors.
SELECT * FROM ck_claim_runs(%(now)s, %(limit)s, %(worker_id)s, %(lease_until)s)

-- name: renew_leases
-- Migration 0032 (ck_renew_leases): never waits for a row lock; a run skipped is renewed at the next beat.
SELECT id, cancel_requested FROM ck_renew_leases(%(ids)s::bigint[], %(worker_id)s, %(now)s, %(lease_until)s)

-- name: is_cancel_requested
-- Migration 0032 (ck_is_cancel_requested): true when cancelled or no longer this worker's.
SELECT stop FROM ck_is_cancel_requested(%(id)s, %(slot)s, %(worker_id)s)

-- name: progress_checkpoint
-- Progress and checkpoint in one round trip: no row back when the run is no longer
-- this attempt's (migration 0032, ck_progress_checkpoint).
SELECT stop FROM ck_progress_checkpoint(%(id)s, %(slot)s, %(worker_id)s, %(metrics)s, %(now)s)

-- name: finish_run
-- One outcome (migration 0032, ck_finish_run): the run's row, none when it is no longer this worker's.
SELECT * FROM ck_finish_run(%(id)s, %(slot)s, %(worker_id)s, %(status)s, %(now)s, %(metrics)s, %(error_message)s,
                            %(failure_code)s)

-- name: release_run
-- Back to 'pending' for another attempt, which starts clean: what this attempt
-- wrote (answers, scores) goes with it, in the same statement.
WITH released AS (
    UPDATE job_runs
    SET status = 'pending', worker_id = NULL, started_at = NULL, heartbeat_at = NULL,
        lease_expires_at = NULL, updated_at = %(now)s
    WHERE id = %(id)s AND status = 'processing' AND worker_id = %(worker_id)s
    RETURNING id
), scores AS (
    DELETE FROM answer_scores WHERE run_id IN (SELECT id FROM released)
), answers AS (
    DELETE FROM collected_answers WHERE run_id IN (SELECT id FROM released)
)
SELECT id FROM released

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

-- name: get_run_named
-- A run's page in one statement: the row, its brand's name and the newest run retrying it.
-- Its best plan is the same for every value (the run by its id, then its brand and retries by
-- theirs), so the API plans it once per connection (api/controllers/runs.py); planned per call it
-- cost 1.2 ms over job_runs' month partitions, six times its execution. The brand is a look-up by
-- its key: as a join, the plan expected a row per partition and hashed all the brands.
SELECT r.*, (SELECT b.name FROM brands b WHERE b.id = r.brand_id) AS brand_name,
       (SELECT max(n.id) FROM job_runs n WHERE n.retry_of = r.id) AS retried_by
FROM job_runs r
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
-- One count per status, each read from its partial index (job_runs_pending_idx,
-- job_runs_lease_idx): its cost follows the queue, not the table (/metrics
-- scrapes it; tests/db/test_metrics_counters.py checks the plan).
SELECT 'pending' AS status, count(*) AS n FROM job_runs WHERE status = 'pending'
UNION ALL
SELECT 'processing', count(*) FROM job_runs WHERE status = 'processing'

-- name: count_by_status_capped
-- count_by_status for the pages: at most %(cap)s + 1 runs of each status counted.
SELECT 'pending' AS status, count(*) AS n
FROM (SELECT 1 FROM job_runs WHERE status = 'pending' LIMIT %(cap)s + 1) p
UNION ALL
SELECT 'processing', count(*) FROM (SELECT 1 FROM job_runs WHERE status = 'processing' LIMIT %(cap)s + 1) q

-- name: oldest_pending
SELECT min(run_after) AS oldest FROM job_runs WHERE status = 'pending' AND run_after <= %(now)s

-- name: next_run_after
-- The earliest run_after still ahead (job_runs_pending_idx): when a worker
-- wakes to claim a delayed run (jitter, retry backoff).
SELECT min(run_after) AS run_after FROM job_runs WHERE status = 'pending' AND run_after > %(now)s

-- name: finish_runs
-- %(outcomes)s: a JSON array of [id, scheduled_for, status, finished_at, metrics, error_message];
-- each lookup pruned to its run's month inside one plan (migration 0032, ck_finish_runs).
SELECT id FROM ck_finish_runs(%(worker_id)s, %(outcomes)s::json)

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

-- name: queue_by_type
-- Pending and processing runs per job type and status, and the oldest ready
-- pending run of each: rows from the partial index on unfinished runs
-- (job_runs_active_idx), so the cost follows the queue, not the table.
SELECT job_type, status, count(*) AS n,
    min(run_after) FILTER (WHERE status = 'pending' AND run_after <= %(now)s) AS oldest_ready
FROM job_runs WHERE status IN ('pending', 'processing')
GROUP BY job_type, status

-- name: last_run_id
-- The newest run's id (the primary key's last entry); 0 when there is none.
SELECT coalesce(max(id), 0) AS id FROM job_runs

-- name: scheduled_after
-- Runs the scheduler made with an id above %(after)s, oldest first (a primary
-- key range over the newest rows only): what a manual tick created.
SELECT id, scheduled_job_id, scheduled_for, run_after, status, skip_reason FROM job_runs
WHERE id > %(after)s AND trigger = 'schedule'
ORDER BY id
LIMIT %(limit)s

-- name: collector_stats
-- Each collector's calls (answered / failed, from the runs' calls_by_collector
-- metric) and the latency of its answers, over the newest runs finished since
-- %(since)s: at most %(runs)s of them, read backwards on job_runs_finished_idx,
-- and their answers on collected_answers_run_idx. A customer's only when
-- %(customer_id)s is given. The cost follows the runs read, never the table.
WITH recent AS MATERIALIZED (
    SELECT r.id, r.metrics FROM job_runs r
    WHERE r.finished_at IS NOT NULL AND r.finished_at >= %(since)s
      AND (%(customer_id)s::uuid IS NULL OR r.customer_id = %(customer_id)s)
    ORDER BY r.finished_at DESC, r.id DESC
    LIMIT %(runs)s
), calls AS (
    SELECT c.key AS collector, sum((c.value->>'ok')::int) AS ok, sum((c.value->>'failed')::int) AS failed,
           count(DISTINCT recent.id) AS runs
    FROM recent CROSS JOIN LATERAL jsonb_each(
        CASE WHEN jsonb_typeof(recent.metrics->'calls_by_collector') = 'object'
             THEN recent.metrics->'calls_by_collector' ELSE '{}' END) c
    WHERE jsonb_typeof(c.value) = 'object'
    GROUP BY c.key
), latency AS (
    -- each run's answers by collected_answers_run_idx (OFFSET 0 keeps the lateral a
    -- loop): a hash join read the whole table, 50,000 answers in 140 ms
    SELECT a.collector, count(a.latency_ms) AS answers,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY a.latency_ms) AS p50_ms,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY a.latency_ms) AS p95_ms
    FROM recent CROSS JOIN LATERAL (
        SELECT x.collector, x.latency_ms FROM collected_answers x WHERE x.run_id = recent.id OFFSET 0) a
    GROUP BY a.collector
)
SELECT coalesce(calls.collector, latency.collector) AS collector,
       coalesce(calls.ok, 0)::int AS ok, coalesce(calls.failed, 0)::int AS failed,
       coalesce(calls.runs, 0)::int AS runs, coalesce(latency.answers, 0)::int AS answers,
       latency.p50_ms, latency.p95_ms,
       (SELECT count(*) FROM recent)::int AS runs_read
FROM calls FULL JOIN latency ON latency.collector = calls.collector
ORDER BY 1

-- name: merge_metrics
-- a finished run's webhook outcome, added after the run (cronkeeper.run_webhooks)
UPDATE job_runs SET metrics = metrics || %(metrics)s WHERE id = %(id)s
