-- Fair claim: the worker takes due runs customer by customer (round-robin),
-- reading each customer's pending runs in due order, and breaks ties by the
-- runs each customer already has in flight. One index serves both: a
-- customer's pending runs by (run_after, id), and its processing runs counted.
CREATE INDEX job_runs_customer_queue_idx ON job_runs (customer_id, status, run_after, id)
    WHERE status IN ('pending', 'processing');

-- Per-customer quotas: a NULL limit means the installation's default
-- (CRONKEEPER_QUOTA_* settings). A customer without a row has every default.
-- The row is also what a quota check locks (SELECT ... FOR UPDATE), so two
-- concurrent saves of one customer count one after the other.
CREATE TABLE customer_quotas (
    customer_id                 uuid PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    max_jobs                    integer CHECK (max_jobs >= 0),
    max_active_jobs             integer CHECK (max_active_jobs >= 0),
    manual_triggers_per_minute  integer CHECK (manual_triggers_per_minute >= 0),
    max_sync_runs               integer CHECK (max_sync_runs >= 0),
    -- the manual-trigger rate: a fixed one-minute window and the triggers in it
    trigger_window              timestamptz,
    triggers_in_window          integer NOT NULL DEFAULT 0,
    updated_at                  timestamptz NOT NULL DEFAULT now()
);
