-- name: insert_answers
INSERT INTO collected_answers (run_id, brand_id, query_id, query, collector, model, answer,
                               sources, latency_ms)
SELECT * FROM unnest(
    %(run_id)s::bigint[], %(brand_id)s::uuid[], %(query_id)s::bigint[], %(query)s::text[],
    %(collector)s::text[], %(model)s::text[], %(answer)s::text[], %(sources)s::jsonb[],
    %(latency_ms)s::float8[]
)
RETURNING id

-- name: list_for_run
SELECT * FROM collected_answers WHERE run_id = %(run_id)s AND id > %(after_id)s
ORDER BY id LIMIT %(limit)s

-- name: latest_for_brand
SELECT * FROM collected_answers WHERE brand_id = %(brand_id)s
ORDER BY id DESC LIMIT %(limit)s

-- name: count_for_run
SELECT count(*) AS n FROM collected_answers WHERE run_id = %(run_id)s

-- name: export_rows
SELECT a.id AS answer_id, a.run_id, a.query, a.collector, a.model, a.answer, a.sources,
       a.latency_ms, a.created_at, s.mentioned, s.mention_count, s.position, s.sentiment,
       s.share_of_voice, s.competitors_mentioned
FROM collected_answers a
LEFT JOIN LATERAL (
    SELECT * FROM answer_scores s WHERE s.answer_id = a.id ORDER BY s.id DESC LIMIT 1
) s ON true
WHERE a.run_id = %(run_id)s
ORDER BY a.id
