-- Jitter on cron schedules (docs/cron.md): a cron job's run may start up to
-- jitter_seconds after its slot. The application bounds it by the shortest
-- time between two slots (cronkeeper/schedule/value.py); the table keeps the
-- interval bound and refuses jitter on one-off runs.
ALTER TABLE scheduled_jobs DROP CONSTRAINT scheduled_jobs_jitter_check;
ALTER TABLE scheduled_jobs ADD CONSTRAINT scheduled_jobs_jitter_check CHECK (
    jitter_seconds = 0
    OR (interval_seconds IS NOT NULL AND jitter_seconds < interval_seconds)
    OR cron_expression IS NOT NULL
);
