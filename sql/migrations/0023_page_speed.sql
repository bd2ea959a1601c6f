-- compatible: additive
-- The admin UI's charts of every run and of one customer's runs (GET
-- /api/admin/stats/runs without a job) from a rollup instead of the runs.
--
-- At 1,000,000 runs the chart read every run of its range: ~600,000 runs for
-- the last 24 hours, 0.3-0.6 s, and more as history grows. Each row here is
-- one 30-minute slot of job_runs.created_at, for every run and for each
-- customer with runs in it (a bound token's chart): runs by status and a histogram of
-- durations (class c holds runs that took [2^(c/4), 2^((c+1)/4)) seconds, so a
-- percentile read from it is within 10 %). A 30-minute slot lies whole in an
-- hour or a day of every zone whose offset is a multiple of 30 minutes; the
-- others (Asia/Kathmandu, Australia/Eucla, ...) are counted from the runs.
--
-- A cache kept by the readers (cronkeeper/stats_rollup.py), not by the
-- scheduler or the worker, whose writes stay as they were: a slot is counted
-- when a chart first needs it, and again when it is read while not final and
-- its count is more than 30 s old. It is final once it ended 5 minutes before
-- it was counted and held no pending or processing run. Runs deleted later
-- (retention) stay counted in it; see docs/benchmarks.md.
CREATE TABLE run_stats_slots (
    -- a customer's runs, or every run (the nil uuid); a slot is counted for all at once
    scope        uuid NOT NULL,
    slot_start   timestamptz NOT NULL,
    -- runs created in the slot by status, in this order: pending, processing,
    -- completed, partial, failed, cancelled, skipped
    counts       integer[] NOT NULL CHECK (cardinality(counts) = 7),
    -- durations of the runs that started and finished: class numbers and their run counts
    dur_classes  smallint[] NOT NULL DEFAULT '{}',
    dur_counts   integer[] NOT NULL DEFAULT '{}'
        CHECK (cardinality(dur_counts) = cardinality(dur_classes)),
    -- the state of the whole slot, on its every-run row: when it was counted, and
    -- whether a run was pending or processing then
    open         boolean NOT NULL,
    counted_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, slot_start)
);
-- a recount replaces the customers' rows of its slots
CREATE INDEX run_stats_slots_slot_idx ON run_stats_slots (slot_start);

-- Whole days of a zone whose slots were all final, summed once (same columns):
-- a 30-day chart reads 30 of these and the slots of its first and last days,
-- not 1,440 slots. Written by the first chart that sums such a day.
CREATE TABLE run_stats_days (
    scope        uuid NOT NULL,
    timezone     text NOT NULL,
    day_start    timestamptz NOT NULL,
    counts       integer[] NOT NULL CHECK (cardinality(counts) = 7),
    dur_classes  smallint[] NOT NULL DEFAULT '{}',
    dur_counts   integer[] NOT NULL DEFAULT '{}'
        CHECK (cardinality(dur_counts) = cardinality(dur_classes)),
    PRIMARY KEY (scope, timezone, day_start)
);
