-- The audit trail: who changed what, written by the service layer in the same
-- transaction as the change itself (cronkeeper/audit.py), so a change that
-- rolls back leaves no event and a committed one always has its event.
--
-- No foreign keys on purpose: an event outlives its token, its customer and
-- the object it names (a deleted job's "delete" event is the point).
-- customer_id is the changed object's customer (NULL for an unbound token's
-- own rows): what a token bound to a customer is limited to when it reads.
-- job_id ties a job's events and its runs' (trigger, cancel, retry, export)
-- together for the job page. changes is {field: [before, after]} for the
-- fields that changed, never a secret.
CREATE TABLE audit_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    token_id       bigint,
    token_name     text NOT NULL CHECK (length(token_name) > 0),
    customer_id    uuid,
    action         text NOT NULL CHECK (action ~ '^[a-z_]{1,32}$'),
    resource_type  text NOT NULL
        CHECK (resource_type IN ('job', 'run', 'brand', 'query', 'customer', 'token')),
    resource_id    text NOT NULL,
    job_id         uuid,
    changes        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(changes) = 'object')
);
-- newest first, keyset on id: by object, by job, by customer
CREATE INDEX audit_events_resource_idx ON audit_events (resource_type, resource_id, id);
CREATE INDEX audit_events_job_idx ON audit_events (job_id, id) WHERE job_id IS NOT NULL;
CREATE INDEX audit_events_customer_idx ON audit_events (customer_id, id);
