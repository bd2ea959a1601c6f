-- compatible: breaking
-- (collected_answers and answer_scores gain run_scheduled_for NOT NULL, which
-- older code's inserts do not write; job_runs' primary key is (id, scheduled_for))
--
-- Partitioned history (docs/partitioning.md): job_runs, collected_answers and
-- answer_scores become RANGE partitioned by the run's slot, one partition per
-- UTC month (job_runs_p2027_01 ...) and a DEFAULT partition for slots outside
-- every created month. The scheduler creates months ahead
-- (ck_run_partition_ensure) and retention drops whole months
-- (ck_run_partitions_drop); services/scheduler/partitions.py calls both.
--
-- Partition key = scheduled_for: the slot key (scheduled_job_id, scheduled_for)
-- WHERE trigger = 'schedule' contains it, so the exactly-once guarantee stays a
-- unique index. A unique index must hold the key, so the primary key is
-- (id, scheduled_for); ids still come from one identity sequence (carried over:
-- no id changes, none is reused). The children carry their run's slot
-- (run_scheduled_for) and reference (run_id, run_scheduled_for): the same
-- ON DELETE CASCADE, and the same month as their run. Two references cannot
-- be foreign keys any more (they would need the other row's slot):
-- job_runs.retry_of keeps ON DELETE SET NULL through a statement trigger, and
-- answer_scores.answer_id is a plain reference (a scoring run's scores stay when
-- the scored run is pruned; readers join the answers).
--
-- The conversion copies the rows into the new tables and rebuilds whatever
-- indexes, foreign keys, triggers and views the old tables had (read from the
-- catalog, so the index set of earlier migrations carries over as it stands).

-- Names a partition's indexes after their parent index: <parent index><suffix>
-- (job_runs_pending_idx_p2027_01), so a plan names the index it uses.
CREATE FUNCTION ck_name_partition_indexes(part regclass, suffix text) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.relname AS child, p.relname AS parent
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_inherits h ON h.inhrelid = i.indexrelid
        JOIN pg_class p ON p.oid = h.inhparent
        WHERE i.indrelid = part
    LOOP
        IF r.child <> r.parent || suffix THEN
            EXECUTE format('ALTER INDEX %I RENAME TO %I', r.child, r.parent || suffix);
        END IF;
    END LOOP;
END $$;

-- Creates the month holding `month` (UTC) for the three tables, unless it exists;
-- true when it created it. Rows of that month in the DEFAULT partitions move
-- into it. Each table is created alone and attached (SHARE UPDATE EXCLUSIVE on
-- the parent: reads and writes go on). One at a time across schedulers.
-- SECURITY DEFINER: the app role (rows only, docs/deploy.md) calls it.
CREATE FUNCTION ck_run_partition_ensure(month timestamptz) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    lo_ts  timestamp := date_trunc('month', month AT TIME ZONE 'UTC');
    lo     timestamptz := lo_ts AT TIME ZONE 'UTC';
    hi     timestamptz := (lo_ts + interval '1 month') AT TIME ZONE 'UTC';
    suffix text := to_char(lo_ts, '"_p"YYYY_MM');
    t      record;
BEGIN
    IF to_regclass('job_runs' || suffix) IS NOT NULL THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('cronkeeper_run_partitions'));
    IF to_regclass('job_runs' || suffix) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- children first: moving a run out of the default would cascade to its answers
    FOR t IN SELECT * FROM (VALUES ('answer_scores', 'run_scheduled_for', 1),
                                   ('collected_answers', 'run_scheduled_for', 2),
                                   ('job_runs', 'scheduled_for', 3)) v(tbl, col, n) ORDER BY n
    LOOP
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)',
                       t.tbl || suffix, t.tbl);
        IF to_regclass(t.tbl || '_default') IS NOT NULL THEN
            EXECUTE format('WITH m AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) '
                           'INSERT INTO %I SELECT * FROM m',
                           t.tbl || '_default', t.col, t.col, t.tbl || suffix) USING lo, hi;
        END IF;
    END LOOP;
    FOR t IN SELECT * FROM (VALUES ('job_runs', 1), ('collected_answers', 2), ('answer_scores', 3)) v(tbl, n)
             ORDER BY n
    LOOP
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                       t.tbl, t.tbl || suffix, lo, hi);
        PERFORM ck_name_partition_indexes((t.tbl || suffix)::regclass, suffix);
    END LOOP;
    RETURN true;
END $$;

-- Drops the months that ended before `cutoff` whose runs all finished before it
-- (oldest first, at most `max_months`); returns their names (job_runs_p2026_01).
-- A month with a run still going, or finished since, stays (row pruning
-- handles it). Runs elsewhere that retry a dropped run lose their retry_of (the
-- old ON DELETE SET NULL). The three parents are locked in the workers' order.
CREATE FUNCTION ck_run_partitions_drop(cutoff timestamptz, max_months integer DEFAULT 1) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    p      record;
    busy   boolean;
    done   integer := 0;
