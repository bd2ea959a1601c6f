-- Pauses, skips and auto-pause of scheduled_jobs (cronkeeper/repo/pauses.py), kept
-- apart from scheduled_jobs.sql: only the pausing code and the scheduler's pause step use them.

-- name: mark_paused
-- A job just paused (is_active already false): who, why, since when, until when.
-- automatic: the scheduler paused it; trial_due_at: when its one trial run is due (or null).
-- paused_at keeps the first pause's time when a paused job is paused again.
UPDATE scheduled_jobs SET
    is_active = false, paused_reason = %(reason)s, paused_by = %(by)s,
    paused_at = CASE WHEN is_active OR paused_at IS NULL THEN %(now)s ELSE paused_at END,
    paused_until = %(until)s, paused_automatically = %(automatic)s,
    trial_due_at = %(trial_due_at)s, trial_run_id = NULL, updated_at = now()
WHERE id = %(id)s
RETURNING *

-- name: mark_resumed
-- A job just resumed (is_active already true): who and when; the pause's record is cleared.
UPDATE scheduled_jobs SET
    resumed_by = %(by)s, resumed_at = %(now)s, paused_reason = NULL, paused_by = NULL,
    paused_at = NULL, paused_until = NULL, paused_automatically = false,
    trial_due_at = NULL, trial_run_id = NULL, updated_at = now()
WHERE id = %(id)s
RETURNING *

-- name: set_skips
UPDATE scheduled_jobs SET skip_next_runs = %(count)s, skip_requested_by = %(by)s, updated_at = now()
WHERE id = %(id)s
RETURNING *

-- name: count_down_skips
-- The tick used n of a job's requested skips (in its transaction, the job locked).
UPDATE scheduled_jobs j
SET skip_next_runs = greatest(0, j.skip_next_runs - u.n),
    skip_requested_by = CASE WHEN j.skip_next_runs - u.n > 0 THEN j.skip_requested_by END
FROM unnest(%(ids)b::uuid[], %(counts)b::integer[]) AS u(id, n)
WHERE j.id = u.id

-- name: lock_due_resumes
-- Paused jobs whose paused_until has come, locked; another scheduler's are skipped
-- (and re-checked after its commit: no longer paused, they drop out).
SELECT * FROM scheduled_jobs
WHERE NOT is_active AND paused_until IS NOT NULL AND paused_until <= %(now)s
ORDER BY paused_until
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED

-- name: lock_due_trials
-- Auto-paused jobs whose cool-down is over and no trial made yet, locked.
SELECT * FROM scheduled_jobs
WHERE NOT is_active AND paused_automatically AND trial_due_at IS NOT NULL AND trial_due_at <= %(now)s
  AND trial_run_id IS NULL
ORDER BY trial_due_at
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED

-- name: start_trial
UPDATE scheduled_jobs SET trial_due_at = NULL, trial_run_id = %(run_id)s WHERE id = %(id)s

-- name: lock_trials_in_flight
-- Auto-paused jobs with a trial run made, to judge; locked.
SELECT * FROM scheduled_jobs
WHERE NOT is_active AND paused_automatically AND trial_run_id IS NOT NULL
ORDER BY id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED

-- name: trial_outcome
-- The newest attempt of a trial run's chain (the run, its retry, the retry's retry...):
-- job_runs_retry_of_idx.
WITH RECURSIVE chain AS (
    SELECT id, status, attempt, failure_code, finished_at FROM job_runs WHERE id = %(run_id)s
    UNION ALL
    SELECT r.id, r.status, r.attempt, r.failure_code, r.finished_at
    FROM job_runs r JOIN chain c ON r.retry_of = c.id
)
SELECT * FROM chain ORDER BY id DESC LIMIT 1

-- name: end_trial
-- A failed trial: the job stays paused, with no further trial; the reason says why.
UPDATE scheduled_jobs SET trial_run_id = NULL, paused_reason = %(reason)s, updated_at = now()
WHERE id = %(id)s
RETURNING *

-- name: auto_pause_candidates
-- Active jobs with auto-pause on that have a failed run finished in (since, now]
-- (job_runs_finished_idx), with their threshold and last resume.
SELECT DISTINCT j.id
FROM job_runs r JOIN scheduled_jobs j ON j.id = r.scheduled_job_id
WHERE r.finished_at > %(since)s AND r.finished_at <= %(now)s AND r.status = 'failed'
  AND j.is_active AND j.auto_pause_after_failures IS NOT NULL

-- name: lock_job
SELECT * FROM scheduled_jobs WHERE id = %(id)s FOR UPDATE

-- name: failure_streak_runs
-- A job's newest decided runs (completed or failed) finished after its last resume, newest first.
SELECT r.id, r.status, r.attempt, r.failure_code, r.scheduled_for
FROM job_runs r
WHERE r.scheduled_job_id = %(job_id)s AND r.status IN ('completed', 'failed')
  AND (%(after)s::timestamptz IS NULL OR r.finished_at > %(after)s)
ORDER BY r.id DESC
LIMIT %(limit)s

-- name: earliest_pause_end
-- The soonest paused_until or trial_due_at after now: when the scheduler must look again
-- (one already past, e.g. a resume the quota refused, is retried at each poll, not in a spin).
SELECT least(
    (SELECT min(paused_until) FROM scheduled_jobs
     WHERE NOT is_active AND paused_until IS NOT NULL AND paused_until > %(now)s),
    (SELECT min(trial_due_at) FROM scheduled_jobs
     WHERE (trial_due_at IS NOT NULL OR trial_run_id IS NOT NULL) AND trial_due_at > %(now)s)
) AS at
