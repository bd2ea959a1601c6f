-- A brand's scores per day, kept by the trend charts' readers (migration 0026,
-- cronkeeper/trends_rollup.py; cronkeeper/repo/brand_score_days.py).

-- name: stored_days
-- The stored days of one brand and zone starting in [start, end), oldest first (primary key).
SELECT day_start AS day, day_end, runs, answers, mention_rate, mean_position, mean_sentiment, share_of_voice,
       competitors, competitor_counts, open, counted_at
FROM brand_score_days
WHERE brand_id = %(brand_id)s AND timezone = %(timezone)s AND day_start >= %(start)s AND day_start < %(end)s
ORDER BY day_start

-- name: store_day
-- A day as counted (a recount replaces it).
INSERT INTO brand_score_days AS d (brand_id, timezone, day_start, day_end, runs, answers, mention_rate,
                                   mean_position, mean_sentiment, share_of_voice, competitors,
                                   competitor_counts, open, counted_at)
VALUES (%(brand_id)s, %(timezone)s, %(day)s, %(day_end)s, %(runs)s, %(answers)s, %(mention_rate)s,
        %(mean_position)s, %(mean_sentiment)s, %(share_of_voice)s, %(competitors)s::text[],
        %(competitor_counts)s::integer[], %(open)s, %(counted_at)s)
ON CONFLICT (brand_id, timezone, day_start) DO UPDATE
SET day_end = excluded.day_end, runs = excluded.runs, answers = excluded.answers,
    mention_rate = excluded.mention_rate, mean_position = excluded.mean_position,
    mean_sentiment = excluded.mean_sentiment, share_of_voice = excluded.share_of_voice,
    competitors = excluded.competitors, competitor_counts = excluded.competitor_counts,
    open = excluded.open, counted_at = excluded.counted_at

-- name: lock_brand
-- One count of a brand's days at a time (until the transaction ends); the
-- two-key form, apart from the single-key locks of the other rollups.
SELECT pg_advisory_xact_lock(%(lock_key)s, hashtext(%(brand_id)s::text))

-- name: try_lock_brand
SELECT pg_try_advisory_xact_lock(%(lock_key)s, hashtext(%(brand_id)s::text)) AS locked

-- name: prune_days
-- Retention (services/scheduler/pruner.py): at most %(limit)s brand days that began before the cutoff.
WITH doomed AS (
    SELECT ctid FROM brand_score_days WHERE day_start < %(cutoff)s LIMIT %(limit)s
)
DELETE FROM brand_score_days d USING doomed WHERE d.ctid = doomed.ctid
