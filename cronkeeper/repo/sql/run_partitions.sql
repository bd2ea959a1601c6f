-- name: ensure
-- The month holding %(month)s (UTC), for job_runs and its answers and scores;
-- true when this call created it (migration 0025: ck_run_partition_ensure).
SELECT ck_run_partition_ensure(%(month)s) AS created

-- name: drop_before
-- Whole months that ended before %(cutoff)s and whose runs all finished before it.
SELECT name FROM ck_run_partitions_drop(%(cutoff)s, %(months)s) AS name

-- name: list
-- The months that exist, oldest first, with the planner's estimate of their runs.
SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bounds, c.reltuples::bigint AS runs_estimate
FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
WHERE h.inhparent = 'job_runs'::regclass
ORDER BY c.relname
