-- Aggregates of job_runs for the admin UI's charts (cronkeeper/repo/run_stats.py).
-- {scope} is one constant fragment of run_stats.py (a job, a customer, or
-- every run), so each scope is its own statement whose plan uses its index
-- (see run_stats._SCOPES).

-- name: run_buckets
-- One row per bucket that holds runs, and a total row (bucket NULL): runs by
-- status, duration percentiles of the runs that ran (started and finished).
WITH picked AS (
    SELECT date_trunc(%(bucket)s, r.created_at, %(timezone)s) AS bucket, r.status,
           extract(epoch FROM r.finished_at - r.started_at)::float8 AS seconds
    FROM job_runs r
    WHERE {scope} AND r.created_at >= %(start)s AND r.created_at < %(end)s
)
SELECT bucket, count(*) AS total,
       count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'processing') AS processing,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'partial') AS partial,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE status = 'skipped') AS skipped,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95_seconds
FROM picked
GROUP BY GROUPING SETS ((bucket), ())
ORDER BY bucket NULLS LAST

-- name: slot_states
-- The rollup's slots of [start, head_end) and [tail_start, end) (run_stats_slots, migration 0023) as stored
-- (their every-run rows): how many, and those that may still change with when
-- each was counted (final: no run open and counted %(final_after)s after its start).
SELECT count(*) AS stored,
       coalesce(array_agg(slot_start ORDER BY slot_start) FILTER (WHERE NOT final), '{}') AS changing,
       coalesce(array_agg(counted_at ORDER BY slot_start) FILTER (WHERE NOT final), '{}') AS counted_at
FROM (
    SELECT slot_start, counted_at, NOT open AND counted_at >= slot_start + %(final_after)s AS final
    FROM run_stats_slots
    WHERE scope = '00000000-0000-0000-0000-000000000000'
      AND (slot_start >= %(start)s AND slot_start < %(head_end)s OR slot_start >= %(tail_start)s AND slot_start < %(end)s)
) s

-- name: slot_starts
-- The starts of the rollup's stored slots of [start, head_end) and [tail_start, end), oldest first.
SELECT slot_start FROM run_stats_slots
WHERE scope = '00000000-0000-0000-0000-000000000000'
      AND (slot_start >= %(start)s AND slot_start < %(head_end)s OR slot_start >= %(tail_start)s AND slot_start < %(end)s)
ORDER BY slot_start

-- name: clear_slots
-- Before a recount of [start, end): the customers' rows go (a customer may have
-- none left); the every-run rows are replaced in place (run_stats_slots_slot_idx).
DELETE FROM run_stats_slots
WHERE slot_start >= %(start)s AND slot_start < %(end)s AND scope <> '00000000-0000-0000-0000-000000000000'

-- name: count_slots
-- Count every 30-minute slot of [start, end) (both on slot boundaries) from the
-- runs, through job_runs_created_idx, and store them: a row for every run of
-- each slot (one without runs too) and one per customer with runs in it. cls:
-- the duration class, floor(4 * log2(seconds)), under a millisecond in the
-- lowest. open: a run of the slot still pending or processing.
WITH runs AS (
    SELECT date_bin('30 minutes', r.created_at, timestamptz '2000-01-01 00:00+00') AS slot, r.customer_id,
           r.status,
           CASE WHEN r.started_at IS NOT NULL AND r.finished_at IS NOT NULL
                THEN floor(4 * ln(greatest(extract(epoch FROM r.finished_at - r.started_at)::float8, 0.001))
                           / ln(2.0::float8))::smallint END AS cls
    FROM job_runs r
    WHERE r.created_at >= %(start)s AND r.created_at < %(end)s
), counted AS (
    SELECT slot, customer_id,
           ARRAY[count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'processing'),
                 count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'partial'),
                 count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'cancelled'),
                 count(*) FILTER (WHERE status = 'skipped')]::integer[] AS counts,
           bool_or(status IN ('pending', 'processing')) AS open
    FROM runs GROUP BY GROUPING SETS ((slot), (slot, customer_id))
), classes AS (
    SELECT slot, customer_id, array_agg(cls ORDER BY cls) AS dur_classes,
           array_agg(n ORDER BY cls)::integer[] AS dur_counts
    FROM (SELECT slot, customer_id, cls, count(*) AS n FROM runs WHERE cls IS NOT NULL
          GROUP BY GROUPING SETS ((slot, cls), (slot, customer_id, cls))) x
    GROUP BY slot, customer_id
)
INSERT INTO run_stats_slots AS s (scope, slot_start, counts, dur_classes, dur_counts, open, counted_at)
SELECT coalesce(c.customer_id, '00000000-0000-0000-0000-000000000000'), t,
       coalesce(c.counts, '{0,0,0,0,0,0,0}'), coalesce(h.dur_classes, '{}'), coalesce(h.dur_counts, '{}'),
       coalesce(c.open, false), %(now)s
