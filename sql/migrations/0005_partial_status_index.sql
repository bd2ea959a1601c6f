-- job_runs_status_idx served only the runs list's status filter, which is
-- selective only for the rare statuses. Keyed on every row, it took an entry at
-- every claim and every finish (status changes are never HOT updates). Now it
-- holds the rare statuses only; a 'completed' (or 'pending'/'processing')
-- listing walks the primary key backwards, which finds 50 such rows at once.
-- The predicate is proven from a constant: the API plans its reads with
-- plan_cache_mode = force_custom_plan.
DROP INDEX job_runs_status_idx;
CREATE INDEX job_runs_status_idx ON job_runs (status, id DESC)
    WHERE status IN ('failed', 'partial', 'cancelled', 'skipped');
