-- name: slots_with_runs
-- The slots of a job from start to end (inclusive) that have a run of any
-- trigger or status: a backfill creates runs only for the others.
SELECT DISTINCT scheduled_for FROM job_runs
WHERE scheduled_job_id = %(job_id)s AND scheduled_for >= %(start)s AND scheduled_for <= %(end)s
