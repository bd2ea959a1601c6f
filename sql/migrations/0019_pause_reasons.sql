-- Pause with a reason, skip the next N runs, auto-pause after repeated
-- failures (cronkeeper/pausing.py, services/scheduler/pauses.py; docs/alerts.md).
-- Every column is new, nullable or with a constant default: no rewrite of the table.

-- Who paused the job, why, since when, until when (auto-resume), and who resumed it last.
-- paused_automatically: the scheduler paused it (auto-pause after failures).
ALTER TABLE scheduled_jobs
    ADD COLUMN paused_reason text
        CONSTRAINT scheduled_jobs_paused_reason_check CHECK (length(paused_reason) <= 500),
    ADD COLUMN paused_by text,
    ADD COLUMN paused_at timestamptz,
    ADD COLUMN paused_until timestamptz,
    ADD COLUMN paused_automatically boolean NOT NULL DEFAULT false,
    ADD COLUMN resumed_by text,
    ADD COLUMN resumed_at timestamptz,
    -- the next N slots that would run are recorded skipped ("skipped on request by <who>");
    -- the tick counts it down in its own transaction, under the job's row lock
    ADD COLUMN skip_next_runs integer NOT NULL DEFAULT 0
        CONSTRAINT scheduled_jobs_skip_next_runs_check CHECK (skip_next_runs BETWEEN 0 AND 1000),
    ADD COLUMN skip_requested_by text,
    -- auto-pause after N consecutive failed slots (null: off), and one trial run after a cool-down
    ADD COLUMN auto_pause_after_failures integer
        CONSTRAINT scheduled_jobs_auto_pause_check CHECK (auto_pause_after_failures BETWEEN 2 AND 1000),
    ADD COLUMN auto_pause_trial_after_seconds integer
        CONSTRAINT scheduled_jobs_auto_pause_trial_check
        CHECK (auto_pause_trial_after_seconds BETWEEN 1 AND 2592000),
    -- the trial of an auto-paused job: when it is due, then the run made for it (being judged)
    ADD COLUMN trial_due_at timestamptz,
    ADD COLUMN trial_run_id bigint;

-- the scheduler's look for paused jobs whose time has come (auto-resume) and trials due
CREATE INDEX scheduled_jobs_paused_until_idx ON scheduled_jobs (paused_until)
    WHERE NOT is_active AND paused_until IS NOT NULL;
CREATE INDEX scheduled_jobs_trial_idx ON scheduled_jobs (trial_due_at)
    WHERE trial_due_at IS NOT NULL OR trial_run_id IS NOT NULL;

-- A new alert kind: a job paused itself after repeated failures.
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check
    CHECK (kind IN ('late', 'missed', 'failed', 'consecutive_failures', 'slow', 'auto_paused'));
