-- compatible: additive
-- A brand's trends per day (GET /api/admin/brands/{id}/trends?rollup=day) from
-- a rollup instead of the runs and their scores.
--
-- Each request read every scored run of the brand in its range and their
-- scores, twice (means, then competitors): 10-15 times the cost of reading
-- one run at 1,000,000 runs (docs/benchmarks.md). Each row here is one day of
-- one brand, cut in one zone, as the chart shows it: the scores of the runs
-- created that day that ended completed or partial, summed once. A 90-day
-- chart reads ~90 rows.
--
-- A cache kept by the readers (cronkeeper/trends_rollup.py), as the runs'
-- rollup of 0023: a day is counted when a chart first needs it, and again
-- when it is read while not final and its count is more than 30 s old. It is
-- final once it was counted 5 minutes after it ended and held no pending or
-- processing run of the brand (scores are written only while a run is
-- processing). The workers' writes stay as they were. Runs deleted after
-- their day was final (retention) stay counted.
CREATE TABLE brand_score_days (
    brand_id           uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    timezone           text NOT NULL,
    day_start          timestamptz NOT NULL,
    day_end            timestamptz NOT NULL CHECK (day_end > day_start),
    -- runs with scores, scores, and their means as the chart shows them (NULL without scores)
    runs               integer NOT NULL,
    answers            integer NOT NULL,
    mention_rate       float8,
    mean_position      float8,
    mean_sentiment     float8,
    share_of_voice     float8,
    -- how many of the day's scores mention each competitor (names sorted)
    competitors        text[] NOT NULL DEFAULT '{}',
    competitor_counts  integer[] NOT NULL DEFAULT '{}'
        CHECK (cardinality(competitor_counts) = cardinality(competitors)),
    -- a run of the brand created that day was pending or processing when counted
    open               boolean NOT NULL,
    counted_at         timestamptz NOT NULL,
    PRIMARY KEY (brand_id, timezone, day_start)
);