BEGIN
    FOR p IN
        SELECT c.relname AS name, substr(c.relname, length('job_runs') + 1) AS suffix,
               to_date(substr(c.relname, length('job_runs_p') + 1), 'YYYY_MM')::timestamp AS lo_ts
        FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
        WHERE h.inhparent = 'job_runs'::regclass AND c.relname ~ '^job_runs_p[0-9]{4}_[0-9]{2}$'
        ORDER BY c.relname
    LOOP
        EXIT WHEN done >= max_months OR ((p.lo_ts + interval '1 month') AT TIME ZONE 'UTC') > cutoff;
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %1$I WHERE status IN (''pending'', ''processing'')) '
                       'OR EXISTS (SELECT 1 FROM %1$I WHERE finished_at >= $1)', p.name)
            INTO busy USING cutoff;
        CONTINUE WHEN busy;
        EXECUTE format('UPDATE job_runs SET retry_of = NULL '
                       'WHERE retry_of IS NOT NULL AND retry_of IN (SELECT id FROM %I) '
                       'AND NOT (scheduled_for >= $1 AND scheduled_for < $2)', p.name)
            USING p.lo_ts AT TIME ZONE 'UTC', (p.lo_ts + interval '1 month') AT TIME ZONE 'UTC';
        LOCK TABLE job_runs, collected_answers, answer_scores IN ACCESS EXCLUSIVE MODE;
        EXECUTE format('DROP TABLE IF EXISTS %I', 'answer_scores' || p.suffix);
        EXECUTE format('DROP TABLE IF EXISTS %I', 'collected_answers' || p.suffix);
        EXECUTE format('ALTER TABLE job_runs DETACH PARTITION %I', p.name);
        EXECUTE format('DROP TABLE %I', p.name);
        done := done + 1;
        RETURN NEXT p.name;
    END LOOP;
END $$;

-- The conversion.
CREATE TEMP TABLE ck_convert (kind text, tbl text, name text, def text, n serial) ON COMMIT DROP;

DO $$
DECLARE
    t text;
    r record;
BEGIN
    FOREACH t IN ARRAY ARRAY['job_runs', 'collected_answers', 'answer_scores'] LOOP
        -- secondary indexes (the primary keys are rebuilt with the partition key)
        INSERT INTO ck_convert (kind, tbl, name, def)
        SELECT 'index', t, c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = t::regclass AND NOT i.indisprimary ORDER BY c.relname;
        -- foreign keys to other tables (those among these three are rebuilt below)
        INSERT INTO ck_convert (kind, tbl, name, def)
        SELECT 'fkey', t, conname, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE conrelid = t::regclass AND contype = 'f'
          AND confrelid NOT IN ('job_runs'::regclass, 'collected_answers'::regclass, 'answer_scores'::regclass)
        ORDER BY conname;
        INSERT INTO ck_convert (kind, tbl, name, def)
        SELECT 'trigger', t, tgname, pg_get_triggerdef(oid)
        FROM pg_trigger WHERE tgrelid = t::regclass AND NOT tgisinternal ORDER BY tgname;
        INSERT INTO ck_convert (kind, tbl, name, def)
        SELECT 'grant', t, a.grantee::regrole::text, a.privilege_type
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE c.oid = t::regclass AND a.grantee <> 0 AND a.grantee <> c.relowner;
    END LOOP;
    -- views on them (job_run_docs), in creation order
    INSERT INTO ck_convert (kind, tbl, name, def)
    SELECT 'view', NULL, v.oid::regclass::text, pg_get_viewdef(v.oid)
    FROM pg_class v
    WHERE v.relkind = 'v' AND EXISTS (
        SELECT 1 FROM pg_depend d JOIN pg_rewrite rw ON rw.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND rw.ev_class = v.oid
          AND d.refobjid IN ('job_runs'::regclass, 'collected_answers'::regclass, 'answer_scores'::regclass))
    ORDER BY v.oid;
    FOR r IN SELECT name FROM ck_convert WHERE kind = 'view' ORDER BY n DESC LOOP
        EXECUTE format('DROP VIEW %s', r.name);
    END LOOP;

    FOREACH t IN ARRAY ARRAY['job_runs', 'collected_answers', 'answer_scores'] LOOP
        EXECUTE format('ALTER TABLE %I RENAME TO %I', t, t || '_old');
        EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', pg_get_serial_sequence(t || '_old', 'id'), t || '_old_id_seq');
        FOR r IN SELECT name FROM ck_convert WHERE kind = 'index' AND tbl = t LOOP
            EXECUTE format('ALTER INDEX %I RENAME TO %I', r.name, left(r.name, 59) || '_old');
        END LOOP;
        EXECUTE format('ALTER INDEX %I RENAME TO %I', t || '_pkey', t || '_old_pkey');
    END LOOP;
END $$;

