-- Schedule versions (cronkeeper/schedule_versions.py, docs/schedules.md): every
-- change to the fields that decide when a job runs is a row, written in the
-- change's own transaction. before / after hold those fields as a JSON object
-- (before is NULL on a job's first version). actor is who changed it (a token's
-- name, cli:<user>, python, system) and token_id the token, when one acted.
-- reverted_from: the version a revert restored. note: why a version exists
-- when no one made it (the baseline of a job saved before versions were kept).
-- The rows go with their job (ON DELETE CASCADE); the audit trail keeps the deletion.
CREATE TABLE schedule_versions (
    job_id         uuid NOT NULL REFERENCES scheduled_jobs (id) ON DELETE CASCADE,
    version        integer NOT NULL CHECK (version >= 1),
    at             timestamptz NOT NULL,
    actor          text NOT NULL CHECK (length(actor) > 0),
    token_id       bigint,
    before         jsonb CHECK (before IS NULL OR jsonb_typeof(before) = 'object'),
    after          jsonb NOT NULL CHECK (jsonb_typeof(after) = 'object'),
    reverted_from  integer CHECK (reverted_from IS NULL OR (reverted_from >= 1 AND reverted_from < version)),
    note           text,
    PRIMARY KEY (job_id, version),
    CHECK ((version = 1) = (before IS NULL))
);
