-- compatible: additive
-- Two runs pages as one walk of an index in their order, however many newer runs
-- of other kinds lie above them (issue 23; docs/benchmarks.md, "Admin API at 10 M
-- runs"). Both indexes are partial: a run the tick inserts (pending, scheduled)
-- takes an entry in neither.
--
-- A trigger across customers (GET /api/admin/job-runs?trigger=manual|retry).
-- job_runs_trigger_idx (trigger, customer_id, id DESC) serves a customer's manual
-- runs; across customers the page merged each customer's newest from it (after
-- the newest 5,000 runs, for a burst of scheduled ones): at 10,000,000 runs 110
-- customers x up to 51 entries and their rows, 9,400 buffers and 14-20 ms a page
-- warm, 155 ms with workers busy on 2 shared cores. Keyed (trigger, id DESC) the
-- page reads 51 entries (one more per skipped run), 0.9 ms. A manual or retry run
-- takes an entry at its insert and at each status change; a scheduled run none.
CREATE INDEX job_runs_trigger_id_idx ON job_runs (trigger, id DESC) WHERE trigger <> 'schedule';

-- The completed runs (GET /api/admin/job-runs?status=completed). The page walked
-- the primary key and read every newer run that is not completed: behind a backlog
-- of 200,000 pending runs (the newest, as a burst of due slots is) 0.4 s warm and
-- 1.9-3.3 s with workers busy. Now an index-only scan of 51 ids. The price is one
-- entry per run at its finish (an update that is never HOT, entering 7 other
-- indexes already): within the noise of an interleaved measurement of the
-- workers' batched finish (docs/benchmarks.md); nothing at the tick's insert. At
-- 10,000,000 runs it is 178 MB beside the table's 3.9 GB, and a month's share goes
-- with the month.
CREATE INDEX job_runs_completed_idx ON job_runs (id DESC) WHERE status = 'completed';

-- each month's indexes named after their parent (job_runs_completed_idx_p2027_01), as migration 0025 does
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS part, substr(c.relname, length('job_runs') + 1) AS suffix
             FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
             WHERE h.inhparent = 'job_runs'::regclass LOOP
        PERFORM ck_name_partition_indexes(r.part, r.suffix);
    END LOOP;
END $$;
