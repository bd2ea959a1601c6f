-- compatible: additive
-- The worker's hot statements as PL/pgSQL functions, so each is planned once per
-- server connection, whatever sits between the worker and PostgreSQL.
--
-- Behind PgBouncer in transaction mode (CRONKEEPER_DB_POOLER=transaction) psycopg
-- prepares nothing, so every statement was planned at each execution, and over
-- job_runs' month partitions (0025) planning costs more than running: the fair
-- claim refers to job_runs seven times, 12 ms of planning with 18 partitions
-- against ~4-9 ms of execution for a 50-run claim; a progress checkpoint (once per
-- 250 ms per run in flight) 1.3 ms against ~0.05; a heartbeat's lease renewal 2.2 ms.
-- A function's plans are kept by the server connection, which PgBouncer hands from
-- client to client, so a claim through it costs what a prepared claim costs
-- directly (docs/benchmarks.md, "Partitioned history"). Directly connected, the
-- worker's pool plans each statement with its values (force_custom_plan), so a
-- prepared statement did not help there: each function sets its own plan_cache_mode.
--
-- cronkeeper/repo/sql/job_runs.sql calls them (claim_runs, renew_leases,
-- progress_checkpoint, which update_metrics calls too, finish_runs,
-- is_cancel_requested, finish_run). To change one of these statements, write a
-- migration that replaces its function (CREATE OR REPLACE, same signature) and say
-- so there: the statement's text lives here now, not in the named-query file.
-- tests/db/test_plans.py reads the plans the functions use (auto_explain).

