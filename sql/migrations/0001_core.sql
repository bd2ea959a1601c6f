-- Core schema: customers, brands, queries, scheduled jobs, their runs,
-- API tokens and the live scheduler/worker processes.

CREATE TABLE customers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(btrim(name)) > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customers_name_key UNIQUE (name)
);

CREATE TABLE brands (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id  uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(btrim(name)) > 0),
    aliases      text[] NOT NULL DEFAULT '{}',
    competitors  text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT brands_customer_name_key UNIQUE (customer_id, name),
    -- lets other tables require that a brand belongs to the customer they name
    CONSTRAINT brands_id_customer_key UNIQUE (id, customer_id)
);
CREATE INDEX brands_name_idx ON brands (lower(name));

CREATE TABLE brand_queries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    brand_id    uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    text        text NOT NULL CHECK (length(btrim(text)) > 0),
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT brand_queries_brand_text_key UNIQUE (brand_id, text)
);
CREATE INDEX brand_queries_active_idx ON brand_queries (brand_id) WHERE is_active;

CREATE TABLE scheduled_jobs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id      uuid NOT NULL,
    brand_id         uuid NOT NULL,
    name             text,
    job_type         text NOT NULL
        CHECK (job_type IN ('data_collection', 'scoring', 'data_collection_and_scoring')),
    schedule_kind    text NOT NULL CHECK (schedule_kind IN ('cron', 'interval', 'once')),
    cron_expression  text,
    timezone         text NOT NULL DEFAULT 'UTC',
    interval_seconds integer CHECK (interval_seconds >= 1),
    jitter_seconds   integer NOT NULL DEFAULT 0 CHECK (jitter_seconds >= 0),
    run_at           timestamptz,
    is_active        boolean NOT NULL DEFAULT true,
    metadata         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    max_retries      integer NOT NULL DEFAULT 3 CHECK (max_retries BETWEEN 0 AND 100),
    retry_delay      integer NOT NULL DEFAULT 60 CHECK (retry_delay >= 0),
    timeout_seconds  integer NOT NULL DEFAULT 3600 CHECK (timeout_seconds >= 1),
    overlap_policy   text NOT NULL DEFAULT 'forbid'
        CHECK (overlap_policy IN ('forbid', 'allow', 'replace')),
    misfire_policy   text NOT NULL DEFAULT 'run_once'
        CHECK (misfire_policy IN ('run_once', 'skip', 'run_all')),
    next_run_at      timestamptz,
    last_run_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT scheduled_jobs_brand_fkey FOREIGN KEY (brand_id, customer_id)
        REFERENCES brands (id, customer_id) ON DELETE CASCADE,
    CONSTRAINT scheduled_jobs_customer_fkey FOREIGN KEY (customer_id)
        REFERENCES customers (id) ON DELETE CASCADE,
    CONSTRAINT scheduled_jobs_schedule_check CHECK (
        (schedule_kind = 'cron' AND cron_expression IS NOT NULL
            AND interval_seconds IS NULL AND run_at IS NULL)
        OR (schedule_kind = 'interval' AND interval_seconds IS NOT NULL
            AND cron_expression IS NULL AND run_at IS NULL)
        OR (schedule_kind = 'once' AND run_at IS NOT NULL
            AND cron_expression IS NULL AND interval_seconds IS NULL)
    ),
    CONSTRAINT scheduled_jobs_jitter_check CHECK (
        jitter_seconds = 0 OR (interval_seconds IS NOT NULL AND jitter_seconds < interval_seconds)
    )
);
-- the scheduler's poll: active jobs whose next_run_at has passed
CREATE INDEX scheduled_jobs_due_idx ON scheduled_jobs (next_run_at) WHERE is_active;
CREATE INDEX scheduled_jobs_customer_idx ON scheduled_jobs (customer_id, created_at DESC, id DESC);
CREATE INDEX scheduled_jobs_brand_idx ON scheduled_jobs (brand_id, created_at DESC, id DESC);
CREATE INDEX scheduled_jobs_created_idx ON scheduled_jobs (created_at DESC, id DESC);

