-- Facts about the installation that every process must agree on, one value
-- per key, written by the services (cronkeeper/repo/meta.py). The scheduler
-- records here the release of the time-zone data the stored next_run_at were
-- computed with ('tz_data_version'), and the progress of re-planning them when
-- a scheduler starts with other data ('tz_replan_progress').
CREATE TABLE cronkeeper_meta (
    key         text PRIMARY KEY CHECK (length(btrim(key)) > 0),
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
