"""Migration 0025 (partitioned history) on a full database: time, and nothing lost.

Each round seeds a fresh database at migration 0024 with RUNS runs (1,000 jobs,
a year of slots, one retry per 100 runs), one answer and one score per run,
then applies 0025 and checks: the same rows (counts and a checksum of every
id and key), every answer and score still tied to its run, retry links kept,
and the next id after the old sequence's last one. The floor, measured in the
same round on the same rows: copying the three tables with CREATE TABLE AS
(no index, no constraint): the least any conversion that rewrites the rows
must spend. Rounds are interleaved: copy, migrate, per round.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_partition_migration.py [--runs 1000000] [--rounds 3]

Appends its table to bench/results/bench_partition_migration.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
from common import fresh_database, machine, record, server  # noqa: F401 (machine: record's header)

from cronkeeper.migrate import MIGRATIONS_DIR, migrate

SEED = """
INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, 10) g;
INSERT INTO brands (customer_id, name) SELECT c.id, 'brand ' || g FROM customers c, generate_series(1, 10) g;
INSERT INTO scheduled_jobs (customer_id, brand_id, job_type, schedule_kind, cron_expression)
SELECT b.customer_id, b.id, 'data_collection_and_scoring', 'cron', '0 * * * *'
FROM brands b, generate_series(1, 10) g;
INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                      scheduled_for, run_after, started_at, finished_at, worker_id, metrics, created_at)
SELECT j.id, j.customer_id, j.brand_id, j.job_type, 'schedule', 'completed', t, t, t, t + interval '1 minute',
       'w', '{"answers": 1}', t
FROM (SELECT j.*, row_number() OVER (ORDER BY j.id) AS n FROM scheduled_jobs j) j,
     generate_series(0, %(per_job)s - 1) k,
     LATERAL (SELECT now() - interval '365 days' + (k * interval '365 days' / %(per_job)s)
                     + j.n * interval '1 second' AS t) x;
-- a retry of every 100th run, same slot (as the worker makes them)
INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                      scheduled_for, run_after, attempt, retry_of, created_at)
SELECT scheduled_job_id, customer_id, brand_id, job_type, 'retry', 'pending', scheduled_for, run_after, 2, id,
       created_at
FROM job_runs WHERE id %% 100 = 0;
INSERT INTO collected_answers (run_id, brand_id, query, collector, answer, latency_ms, created_at)
SELECT id, brand_id, 'which tool is best?', 'sample', repeat('an answer naming a brand. ', 8), 300, created_at
FROM job_runs WHERE trigger = 'schedule';
INSERT INTO answer_scores (answer_id, run_id, brand_id, mentioned, mention_count, position, sentiment,
                           share_of_voice, created_at)
SELECT a.id, a.run_id, a.brand_id, true, 1, 1, 0.5, 0.25, a.created_at FROM collected_answers a;
"""

FACTS = """
SELECT (SELECT count(*) FROM job_runs) AS runs, (SELECT sum(id) FROM job_runs) AS run_ids,
       (SELECT sum(hashtext(scheduled_job_id::text || scheduled_for::text || status)) FROM job_runs) AS run_keys,
       (SELECT count(*) FROM job_runs WHERE retry_of IS NOT NULL) AS retries,
       (SELECT sum(retry_of) FROM job_runs) AS retry_links,
       (SELECT count(*) FROM collected_answers) AS answers, (SELECT sum(id + run_id) FROM collected_answers) AS answer_ids,
       (SELECT count(*) FROM answer_scores) AS scores,
       (SELECT sum(id + run_id + answer_id) FROM answer_scores) AS score_ids,
       (SELECT last_value FROM job_runs_id_seq) AS run_seq
"""

# after 0025: every child row still has its run (the composite foreign key says so; counted to be sure)
ORPHANS = """
SELECT (SELECT count(*) FROM collected_answers a
        WHERE NOT EXISTS (SELECT 1 FROM job_runs r WHERE r.id = a.run_id AND r.scheduled_for = a.run_scheduled_for))
     + (SELECT count(*) FROM answer_scores s
        WHERE NOT EXISTS (SELECT 1 FROM job_runs r WHERE r.id = s.run_id AND r.scheduled_for = s.run_scheduled_for))
     + (SELECT count(*) FROM job_runs_default) AS n
"""

COPY_FLOOR = """
CREATE TABLE floor_runs AS SELECT * FROM job_runs;
CREATE TABLE floor_answers AS SELECT * FROM collected_answers;
CREATE TABLE floor_scores AS SELECT * FROM answer_scores;
"""


def _until_0024(tmp: Path) -> Path:
    for f in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(f.name[:4]) <= 24:
            shutil.copy(f, tmp / f.name)
    return tmp


def one_round(server_dsn: str, runs: int) -> dict:
    with fresh_database(server_dsn, migrated=False) as dsn, tempfile.TemporaryDirectory() as tmp:
        migrate(dsn, _until_0024(Path(tmp)))
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SEED.replace("%(per_job)s", str(runs // 1000)).replace("%%", "%"))
            conn.execute("VACUUM ANALYZE")
            conn.execute("CHECKPOINT")
            before = conn.execute(FACTS).fetchone()
            t = time.perf_counter()
            conn.execute(COPY_FLOOR)
            floor = time.perf_counter() - t
            conn.execute("DROP TABLE floor_runs, floor_answers, floor_scores")
            conn.execute("CHECKPOINT")
        t = time.perf_counter()
        migrate(dsn)
        took = time.perf_counter() - t
        with psycopg.connect(dsn, autocommit=True) as conn:
            after = conn.execute(FACTS).fetchone()
            orphans = conn.execute(ORPHANS).fetchone()[0]
            months = conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'job_runs'::regclass").fetchone()[0]
            new_id = conn.execute(
                "INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, scheduled_for,"
                " run_after) SELECT id, customer_id, brand_id, job_type, 'manual', now(), now()"
                " FROM scheduled_jobs LIMIT 1 RETURNING id"
            ).fetchone()[0]
        assert before == after, (before, after)  # same rows, same ids, same links, same sequence
        assert orphans == 0, orphans
        assert new_id == before[-1] + 1, (new_id, before[-1])
        return {"runs": before[0], "answers": before[5], "scores": before[7], "retries": before[3],
                "migrate": took, "floor": floor, "partitions": months}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    load = os.getloadavg()
    with server() as server_dsn:
        rounds = [one_round(server_dsn, args.runs) for _ in range(args.rounds)]
    took = [r["migrate"] for r in rounds]
    ratios = [r["migrate"] / r["floor"] for r in rounds]
    r0 = rounds[0]
    rows = [[f"{r0['runs']:,} runs, {r0['answers']:,} answers, {r0['scores']:,} scores ({r0['partitions']} partitions)",
             f"{statistics.median(took):.1f} s ({min(took):.1f}-{max(took):.1f})",
             f"{statistics.median([r['floor'] for r in rounds]):.1f} s",
             f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})", "yes"]]  # fmt: skip
    record(
        "Migration 0025 (partitioned history) on an existing database",
        ["rows", "0025 took, median (min-max)", "copy floor", "ratio to the floor", "rows, ids, links kept"],
        rows,
        notes=f"{args.rounds} rounds; load average at start {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}. "
        "Floor: CREATE TABLE AS of the three tables (the rows copied once, no index, no constraint).",
    )


if __name__ == "__main__":
    main()