CREATE TABLE job_runs (LIKE job_runs_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY
                       INCLUDING STORAGE INCLUDING COMMENTS)
    PARTITION BY RANGE (scheduled_for);
CREATE TABLE collected_answers (LIKE collected_answers_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS
                                INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS,
                                run_scheduled_for timestamptz NOT NULL)
    PARTITION BY RANGE (run_scheduled_for);
CREATE TABLE answer_scores (LIKE answer_scores_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS
                            INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS,
                            run_scheduled_for timestamptz NOT NULL)
    PARTITION BY RANGE (run_scheduled_for);
CREATE TABLE job_runs_default PARTITION OF job_runs DEFAULT;
CREATE TABLE collected_answers_default PARTITION OF collected_answers DEFAULT;
CREATE TABLE answer_scores_default PARTITION OF answer_scores DEFAULT;

-- the months of the history (at most the last 36) up to two months ahead
SELECT ck_run_partition_ensure(m)
FROM generate_series(
    date_trunc('month', greatest(coalesce((SELECT min(scheduled_for) FROM job_runs_old), now()),
                                 now() - interval '36 months'), 'UTC'),
    now() + interval '2 months', interval '1 month') m;

-- the rows, ids as they were
INSERT INTO job_runs OVERRIDING SYSTEM VALUE SELECT * FROM job_runs_old;
INSERT INTO collected_answers OVERRIDING SYSTEM VALUE
SELECT a.*, r.scheduled_for FROM collected_answers_old a JOIN job_runs_old r ON r.id = a.run_id;
INSERT INTO answer_scores OVERRIDING SYSTEM VALUE
SELECT s.*, r.scheduled_for FROM answer_scores_old s JOIN job_runs_old r ON r.id = s.run_id;
DO $$
DECLARE t text; last bigint; called boolean;
BEGIN
    FOREACH t IN ARRAY ARRAY['job_runs', 'collected_answers', 'answer_scores'] LOOP
        EXECUTE format('SELECT last_value, is_called FROM %I', t || '_old_id_seq') INTO last, called;
        PERFORM setval(pg_get_serial_sequence(t, 'id'), last, called);
    END LOOP;
END $$;

ALTER TABLE job_runs ADD CONSTRAINT job_runs_pkey PRIMARY KEY (id, scheduled_for);
ALTER TABLE collected_answers ADD CONSTRAINT collected_answers_pkey PRIMARY KEY (id, run_scheduled_for);
ALTER TABLE answer_scores ADD CONSTRAINT answer_scores_pkey PRIMARY KEY (id, run_scheduled_for);

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM ck_convert WHERE kind = 'index' ORDER BY n LOOP
        EXECUTE r.def;  -- read before the rename: names the new table
    END LOOP;
    FOR r IN SELECT * FROM ck_convert WHERE kind = 'fkey' ORDER BY n LOOP
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', r.tbl, r.name, r.def);
    END LOOP;
    FOR r IN SELECT * FROM ck_convert WHERE kind = 'trigger' ORDER BY n LOOP
        EXECUTE r.def;
    END LOOP;
    FOR r IN SELECT * FROM ck_convert WHERE kind = 'grant' ORDER BY n LOOP
        EXECUTE format('GRANT %s ON %I TO %I', r.def, r.tbl, r.name);
    END LOOP;
END $$;

ALTER TABLE collected_answers ADD CONSTRAINT collected_answers_run_id_fkey
    FOREIGN KEY (run_id, run_scheduled_for) REFERENCES job_runs (id, scheduled_for) ON DELETE CASCADE;
ALTER TABLE answer_scores ADD CONSTRAINT answer_scores_run_id_fkey
    FOREIGN KEY (run_id, run_scheduled_for) REFERENCES job_runs (id, scheduled_for) ON DELETE CASCADE;

-- retry_of: ON DELETE SET NULL, for the runs that outlive the run they retry
-- (a retry shares its run's slot, so a dropped month takes both)
CREATE FUNCTION ck_runs_forget_retried() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE job_runs SET retry_of = NULL
    WHERE retry_of IS NOT NULL AND retry_of IN (SELECT id FROM gone);
    RETURN NULL;
END $$;
CREATE TRIGGER job_runs_retry_of_set_null AFTER DELETE ON job_runs
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION ck_runs_forget_retried();

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM ck_convert WHERE kind = 'view' ORDER BY n LOOP
        EXECUTE format('CREATE VIEW %s AS %s', r.name, r.def);
    END LOOP;
    FOR r IN SELECT c.oid::regclass AS part, substr(c.relname, length(p.relname) + 1) AS suffix
             FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_class p ON p.oid = h.inhparent
             WHERE p.relname IN ('job_runs', 'collected_answers', 'answer_scores') LOOP
        PERFORM ck_name_partition_indexes(r.part, r.suffix);
    END LOOP;
END $$;

DROP TABLE answer_scores_old, collected_answers_old, job_runs_old;
ANALYZE job_runs;
ANALYZE collected_answers;
ANALYZE answer_scores;
