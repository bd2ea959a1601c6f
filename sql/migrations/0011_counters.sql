-- Counters that only go up, for /metrics (cronkeeper/repo/counters.py).
-- Each event adds to its counter in the transaction that records the event (a
-- run's outcome, a lease expiry), so the numbers are those of the committed
-- history and survive retention pruning: nothing ever deletes a row here.
-- A counter is one row per (name, labels, shard); a scrape sums the shards.
-- labels: a JSON object as canonical text (keys sorted, no spaces), written
-- only by cronkeeper.repo.counters; text, not jsonb, because a scrape groups
-- every row by it, and text hashes several times cheaper.
-- Each process writes its own shard (pid mod 8), so many workers finishing
-- runs at once do not all queue on the lock of one hot row.
-- fillfactor: the rows are updated in place over and over; free room on the
-- page keeps those updates HOT (no index entry per update).
CREATE TABLE cronkeeper_counters (
    name text NOT NULL,
    labels text NOT NULL DEFAULT '{}',
    shard smallint NOT NULL DEFAULT 0,
    value bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (name, labels, shard),
    CONSTRAINT cronkeeper_counters_shard_check CHECK (shard BETWEEN 0 AND 63),
    CONSTRAINT cronkeeper_counters_value_check CHECK (value >= 0),
    CONSTRAINT cronkeeper_counters_labels_check CHECK (jsonb_typeof(labels::jsonb) = 'object')
) WITH (fillfactor = 50);
