-- Alerts: late, missed, failing and slow jobs (services/scheduler/alerts.py
-- evaluates, cronkeeper/alert_delivery.py delivers; docs/alerts.md).

-- Alert rules, merged key by key: the job's, then its customer's, then the
-- installation's default (CRONKEEPER_ALERT_* settings). '{}' = all defaults.
ALTER TABLE scheduled_jobs ADD COLUMN alert_rules jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT scheduled_jobs_alert_rules_check CHECK (jsonb_typeof(alert_rules) = 'object');
ALTER TABLE customers ADD COLUMN alert_rules jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT customers_alert_rules_check CHECK (jsonb_typeof(alert_rules) = 'object');

-- One row per incident. The partial unique index allows one OPEN alert per
-- (job, kind): any number of schedulers may evaluate at once, a repeat of the
-- incident only bumps count / last_seen_at (INSERT ... ON CONFLICT DO UPDATE).
-- last_run_id / last_scheduled_for: the newest occurrence counted, so reading
-- the same run twice never counts it twice. Runs are pruned by retention, so
-- run ids are plain numbers, not foreign keys. kind is open-ended for the
-- pause work to come ('auto_paused').
CREATE TABLE alerts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scheduled_job_id    uuid NOT NULL REFERENCES scheduled_jobs (id) ON DELETE CASCADE,
    customer_id         uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind                text NOT NULL
        CHECK (kind IN ('late', 'missed', 'failed', 'consecutive_failures', 'slow')),
    scheduled_for       timestamptz,
    run_id              bigint,
    message             text NOT NULL,
    count               integer NOT NULL DEFAULT 1 CHECK (count >= 1),
    last_run_id         bigint,
    last_scheduled_for  timestamptz,
    opened_at           timestamptz NOT NULL,
    last_seen_at        timestamptz NOT NULL,
    resolved_at         timestamptz,
    resolved_by_run_id  bigint,
    acked_at            timestamptz,
    acked_by            text,
    CONSTRAINT alerts_acked_check CHECK ((acked_at IS NULL) = (acked_by IS NULL))
);
CREATE UNIQUE INDEX alerts_open_key ON alerts (scheduled_job_id, kind) WHERE resolved_at IS NULL;
-- listings, newest first (keyset on id): all, by customer, by job
CREATE INDEX alerts_customer_idx ON alerts (customer_id, id DESC);
CREATE INDEX alerts_job_idx ON alerts (scheduled_job_id, id DESC);

-- Where alerts go: customer_id NULL = every customer's alerts (global).
-- secret_name: a signing secret of CRONKEEPER_WEBHOOK_SECRETS (webhooks only).
CREATE TABLE alert_channels (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  uuid REFERENCES customers (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('webhook', 'email')),
    target       text NOT NULL CHECK (length(target) BETWEEN 3 AND 2000),
    secret_name  text,
    enabled      boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT alert_channels_secret_check CHECK (kind = 'webhook' OR secret_name IS NULL)
);
CREATE INDEX alert_channels_customer_idx ON alert_channels (customer_id) WHERE enabled;

-- One row per attempt: a failed attempt stays 'failed' with its error and the
-- next attempt is a new 'pending' row due at next_attempt_at (backoff).
CREATE TABLE alert_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id         bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    channel_id       bigint NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
    event            text NOT NULL CHECK (event IN ('opened', 'resolved')),
    attempt          integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    next_attempt_at  timestamptz NOT NULL,
    error            text,
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT alert_deliveries_sent_check CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX alert_deliveries_alert_idx ON alert_deliveries (alert_id, id);

-- The audit trail records alert acknowledgements and channel changes.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_resource_type_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_resource_type_check
    CHECK (resource_type IN ('job', 'run', 'brand', 'query', 'customer', 'token', 'alert', 'alert_channel'));
