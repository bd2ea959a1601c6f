-- name: insert_scores
-- Each score carries its run's slot (the partition key, migration 0025), read here.
INSERT INTO answer_scores (answer_id, run_id, brand_id, mentioned, mention_count, position,
                           sentiment, share_of_voice, competitors_mentioned, run_scheduled_for)
SELECT a, r, b, m, mc, p, s, sov, string_to_array(c, E'\x1f'), run.scheduled_for
FROM unnest(
    %(answer_id)s::bigint[], %(run_id)s::bigint[], %(brand_id)s::uuid[], %(mentioned)s::bool[],
    %(mention_count)s::int[], %(position)s::int[], %(sentiment)s::float8[],
    %(share_of_voice)s::float8[], %(competitors)s::text[]
) WITH ORDINALITY AS u(a, r, b, m, mc, p, s, sov, c, n)
LEFT JOIN job_runs run ON run.id = u.r
ORDER BY u.n
RETURNING id

-- name: insert_scores_fenced
-- insert_scores for the attempt that holds the run (as insert_answers_fenced):
-- only scores whose run is still 'processing' by %(worker_id)s are written.
WITH owner AS (
    SELECT id, scheduled_for FROM job_runs
    WHERE id = ANY(%(run_id)s::bigint[]) AND status = 'processing' AND worker_id = %(worker_id)s
    FOR SHARE
)
INSERT INTO answer_scores (answer_id, run_id, brand_id, mentioned, mention_count, position,
                           sentiment, share_of_voice, competitors_mentioned, written_by, run_scheduled_for)
SELECT a, r, b, m, mc, p, s, sov, string_to_array(c, E'\x1f'), %(worker_id)s, owner.scheduled_for
FROM unnest(
    %(answer_id)s::bigint[], %(run_id)s::bigint[], %(brand_id)s::uuid[], %(mentioned)s::bool[],
    %(mention_count)s::int[], %(position)s::int[], %(sentiment)s::float8[],
    %(share_of_voice)s::float8[], %(competitors)s::text[]
) AS u(a, r, b, m, mc, p, s, sov, c)
JOIN owner ON owner.id = u.r
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

-- name: trends_for_brand_range
-- The brand's scored runs created in [start, end) (job_runs_brand_idx), newest
-- first; each run's numbers from its metrics.
SELECT r.id AS run_id, r.finished_at, r.status,
       (r.metrics ->> 'mention_rate')::float8 AS mention_rate,
       (r.metrics ->> 'mean_position')::float8 AS mean_position,
       (r.metrics ->> 'mean_sentiment')::float8 AS mean_sentiment,
       (r.metrics ->> 'share_of_voice')::float8 AS share_of_voice,
       (r.metrics ->> 'answers_scored')::int AS answers
FROM job_runs r
WHERE r.brand_id = %(brand_id)s AND r.status IN ('completed', 'partial')
  AND r.metrics ? 'mention_rate'
  AND r.created_at >= %(start)s AND r.created_at < %(end)s
ORDER BY r.id DESC LIMIT %(limit)s

-- name: competitor_counts_for_runs
-- How many of each run's scored answers mention each competitor.
SELECT s.run_id, c.name, count(*) AS n
FROM answer_scores s CROSS JOIN LATERAL unnest(s.competitors_mentioned) AS c(name)
WHERE s.run_id = ANY(%(run_ids)s::bigint[])
GROUP BY s.run_id, c.name

-- name: brand_days
-- The brand's scores per day (cut in %(timezone)s) of the runs created in [start,
-- end): the brand's runs through job_runs_brand_idx, their scores through
-- answer_scores_run_idx; only runs that ended completed or partial (a failed or
-- lost attempt's scores do not count). Means as cronkeeper.scoring.summarize takes them (over
-- the answers that mention the brand, or anyone for share of voice).
SELECT date_trunc('day', r.created_at, %(timezone)s) AS day, count(DISTINCT r.id) AS runs,
       count(*) AS answers, avg(s.mentioned::int)::float8 AS mention_rate,
       avg(s.position)::float8 AS mean_position, avg(s.sentiment)::float8 AS mean_sentiment,
       avg(s.share_of_voice)::float8 AS share_of_voice
