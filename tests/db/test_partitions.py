"""Partitioned history (migration 0025, docs/partitioning.md): months created ahead, stray slots kept
in the DEFAULT partition and moved when their month is made, whole months dropped by retention."""

import datetime as dt

import pytest

from cronkeeper.repo import answers as answers_repo
from cronkeeper.repo import run_partitions
from cronkeeper.repo.answers import NewAnswer, NewScore
from cronkeeper.services.scheduler import partitions
from cronkeeper.services.scheduler.pruner import Pruner
from cronkeeper.settings import Settings
from tests.support.factories import make_job, make_run

DAY = dt.timedelta(days=1)


def where(conn, table: str, row_id: int) -> str:
    return conn.execute(f"SELECT tableoid::regclass::text AS p FROM {table} WHERE id = %s", (row_id,)).fetchone()["p"]


def months(conn) -> list[str]:
    return [p["name"] for p in run_partitions.listing(conn)]


def finished(conn, job, when: dt.datetime, **kw):
    return make_run(conn, job, now=when, status="completed", started_at=when, finished_at=when, **kw)


def with_answer(conn, run, job) -> tuple[int, int]:
    [a] = answers_repo.insert_answers(conn, [NewAnswer(run.id, job.brand_id, None, "q", "sample", None, "t", [], 1.0)])
    [s] = answers_repo.insert_scores(conn, [NewScore(a, run.id, job.brand_id, True, 1, 1, 0.1, 0.5, [])])
    return a, s


