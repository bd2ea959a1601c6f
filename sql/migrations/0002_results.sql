-- What the jobs produce: answers collected from answer engines, and their scores.
-- Collectors may also be configured in the database (secrets stay in env vars).

CREATE TABLE collectors (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9_][a-z0-9_-]*$'),
    kind        text NOT NULL CHECK (kind IN ('openai_chat', 'http_json')),
    config      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE collected_answers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      bigint NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
    brand_id    uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    query_id    bigint REFERENCES brand_queries (id) ON DELETE SET NULL,
    query       text NOT NULL,
    collector   text NOT NULL,
    model       text,
    answer      text NOT NULL,
    sources     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(sources) = 'array'),
    latency_ms  double precision CHECK (latency_ms >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collected_answers_run_idx ON collected_answers (run_id, id);
CREATE INDEX collected_answers_brand_idx ON collected_answers (brand_id, id DESC);

CREATE TABLE answer_scores (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    answer_id              bigint NOT NULL REFERENCES collected_answers (id) ON DELETE CASCADE,
    run_id                 bigint NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
    brand_id               uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    mentioned              boolean NOT NULL,
    mention_count          integer NOT NULL DEFAULT 0 CHECK (mention_count >= 0),
    position               integer CHECK (position >= 1),
    sentiment              double precision CHECK (sentiment BETWEEN -1 AND 1),
    share_of_voice         double precision CHECK (share_of_voice BETWEEN 0 AND 1),
    competitors_mentioned  text[] NOT NULL DEFAULT '{}',
    created_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT answer_scores_unmentioned_check CHECK (mentioned OR position IS NULL)
);
CREATE INDEX answer_scores_run_idx ON answer_scores (run_id, id);
CREATE INDEX answer_scores_answer_idx ON answer_scores (answer_id);
CREATE INDEX answer_scores_brand_idx ON answer_scores (brand_id, id DESC);