FROM job_runs r JOIN answer_scores s ON s.run_id = r.id
WHERE r.brand_id = %(brand_id)s AND r.status IN ('completed', 'partial')
  AND r.created_at >= %(start)s AND r.created_at < %(end)s
GROUP BY 1 ORDER BY 1

-- name: brand_competitor_days
-- Per day as brand_days: how many scored answers mention each competitor.
SELECT date_trunc('day', r.created_at, %(timezone)s) AS day, c.name, count(*) AS n
FROM job_runs r JOIN answer_scores s ON s.run_id = r.id
CROSS JOIN LATERAL unnest(s.competitors_mentioned) AS c(name)
WHERE r.brand_id = %(brand_id)s AND r.status IN ('completed', 'partial')
  AND r.created_at >= %(start)s AND r.created_at < %(end)s
GROUP BY 1, 2

-- name: range_scores
-- As brand_days and brand_competitor_days at once, per range [starts[i],
-- ends[i]) (sorted, disjoint: whole days, or the part of one a chart covers),
-- one row per range (zeros without scores): the brand's runs created in
-- [lo, hi) read once through job_runs_brand_idx, each placed in its range by a
-- binary search (width_bucket), their scores by answer_scores_run_idx (OFFSET 0
-- keeps the lateral a loop, not a hash of the whole table). open: a run of
-- the range was pending or processing (its scores may still come or go).
WITH ranges AS (
    SELECT d.i::int AS i, d.lo, d.hi
    FROM unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) WITH ORDINALITY AS d(lo, hi, i)
), placed AS MATERIALIZED (
    SELECT r.id, r.status, d.i
    FROM job_runs r
    JOIN ranges d ON d.i = width_bucket(r.created_at, %(starts)s::timestamptz[]) AND r.created_at < d.hi
    WHERE r.brand_id = %(brand_id)s AND r.created_at >= %(lo)s AND r.created_at < %(hi)s
), scored AS MATERIALIZED (
    SELECT p.i, p.id AS run_id, s.mentioned, s.position, s.sentiment, s.share_of_voice, s.competitors_mentioned
    FROM placed p CROSS JOIN LATERAL (
        SELECT x.mentioned, x.position, x.sentiment, x.share_of_voice, x.competitors_mentioned
        FROM answer_scores x WHERE x.run_id = p.id OFFSET 0) s
    WHERE p.status IN ('completed', 'partial')
), means AS (
    SELECT i, count(DISTINCT run_id)::int AS runs, count(*)::int AS answers,
           avg(mentioned::int)::float8 AS mention_rate, avg(position)::float8 AS mean_position,
           avg(sentiment)::float8 AS mean_sentiment, avg(share_of_voice)::float8 AS share_of_voice
    FROM scored GROUP BY i
), rivals AS (
    SELECT i, array_agg(name ORDER BY name) AS competitors, array_agg(n ORDER BY name) AS competitor_counts
    FROM (SELECT scored.i, c.name, count(*)::int AS n
          FROM scored CROSS JOIN LATERAL unnest(scored.competitors_mentioned) AS c(name) GROUP BY 1, 2) x
    GROUP BY i
)
SELECT d.lo AS day, d.hi AS day_end, coalesce(m.runs, 0) AS runs, coalesce(m.answers, 0) AS answers,
       m.mention_rate, m.mean_position, m.mean_sentiment, m.share_of_voice,
       coalesce(v.competitors, '{}') AS competitors, coalesce(v.competitor_counts, '{}') AS competitor_counts,
       EXISTS (SELECT 1 FROM placed p WHERE p.i = d.i AND p.status IN ('pending', 'processing')) AS open
FROM ranges d LEFT JOIN means m ON m.i = d.i LEFT JOIN rivals v ON v.i = d.i
ORDER BY d.i
