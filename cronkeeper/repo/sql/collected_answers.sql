-- name: insert_answers
-- Each answer carries its run's slot (the partition key, migration 0025), read here.
INSERT INTO collected_answers (run_id, brand_id, query_id, query, collector, model, answer,
                               sources, latency_ms, run_scheduled_for)
SELECT u.run_id, u.brand_id, u.query_id, u.query, u.collector, u.model, u.answer, u.sources,
       u.latency_ms, r.scheduled_for
FROM unnest(
    %(run_id)s::bigint[], %(brand_id)s::uuid[], %(query_id)s::bigint[], %(query)s::text[],
    %(collector)s::text[], %(model)s::text[], %(answer)s::text[], %(sources)s::jsonb[],
    %(latency_ms)s::float8[]
) WITH ORDINALITY AS u(run_id, brand_id, query_id, query, collector, model, answer, sources, latency_ms, n)
LEFT JOIN job_runs r ON r.id = u.run_id
ORDER BY u.n
RETURNING id

-- name: insert_answers_fenced
-- insert_answers for the attempt that holds the run: only rows whose run is
-- still 'processing' by %(worker_id)s are written, checked in this statement.
-- FOR SHARE holds the run row until the insert commits, so a rescue or a
-- release (an UPDATE of the row) waits for it or has already won: once an
-- attempt has lost its run, none of its answers land. written_by: that worker.
WITH owner AS (
    SELECT id, scheduled_for FROM job_runs
    WHERE id = ANY(%(run_id)s::bigint[]) AND status = 'processing' AND worker_id = %(worker_id)s
    FOR SHARE
)
INSERT INTO collected_answers (run_id, brand_id, query_id, query, collector, model, answer,
                               sources, latency_ms, written_by, run_scheduled_for)
SELECT u.run_id, u.brand_id, u.query_id, u.query, u.collector, u.model, u.answer, u.sources,
       u.latency_ms, %(worker_id)s, owner.scheduled_for FROM unnest(
    %(run_id)s::bigint[], %(brand_id)s::uuid[], %(query_id)s::bigint[], %(query)s::text[],
    %(collector)s::text[], %(model)s::text[], %(answer)s::text[], %(sources)s::jsonb[],
    %(latency_ms)s::float8[]
) AS u(run_id, brand_id, query_id, query, collector, model, answer, sources, latency_ms)
JOIN owner ON owner.id = u.run_id
RETURNING id

-- name: list_for_run
SELECT * FROM collected_answers WHERE run_id = %(run_id)s AND id > %(after_id)s
ORDER BY id LIMIT %(limit)s

-- name: latest_for_brand
-- The brand's newest answers that count: those of runs that ended completed or
-- partial. Answers of failed, cancelled or lost attempts (and of runs still
-- going) are never scored.
SELECT a.* FROM collected_answers a JOIN job_runs r ON r.id = a.run_id
WHERE a.brand_id = %(brand_id)s AND r.status IN ('completed', 'partial')
ORDER BY a.id DESC LIMIT %(limit)s

-- name: count_for_run
SELECT count(*) AS n FROM collected_answers WHERE run_id = %(run_id)s

-- name: export_page
-- One row per answer the run collected or scored (a scoring run scores earlier
-- runs' answers), with the score this run made, else the answer's latest one of a
-- completed or partial run (a failed or lost scoring attempt's scores never show),
-- in answer order after %(after_id)s. Pages of a download: one short statement each
-- (it never holds a connection between pages); limit NULL: every row (a file export's cursor).
WITH picked AS (
    SELECT a.id FROM collected_answers a WHERE a.run_id = %(run_id)s AND a.id > %(after_id)s
    UNION
    SELECT s.answer_id FROM answer_scores s WHERE s.run_id = %(run_id)s AND s.answer_id > %(after_id)s
    ORDER BY 1 LIMIT %(limit)s
)
SELECT r.id AS run_id, r.scheduled_for, r.scheduled_job_id AS job_id, j.name AS job_name,
       r.job_type, a.brand_id, b.name AS brand, a.id AS answer_id, a.query_id, a.query,
       a.collector, a.model, a.answer, a.sources, a.latency_ms, a.created_at AS answered_at,
       s.mentioned, s.mention_count, s.position, s.sentiment, s.share_of_voice,
       s.competitors_mentioned, s.created_at AS scored_at
FROM picked p
JOIN collected_answers a ON a.id = p.id
JOIN brands b ON b.id = a.brand_id
JOIN job_runs r ON r.id = %(run_id)s
JOIN scheduled_jobs j ON j.id = r.scheduled_job_id
LEFT JOIN LATERAL (
    SELECT s.* FROM answer_scores s JOIN job_runs sr ON sr.id = s.run_id
    WHERE s.answer_id = a.id AND (s.run_id = %(run_id)s OR sr.status IN ('completed', 'partial'))
    ORDER BY s.run_id = %(run_id)s DESC, s.id DESC LIMIT 1
) s ON true
ORDER BY a.id