CREATE TABLE job_runs (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scheduled_job_id  uuid NOT NULL REFERENCES scheduled_jobs (id) ON DELETE CASCADE,
    customer_id       uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    brand_id          uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    job_type          text NOT NULL
        CHECK (job_type IN ('data_collection', 'scoring', 'data_collection_and_scoring')),
    trigger           text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'retry')),
    status            text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'completed', 'partial', 'failed',
                          'cancelled', 'skipped')),
    skip_reason       text,
    scheduled_for     timestamptz NOT NULL,
    run_after         timestamptz NOT NULL,
    attempt           integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    retry_of          bigint REFERENCES job_runs (id) ON DELETE SET NULL,
    worker_id         text,
    lease_expires_at  timestamptz,
    heartbeat_at      timestamptz,
    cancel_requested  boolean NOT NULL DEFAULT false,
    started_at        timestamptz,
    finished_at       timestamptz,
    metrics           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metrics) = 'object'),
    error_message     text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT job_runs_skip_reason_check
        CHECK ((status = 'skipped') = (skip_reason IS NOT NULL)),
    CONSTRAINT job_runs_processing_check CHECK (
        status <> 'processing'
        OR (worker_id IS NOT NULL AND started_at IS NOT NULL AND lease_expires_at IS NOT NULL)
    ),
    CONSTRAINT job_runs_finished_check CHECK (
        (status IN ('completed', 'partial', 'failed', 'cancelled', 'skipped'))
        = (finished_at IS NOT NULL)
    ),
    CONSTRAINT job_runs_started_check CHECK (
        status NOT IN ('completed', 'partial') OR started_at IS NOT NULL
    )
);
-- one run per scheduled slot, whatever runs concurrently
CREATE UNIQUE INDEX job_runs_slot_key ON job_runs (scheduled_job_id, scheduled_for)
    WHERE trigger = 'schedule';
-- the worker's claim: pending runs whose run_after has passed
CREATE INDEX job_runs_pending_idx ON job_runs (run_after, id) WHERE status = 'pending';
-- lease rescue: processing runs whose lease expired
CREATE INDEX job_runs_lease_idx ON job_runs (lease_expires_at) WHERE status = 'processing';
-- overlap check: a job's unfinished runs
CREATE INDEX job_runs_active_idx ON job_runs (scheduled_job_id)
    WHERE status IN ('pending', 'processing');
-- history listings, newest first (keyset on id)
CREATE INDEX job_runs_job_idx ON job_runs (scheduled_job_id, id DESC);
CREATE INDEX job_runs_customer_idx ON job_runs (customer_id, id DESC);
CREATE INDEX job_runs_brand_idx ON job_runs (brand_id, id DESC);
CREATE INDEX job_runs_status_idx ON job_runs (status, id DESC);
CREATE INDEX job_runs_retry_of_idx ON job_runs (retry_of) WHERE retry_of IS NOT NULL;

CREATE TABLE api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (length(btrim(name)) > 0),
    token_hash    text NOT NULL,
    role          text NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'viewer')),
    customer_id   uuid REFERENCES customers (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    CONSTRAINT api_tokens_hash_key UNIQUE (token_hash)
);

CREATE TABLE processes (
    id            text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('scheduler', 'worker', 'api')),
    hostname      text NOT NULL,
    pid           integer NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    stopped_at    timestamptz,
    info          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX processes_heartbeat_idx ON processes (kind, heartbeat_at DESC);

-- Wake workers at once when runs are inserted, and schedulers when jobs
-- change, whoever writes them (scheduler, API, CLI, psql). One notification
-- per statement; Postgres delivers it at commit.
CREATE FUNCTION cronkeeper_notify_runs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cronkeeper_runs', '');
    RETURN NULL;
END $$;

CREATE TRIGGER job_runs_notify AFTER INSERT ON job_runs
    FOR EACH STATEMENT EXECUTE FUNCTION cronkeeper_notify_runs();

CREATE FUNCTION cronkeeper_notify_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cronkeeper_jobs', '');
    RETURN NULL;
END $$;

CREATE TRIGGER scheduled_jobs_notify AFTER INSERT OR UPDATE OF next_run_at, is_active
    ON scheduled_jobs FOR EACH STATEMENT EXECUTE FUNCTION cronkeeper_notify_jobs();
