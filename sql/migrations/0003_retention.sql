-- Retention: the scheduler prunes finished runs by age, oldest first.
-- finished_at is set exactly when a run reaches a final status
-- (job_runs_finished_check), so this index holds only prunable runs.
CREATE INDEX job_runs_finished_idx ON job_runs (finished_at, id) WHERE finished_at IS NOT NULL;