@pytest.mark.slow  # over 0.5 s: DDL of partitions (and its database is copied anew afterwards)
def test_the_months_ahead_are_created_once_whoever_asks(conn):
    now = dt.datetime(2031, 5, 17, 12, tzinfo=dt.UTC)  # beyond the template's months
    assert partitions.keep_ahead(conn, now) == ["job_runs_p2031_05", "job_runs_p2031_06", "job_runs_p2031_07"]
    assert partitions.keep_ahead(conn, now) == []  # a second scheduler: nothing left to do
    assert {"job_runs_p2031_05", "job_runs_default"} <= set(months(conn))
    for table in ("collected_answers", "answer_scores"):
        got = conn.execute("SELECT to_regclass(%s) IS NOT NULL AS ok", (f"{table}_p2031_06",)).fetchone()
        assert got["ok"], table
    # each partition's indexes are named after their parent's (plans name the index used)
    names = {r["indexname"] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'job_runs_p2031_06'")}
    assert {"job_runs_pkey_p2031_06", "job_runs_slot_key_p2031_06", "job_runs_pending_idx_p2031_06"} <= names


@pytest.mark.slow  # over 0.5 s: DDL of partitions (and its database is copied anew afterwards)
def test_a_slot_outside_every_month_lands_in_the_default_and_moves_when_its_month_is_made(conn):
    job = make_job(conn, job_type="data_collection_and_scoring")
    far = dt.datetime(2033, 2, 3, 4, tzinfo=dt.UTC)  # a backfill or a one-off run far from now
    run = finished(conn, job, far)
    retry = finished(conn, job, far, trigger="retry", attempt=2, retry_of=run.id)
    answer, score = with_answer(conn, run, job)
    assert where(conn, "job_runs", run.id) == "job_runs_default"
    assert where(conn, "collected_answers", answer) == "collected_answers_default"

    assert run_partitions.ensure(conn, far)
    assert where(conn, "job_runs", run.id) == "job_runs_p2033_02"  # same id, its month now
    assert where(conn, "collected_answers", answer) == "collected_answers_p2033_02"
    assert where(conn, "answer_scores", score) == "answer_scores_p2033_02"
    row = conn.execute("SELECT retry_of FROM job_runs WHERE id = %s", (retry.id,)).fetchone()
    assert row["retry_of"] == run.id  # moved together, the link kept
    # the slot key still holds across the move
    dup = conn.execute(
        "INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, scheduled_for, run_after)"
        " VALUES (%s, %s, %s, 'scoring', 'schedule', %s, %s),  (%s, %s, %s, 'scoring', 'schedule', %s, %s)"
        " ON CONFLICT (scheduled_job_id, scheduled_for) WHERE trigger = 'schedule' DO NOTHING RETURNING id",
        (job.id, job.customer_id, job.brand_id, far, far) * 2,
    ).fetchall()
    assert len(dup) == 1


@pytest.mark.slow  # over 0.5 s: DDL of partitions (and its database is copied anew afterwards)
def test_retention_drops_whole_months_whose_runs_all_finished_before_the_cutoff(conn):
    now = dt.datetime(2032, 9, 10, tzinfo=dt.UTC)
    for m in (dt.datetime(2032, 3, 1, tzinfo=dt.UTC), dt.datetime(2032, 4, 1, tzinfo=dt.UTC)):
        run_partitions.ensure(conn, m)
    partitions.keep_ahead(conn, now)
    job = make_job(conn, job_type="data_collection_and_scoring")
    march = [finished(conn, job, dt.datetime(2032, 3, d, tzinfo=dt.UTC)) for d in (2, 20)]
    answer, _ = with_answer(conn, march[0], job)
    april_pending = make_run(conn, job, now=dt.datetime(2032, 4, 2, tzinfo=dt.UTC))  # April stays: still to run
    recent = finished(conn, job, dt.datetime(2032, 9, 1, tzinfo=dt.UTC))
    # a scoring run of September that scored March's answer: its score stays (answer_id is no foreign key)
    [kept_score] = answers_repo.insert_scores(conn, [NewScore(answer, recent.id, job.brand_id, True, 1, 1, 0.1, 0.5, [])])
    # a retry in another month of a March run loses its link, as ON DELETE SET NULL did
    stray = finished(conn, job, dt.datetime(2032, 9, 2, tzinfo=dt.UTC), trigger="retry", attempt=2,
                     retry_of=march[1].id)  # fmt: skip

    result = Pruner(Settings(database_url=None, data_dir=".", retention_days=90, retention_runs_per_job=0)).run_once(
        conn, now
    )

    # March goes whole, and so do the empty months before it (the template's); April stays
    assert result.months_dropped[-1] == "job_runs_p2032_03" and len(result.months_dropped) == len(set(result.months_dropped))
    assert "job_runs_p2032_04" in months(conn) and "job_runs_p2032_03" not in months(conn)
    left = {r["id"] for r in conn.execute("SELECT id FROM job_runs WHERE scheduled_job_id = %s", (job.id,))}
    assert left == {april_pending.id, recent.id, stray.id}
    assert conn.execute("SELECT count(*) AS n FROM collected_answers").fetchone()["n"] == 0
    assert conn.execute("SELECT retry_of FROM job_runs WHERE id = %s", (stray.id,)).fetchone()["retry_of"] is None
    assert conn.execute("SELECT count(*) AS n FROM answer_scores WHERE id = %s", (kept_score,)).fetchone()["n"] == 1
    for table in ("collected_answers_p2032_03", "answer_scores_p2032_03"):
        assert conn.execute("SELECT to_regclass(%s) AS r", (table,)).fetchone()["r"] is None


@pytest.mark.slow  # over 0.5 s: DDL of partitions (and its database is copied anew afterwards)
def test_a_month_with_a_run_finished_after_the_cutoff_stays_and_the_count_rule_still_holds(conn):
    now = dt.datetime(2032, 9, 10, tzinfo=dt.UTC)
    run_partitions.ensure(conn, dt.datetime(2032, 3, 1, tzinfo=dt.UTC))
    job = make_job(conn)
    march = [finished(conn, job, dt.datetime(2032, 3, d, tzinfo=dt.UTC)) for d in range(1, 6)]
    late = make_run(conn, job, now=dt.datetime(2032, 3, 9, tzinfo=dt.UTC), status="completed",
                    started_at=now - DAY, finished_at=now - DAY)  # a backfilled March slot, run yesterday
    september = [finished(conn, job, now - d * DAY) for d in (3, 2, 1)]
    result = Pruner(Settings(database_url=None, data_dir=".", retention_days=90, retention_runs_per_job=2)).run_once(
        conn, now
    )
    assert "job_runs_p2032_03" not in result.months_dropped  # March holds a run finished since the cutoff
    assert result.by_age == 5  # the rest of March, row by row
    left = [r["id"] for r in conn.execute("SELECT id FROM job_runs WHERE scheduled_job_id = %s", (job.id,))]
    assert late.id < september[0].id and len(march) == 5
    assert sorted(left) == [september[1].id, september[2].id]  # per job: the newest 2 kept, across months
