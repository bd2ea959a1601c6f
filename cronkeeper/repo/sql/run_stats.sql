-- Aggregates of job_runs for the admin UI's charts (cronkeeper/repo/run_stats.py).
-- {scope} is one constant fragment of run_stats.py (a job, a customer, or
-- every run), so each scope is its own statement whose plan uses its index
-- (see run_stats._SCOPES).

-- name: run_buckets
-- One row per bucket that holds runs, and a total row (bucket NULL): runs by
-- status, duration percentiles of the runs that ran (started and finished).
WITH picked AS (
    SELECT date_trunc(%(bucket)s, r.created_at, %(timezone)s) AS bucket, r.status,
           extract(epoch FROM r.finished_at - r.started_at)::float8 AS seconds
    FROM job_runs r
    WHERE {scope} AND r.created_at >= %(start)s AND r.created_at < %(end)s
)
SELECT bucket, count(*) AS total,
       count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'processing') AS processing,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'partial') AS partial,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE status = 'skipped') AS skipped,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95_seconds
FROM picked
GROUP BY GROUPING SETS ((bucket), ())
ORDER BY bucket NULLS LAST