FROM generate_series(%(start)s::timestamptz, %(end)s::timestamptz - interval '30 minutes', interval '30 minutes') t
LEFT JOIN counted c ON c.slot = t
LEFT JOIN classes h ON h.slot = t AND h.customer_id IS NOT DISTINCT FROM c.customer_id
ON CONFLICT (scope, slot_start) DO UPDATE
SET counts = excluded.counts, dur_classes = excluded.dur_classes, dur_counts = excluded.dur_counts,
    open = excluded.open, counted_at = excluded.counted_at

-- name: slot_buckets
-- The rollup's slots of [start, head_end) and [tail_start, end) (a chart's
-- range without its stored days; an hourly chart: head_end = tail_start) of one scope (a customer's, or the nil
-- uuid: every run) summed per bucket (hour or day cut in a zone whose bucket
-- starts lie on slot boundaries): counts by status and the duration histogram
-- (cls[] with n[]), oldest first; on every row, the state of the range's slots
-- as slot_states gives it (one row with a NULL bucket when no slot is stored).
-- One round trip for a chart whose slots need no recount.
WITH states AS (
    SELECT count(*) AS stored,
           coalesce(array_agg(slot_start ORDER BY slot_start) FILTER (WHERE NOT final), '{}') AS changing,
           coalesce(array_agg(counted_at ORDER BY slot_start) FILTER (WHERE NOT final), '{}') AS counted_at
    FROM (
        SELECT slot_start, counted_at, NOT open AND counted_at >= slot_start + %(final_after)s AS final
        FROM run_stats_slots
        WHERE scope = '00000000-0000-0000-0000-000000000000'
      AND (slot_start >= %(start)s AND slot_start < %(head_end)s OR slot_start >= %(tail_start)s AND slot_start < %(end)s)
    ) x
), slots AS (
    SELECT date_trunc(%(bucket)s, s.slot_start, %(timezone)s) AS bucket, s.counts, s.dur_classes, s.dur_counts
    FROM run_stats_slots s
    WHERE s.scope = %(scope)s
      AND (s.slot_start >= %(start)s AND s.slot_start < %(head_end)s
           OR s.slot_start >= %(tail_start)s AND s.slot_start < %(end)s)
), counted AS (
    SELECT bucket, sum(counts[1])::int AS pending, sum(counts[2])::int AS processing,
           sum(counts[3])::int AS completed, sum(counts[4])::int AS partial, sum(counts[5])::int AS failed,
           sum(counts[6])::int AS cancelled, sum(counts[7])::int AS skipped
    FROM slots GROUP BY bucket
), classes AS (
    SELECT bucket, array_agg(cls ORDER BY cls) AS cls, array_agg(n ORDER BY cls) AS n
    FROM (SELECT bucket, d.cls, sum(d.n)::int AS n
          FROM slots CROSS JOIN LATERAL unnest(slots.dur_classes, slots.dur_counts) AS d(cls, n)
          GROUP BY bucket, d.cls) x
    GROUP BY bucket
)
SELECT b.*, st.stored, st.changing, st.counted_at
FROM states st
LEFT JOIN (SELECT c.*, h.cls, h.n FROM counted c LEFT JOIN classes h ON h.bucket = c.bucket) b ON true
ORDER BY b.bucket

-- name: stored_days
-- The stored days of one scope and zone in [start, end), oldest first (primary key).
SELECT day_start, counts, dur_classes AS cls, dur_counts AS n
FROM run_stats_days
WHERE scope = %(scope)s AND timezone = %(timezone)s AND day_start >= %(start)s AND day_start < %(end)s
ORDER BY day_start

-- name: store_day
-- A day whose slots were all final, as summed (the first writer wins: it cannot change).
INSERT INTO run_stats_days (scope, timezone, day_start, counts, dur_classes, dur_counts)
VALUES (%(scope)s, %(timezone)s, %(day)s, %(counts)s::integer[], %(cls)s::smallint[], %(n)s::integer[])
ON CONFLICT DO NOTHING

-- name: prune_slots
-- Retention (services/scheduler/pruner.py): at most %(limit)s slot rows that began before the
-- cutoff, by run_stats_slots_slot_idx; their runs are gone or going.
WITH doomed AS (
    SELECT ctid FROM run_stats_slots WHERE slot_start < %(cutoff)s LIMIT %(limit)s
)
DELETE FROM run_stats_slots s USING doomed WHERE s.ctid = doomed.ctid

-- name: prune_days
-- Retention: at most %(limit)s summed days that began before the cutoff.
WITH doomed AS (
    SELECT ctid FROM run_stats_days WHERE day_start < %(cutoff)s LIMIT %(limit)s
)
DELETE FROM run_stats_days d USING doomed WHERE d.ctid = doomed.ctid
