-- name: insert_scores
INSERT INTO answer_scores (answer_id, run_id, brand_id, mentioned, mention_count, position,
                           sentiment, share_of_voice, competitors_mentioned)
SELECT a, r, b, m, mc, p, s, sov, string_to_array(c, E'\x1f')
FROM unnest(
    %(answer_id)s::bigint[], %(run_id)s::bigint[], %(brand_id)s::uuid[], %(mentioned)s::bool[],
    %(mention_count)s::int[], %(position)s::int[], %(sentiment)s::float8[],
    %(share_of_voice)s::float8[], %(competitors)s::text[]
) AS u(a, r, b, m, mc, p, s, sov, c)
RETURNING id

-- name: list_for_run
SELECT s.*, a.query, a.collector FROM answer_scores s
JOIN collected_answers a ON a.id = s.answer_id
WHERE s.run_id = %(run_id)s ORDER BY s.id LIMIT %(limit)s

-- name: trends_for_brand
SELECT r.id AS run_id, r.finished_at, r.status,
       (r.metrics ->> 'mention_rate')::float8 AS mention_rate,
       (r.metrics ->> 'mean_position')::float8 AS mean_position,
       (r.metrics ->> 'mean_sentiment')::float8 AS mean_sentiment
FROM job_runs r
WHERE r.brand_id = %(brand_id)s AND r.status IN ('completed', 'partial')
  AND r.metrics ? 'mention_rate'
ORDER BY r.id DESC LIMIT %(limit)s
