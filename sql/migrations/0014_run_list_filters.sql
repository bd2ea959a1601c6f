-- The runs page (GET /api/admin/job-runs) filters by trigger and by time.
--
-- Manual and retry runs are few beside scheduled ones. Partial, like
-- job_runs_status_idx: scheduled runs (the bulk of the table, and what the
-- scheduler inserts) take no entry; a 'schedule' listing walks the primary key
-- and finds 50 at once. With the customer second, a customer's manual runs (a
-- bound token's list always names its customer) are one range of it: keyed on
-- (trigger, id) alone, a customer with no manual run made the page read every
-- manual run's row (1,000,000 runs, 10,000 manual: 250 ms instead of 0.2 ms).
CREATE INDEX job_runs_trigger_idx ON job_runs (trigger, customer_id, id DESC) WHERE trigger <> 'schedule';

-- A time range (created from / to) becomes a range of ids: the first run
-- created at or after `from` and the last created before `to` are each one
-- probe of this index, and the page then reads the id range through whichever
-- (x, id DESC) index its other filters use. created_at never changes, so
-- updates of a run (claim, heartbeat, finish) stay as they were.
CREATE INDEX job_runs_created_idx ON job_runs (created_at, id);

-- The jobs list sorted by next run or by last run, across pages (keyset on
-- (time, id); GET /api/admin/scheduled-jobs?sort=). Many jobs share a slot
-- (every hourly job's next run is the same instant): keyed on next_run_at
-- alone, a page of them was a sort of every job of that instant. With the id
-- the index is the page's order; the scheduler's due-job query reads it as
-- before, and the table keeps the same number of indexes.
DROP INDEX scheduled_jobs_due_idx;
CREATE INDEX scheduled_jobs_due_idx ON scheduled_jobs (next_run_at, id) WHERE is_active;
-- Latest last run first: without it a page sorted 100,000 jobs (70-140 ms here).
-- One more entry per job the scheduler advances (its updates of next_run_at
-- were never HOT: scheduled_jobs_due_idx).
CREATE INDEX scheduled_jobs_last_run_idx ON scheduled_jobs (last_run_at, id) WHERE last_run_at IS NOT NULL;
-- The rest of each sort (newest first): the jobs without a next run (paused,
-- finished) and those never run. Few, so a walk of scheduled_jobs_created_idx
-- filtering for them read every job when there were none (the last page of a
-- sort). Partial: the scheduler's updates of active, running jobs add nothing.
CREATE INDEX scheduled_jobs_no_next_idx ON scheduled_jobs (created_at DESC, id DESC)
    WHERE NOT (is_active AND next_run_at IS NOT NULL);
CREATE INDEX scheduled_jobs_never_run_idx ON scheduled_jobs (created_at DESC, id DESC) WHERE last_run_at IS NULL;
