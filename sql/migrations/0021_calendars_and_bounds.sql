-- Calendars and bounds on a job's schedule (docs/schedules.md).
-- compatible: additive
-- (new tables; new nullable or defaulted columns that older code ignores)

-- A named calendar of a customer: dates on which its jobs do not run
-- (calendar_dates), and optionally no Saturdays or Sundays. The scheduler reads
-- a slot's date in the job's own zone (services/scheduler/tick.py).
CREATE TABLE calendars (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id         uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    name                text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    business_days_only  boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT calendars_name_key UNIQUE (customer_id, name),
    -- the target of scheduled_jobs' (calendar_id, customer_id) foreign key
    CONSTRAINT calendars_id_customer_key UNIQUE (id, customer_id)
);

CREATE TABLE calendar_dates (
    calendar_id  uuid NOT NULL REFERENCES calendars (id) ON DELETE CASCADE,
    day          date NOT NULL,
    label        text CHECK (label IS NULL OR length(label) <= 200),
    PRIMARY KEY (calendar_id, day)
);

-- A job's calendar is always one of its own customer's: the foreign key holds
-- both columns. A calendar in use cannot be deleted (NO ACTION).
ALTER TABLE scheduled_jobs ADD COLUMN calendar_id uuid;
ALTER TABLE scheduled_jobs ADD CONSTRAINT scheduled_jobs_calendar_fkey
    FOREIGN KEY (calendar_id, customer_id) REFERENCES calendars (id, customer_id);
CREATE INDEX scheduled_jobs_calendar_idx ON scheduled_jobs (calendar_id) WHERE calendar_id IS NOT NULL;

-- Bounds: no slot before starts_at or after ends_at; at most max_runs
-- scheduled runs (scheduled_run_count counts those the scheduler created,
-- skipped slots not included; it survives the pruning of old runs).
ALTER TABLE scheduled_jobs ADD COLUMN starts_at timestamptz;
ALTER TABLE scheduled_jobs ADD COLUMN ends_at timestamptz;
ALTER TABLE scheduled_jobs ADD COLUMN max_runs integer
    CONSTRAINT scheduled_jobs_max_runs_check CHECK (max_runs BETWEEN 1 AND 1000000);
ALTER TABLE scheduled_jobs ADD COLUMN scheduled_run_count integer NOT NULL DEFAULT 0
    CONSTRAINT scheduled_jobs_run_count_check CHECK (scheduled_run_count >= 0);
ALTER TABLE scheduled_jobs ADD CONSTRAINT scheduled_jobs_bounds_check
    CHECK (starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at);
