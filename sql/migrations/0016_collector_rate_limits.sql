-- A collector's rate limit shared by every worker process (cronkeeper/collectors/gate.py).
-- One row per collector (its name and a hash of its settings): tat is the
-- theoretical arrival time of its next request (GCRA). A process reserves a few
-- tokens per statement by moving tat ahead, and waits until each is due.
-- Concurrency limits need no table: they are session advisory locks.
-- fillfactor: the rows are updated in place over and over (HOT updates).
CREATE TABLE collector_rate_limits (
    key text PRIMARY KEY,
    tat timestamptz NOT NULL
) WITH (fillfactor = 50);
