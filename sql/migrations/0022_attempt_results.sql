-- compatible: additive
-- Answers and scores belong to the attempt that wrote them (docs/reliability.md):
-- a worker writes them only while it holds the run (the fenced inserts of
-- cronkeeper/repo/sql/collected_answers.sql and answer_scores.sql), and records
-- which worker that was. NULL: written outside a worker (an import, a test).
-- Nullable columns without a default: no table rewrite, safe on a live database.
ALTER TABLE collected_answers ADD COLUMN IF NOT EXISTS written_by text;
ALTER TABLE answer_scores ADD COLUMN IF NOT EXISTS written_by text;
