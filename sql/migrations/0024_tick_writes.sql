-- compatible: additive
-- A cheaper run insert for the scheduler's tick (issue 23, "a faster tick").
--
-- Each run inserted checked three foreign keys, one query each: its job, its
-- customer and its brand. The brand and the customer are checked together
-- now, as one pair against brands (id, customer_id) (brands_id_customer_key),
-- the way scheduled_jobs already checks them: one check fewer per run, and a
-- stricter rule (a run's brand belongs to its customer). Deletes cascade as
-- before: a brand's runs with the brand, a customer's with its brands. Older
-- code stays valid on it: every run it writes copies its job's brand and
-- customer, which scheduled_jobs_brand_fkey already ties together.
--
-- The index audit (docs/benchmarks.md, "Scheduler tick") kept every index on
-- job_runs: each serves a poll, a page or retention, and a scheduled run is
-- entered only in those that hold it: job_runs_pkey, job_runs_slot_key (one
-- run per slot: the tick's ON CONFLICT), job_runs_job_idx / _customer_idx /
-- _brand_idx (the runs pages, count retention, alerts), job_runs_created_idx
-- (a page's time range), and while pending job_runs_pending_idx (the worker's
-- wake-up, queue metrics, late alerts), job_runs_customer_queue_idx (the fair
-- claim) and job_runs_active_idx (the overlap check); a skipped slot instead
-- enters job_runs_finished_idx (retention by age) and job_runs_status_idx. The
-- others (job_runs_lease_idx, job_runs_retry_of_idx, job_runs_trigger_idx)
-- are partial and take no entry from a scheduled run.
ALTER TABLE job_runs
    ADD CONSTRAINT job_runs_brand_fkey FOREIGN KEY (brand_id, customer_id)
        REFERENCES brands (id, customer_id) ON DELETE CASCADE NOT VALID;
ALTER TABLE job_runs VALIDATE CONSTRAINT job_runs_brand_fkey;
ALTER TABLE job_runs DROP CONSTRAINT job_runs_brand_id_fkey;
ALTER TABLE job_runs DROP CONSTRAINT job_runs_customer_id_fkey;