-- The fair claim (was job_runs.sql's claim_runs, unchanged but for its parameters).
-- Returns only what the claim did not set: the caller knows status, worker_id,
-- started_at, heartbeat_at, lease_expires_at and updated_at (its parameters),
-- and skip_reason and finished_at are NULL on a processing run (the table's
-- checks). Metrics come back NULL when empty, the job's metadata as text.
-- Fair across customers (round-robin): due_customers finds the customers with
-- due pending runs by a loose scan of job_runs_customer_queue_idx (one probe
-- per customer, however many runs each has); each gives at most its share,
-- read in due order; the batch takes everyone's first run, then everyone's
-- second, ... (ties: the customer with fewer runs in flight first, then due
-- order). The share is the water level (levels): customers with fewer due runs
-- than limit / customers give all they have, the rest split what is left
-- evenly, so the batch is full whenever limit runs are due. So 10,000 due runs
-- of one customer never keep another's single run out of the next batch, and
-- with one customer (nothing counted) the claim is the plain due-order claim.
-- The batch comes back in the same round-robin order, the order the worker
-- hands it to its executors.
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
-- another worker is still pending in this statement's snapshot. Each
-- customer's candidates are locked (SKIP LOCKED) in a subquery of their own,
-- read in index order and only as far as its share needs (a held-back run is
-- locked too, until the claim commits): exactly-once as before, and at most
-- limit + customers rows locked.
-- JIT is off for the claim: the per-customer LIMIT is a column, which the planner
-- prices at a tenth of each customer's runs: a cost past jit_above_cost, and
-- 50-100 ms of JIT compiling at every claim. Its plan is generic, made at the first
-- claim of a connection: the worker's pool plans every statement with its values
-- (plan_cache_mode = force_custom_plan, for the catch-all filters elsewhere), so a
-- prepared claim was planned at every call even connected directly (with 18
-- partitions 17 ms of a 19 ms claim of 5 runs; planned once: 1.9 ms).
-- tests/db/test_plans.py and test_concurrency.py check the plan it keeps.
-- The rows come back in the order the batch is handed to the executors.
CREATE FUNCTION ck_claim_runs(p_now timestamptz, p_limit int, p_worker_id text, p_lease_until timestamptz)
RETURNS TABLE (
    id bigint, scheduled_job_id uuid, customer_id uuid, brand_id uuid, job_type text, trigger text,
    scheduled_for timestamptz, run_after timestamptz, attempt int, retry_of bigint, cancel_requested boolean,
    metrics jsonb, error_message text, created_at timestamptz,
    timeout_seconds int, max_retries int, retry_delay int, metadata text
)
LANGUAGE plpgsql VOLATILE SET jit = off SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE due_customers(customer_id) AS (
        (SELECT customer_id FROM job_runs
         WHERE status = 'pending' AND run_after <= p_now
         ORDER BY customer_id LIMIT 1)
        UNION ALL
        SELECT (SELECT n.customer_id FROM job_runs n
                WHERE n.status = 'pending' AND n.run_after <= p_now AND n.customer_id > d.customer_id
                ORDER BY n.customer_id LIMIT 1)
        FROM due_customers d WHERE d.customer_id IS NOT NULL
    ), counted AS (
        SELECT d.customer_id, count(*) OVER () AS customers
        FROM due_customers d WHERE d.customer_id IS NOT NULL
    ), sized AS (
        -- alone, a customer needs neither count; in_flight only breaks ties, so it stops at 1,000
        SELECT c.customer_id, c.customers,
            CASE WHEN c.customers = 1 THEN 0 ELSE (
                SELECT count(*) FROM (
                    SELECT 1 FROM job_runs h
                    WHERE h.customer_id = c.customer_id AND h.status = 'processing'
                    LIMIT 1000
                ) x
            ) END AS in_flight,
            CASE WHEN c.customers = 1 THEN p_limit ELSE (
                SELECT count(*) FROM (
                    SELECT 1 FROM job_runs q
                    WHERE q.customer_id = c.customer_id AND q.status = 'pending' AND q.run_after <= p_now
                    ORDER BY q.run_after, q.id  -- read by the index, never a scan of the table
                    LIMIT p_limit
                ) x
            ) END AS due
        FROM counted c
    ), levels AS (
        SELECT customer_id, due, ceil(
            (p_limit - coalesce(sum(due) OVER (ORDER BY due, customer_id
                                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::numeric
            / (customers - row_number() OVER (ORDER BY due, customer_id) + 1)
        ) AS level
        FROM sized
    ), turns AS (
        SELECT customer_id, in_flight, coalesce(
            (SELECT level FROM levels WHERE due >= level ORDER BY due, customer_id LIMIT 1), p_limit
        )::int AS share
        FROM sized
    ), claimed AS (
        UPDATE job_runs r
        SET status = 'processing', worker_id = p_worker_id, started_at = p_now,
            heartbeat_at = p_now, lease_expires_at = p_lease_until, updated_at = p_now
        WHERE r.id = ANY(ARRAY(
            SELECT p.id FROM turns t CROSS JOIN LATERAL (
                SELECT c.id, c.run_after FROM (
                    SELECT id, scheduled_job_id, scheduled_for, trigger, run_after FROM job_runs
                    WHERE customer_id = t.customer_id AND status = 'pending' AND run_after <= p_now
                    ORDER BY run_after, id
                    FOR UPDATE SKIP LOCKED
                ) c
                WHERE c.trigger = 'manual' OR NOT EXISTS (
                    SELECT 1 FROM job_runs e JOIN scheduled_jobs j ON j.id = e.scheduled_job_id
                    WHERE e.scheduled_job_id = c.scheduled_job_id
                      AND e.status IN ('pending', 'processing')
                      AND (e.scheduled_for, e.id) < (c.scheduled_for, c.id)
                      AND j.overlap_policy = 'forbid'
                )
                LIMIT t.share
            ) p
            ORDER BY row_number() OVER (PARTITION BY t.customer_id ORDER BY p.run_after, p.id),
                t.in_flight, p.run_after, p.id
            LIMIT p_limit
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
    ORDER BY row_number() OVER (PARTITION BY c.customer_id ORDER BY c.run_after, c.id), c.run_after, c.id;
END
$$;

-- A heartbeat's lease renewal (was job_runs.sql's renew_leases). Never waits for a
-- row lock (SKIP LOCKED, in id order): a run locked now is being written back or
-- cancelled; waiting for it while holding the locks of other runs is how the
-- heartbeat and a batched write-back deadlocked. A run skipped here is renewed at
-- the next beat (a lease lasts three). By id: one plan for every value.
CREATE FUNCTION ck_renew_leases(p_ids bigint[], p_worker_id text, p_now timestamptz, p_lease_until timestamptz)
RETURNS TABLE (id bigint, cancel_requested boolean)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    UPDATE job_runs r SET heartbeat_at = p_now, lease_expires_at = p_lease_until
    FROM (
        SELECT id FROM job_runs
        WHERE id = ANY(p_ids) AND worker_id = p_worker_id AND status = 'processing'
        ORDER BY id
        FOR UPDATE SKIP LOCKED
    ) AS mine
    WHERE r.id = mine.id
    RETURNING r.id, r.cancel_requested;
END
$$;

-- A run's progress and its checkpoint in one round trip (was job_runs.sql's
-- progress_checkpoint and update_metrics): no row back when the run is no longer
-- this attempt's.
-- By id and slot: the generic plan is pruned to the run's month when it starts, one
-- probe of one primary key (by id alone, one per month: planned per call, pruning by
-- the slot did not pay, docs/partitioning.md; with the plan kept, it does).
CREATE FUNCTION ck_progress_checkpoint(p_id bigint, p_slot timestamptz, p_worker_id text, p_metrics jsonb,
                                       p_now timestamptz)
RETURNS TABLE (stop boolean)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    UPDATE job_runs SET metrics = metrics || p_metrics, updated_at = p_now
    WHERE id = p_id AND scheduled_for = p_slot AND status = 'processing' AND worker_id = p_worker_id
    RETURNING cancel_requested;
END
$$;

-- The worker's batched write-back (was job_runs.sql's finish_runs). p_outcomes: a JSON
-- array of [id, scheduled_for, status, finished_at, metrics, error_message]. The run's
-- slot (its partition key) prunes each lookup to its month at run time, within this one
-- generic plan: by id alone, a lookup probed every month's primary key (141 -> 112 us
-- per run with 7 months of history, bench at load ~4).
CREATE FUNCTION ck_finish_runs(p_worker_id text, p_outcomes json)
RETURNS TABLE (id bigint)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    UPDATE job_runs r
    SET status = u.status, finished_at = u.finished_at, updated_at = u.finished_at,
        metrics = r.metrics || u.metrics, error_message = u.error_message, lease_expires_at = NULL
    FROM (
        SELECT (e->>0)::bigint AS id, (e->>1)::timestamptz AS scheduled_for, e->>2 AS status,
            (e->>3)::timestamptz AS finished_at, (e->4)::jsonb AS metrics, e->>5 AS error_message
        FROM json_array_elements(p_outcomes) AS e
    ) AS u
    WHERE r.id = u.id AND r.scheduled_for = u.scheduled_for AND r.status = 'processing'
      AND r.worker_id = p_worker_id
    RETURNING r.id;
END
$$;

-- A run's own statements while it executes and when it ends alone (were job_runs.sql's
-- is_cancel_requested and finish_run). By id and slot, as the checkpoint.
CREATE FUNCTION ck_is_cancel_requested(p_id bigint, p_slot timestamptz, p_worker_id text)
RETURNS TABLE (stop boolean)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    SELECT r.cancel_requested OR r.status <> 'processing' OR r.worker_id IS DISTINCT FROM p_worker_id
    FROM job_runs r WHERE r.id = p_id AND r.scheduled_for = p_slot;
END
$$;

CREATE FUNCTION ck_finish_run(p_id bigint, p_slot timestamptz, p_worker_id text, p_status text, p_now timestamptz,
                              p_metrics jsonb, p_error_message text, p_failure_code text)
RETURNS SETOF job_runs
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    UPDATE job_runs r
    SET status = p_status, finished_at = p_now, updated_at = p_now,
        metrics = r.metrics || p_metrics, error_message = p_error_message,
        failure_code = p_failure_code, lease_expires_at = NULL
    WHERE r.id = p_id AND r.scheduled_for = p_slot AND r.status = 'processing' AND r.worker_id = p_worker_id
    RETURNING r.*;
END
$$;
