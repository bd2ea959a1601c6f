"""Answers and scores belong to the attempt that wrote them (issue 22, item 5).

An attempt that lost its run (lease taken back by the rescuer, or released on
shutdown) writes nothing more: the fenced inserts check the run's owner in the
same statement. Scoring, trends and exports read only answers and scores of
runs that ended completed or partial.
"""

import datetime as dt
import random

import pytest

from cronkeeper import job_types
from cronkeeper.clock import FixedClock
from cronkeeper.db import connect
from cronkeeper.handlers import Registry
from cronkeeper.repo import answers as answers_repo
from cronkeeper.repo import brand_queries
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.answers import AttemptLost, NewAnswer, NewScore
from cronkeeper.repo.collectors import upsert_collector
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job, make_run
from tests.support.fakes_http import FakeChatServer

LOST = "lease expired: worker w-old stopped heartbeating"


@pytest.fixture
def registry():
    r = Registry()
    job_types.register(r)
    return r


@pytest.fixture
def brand(conn):
    b = make_brand(conn, name="Nike", competitors=["Adidas"])
    brand_queries.insert_query(conn, b.id, "best shoes")
    return b


def answer(run_id, brand_id, text="Nike is great.") -> NewAnswer:
    return NewAnswer(run_id, brand_id, None, "best shoes", "fake", None, text, [], 1.0)


def finished_run(conn, job, t0, status: str, **kw):
    return make_run(conn, job, now=t0, status=status, started_at=t0, finished_at=t0, **kw)


def claimed(conn, job, t0, worker_id="w-old"):
    run = make_run(conn, job, now=t0)
    assert runs_repo.claim_run(conn, run.id, worker_id, t0, 60) is not None
    return run


def count_answers(conn, run_id) -> int:
    return conn.execute("SELECT count(*) AS n FROM collected_answers WHERE run_id = %s", (run_id,)).fetchone()["n"]


def test_the_holding_attempt_writes_and_a_lost_one_is_refused(conn, brand, t0):
    job = make_job(conn, brand, job_type="data_collection")
    run = claimed(conn, job, t0)
    [aid] = answers_repo.insert_answers(conn, [answer(run.id, brand.id)], worker_id="w-old")
    answers_repo.insert_scores(conn, [NewScore(aid, run.id, brand.id, True, 1, 1, 0.5, 1.0, [])], worker_id="w-old")
    assert runs_repo.fail_expired(conn, run.id, t0, LOST) is not None  # the rescuer takes the run back
    with pytest.raises(AttemptLost, match=f"answers refused: run {run.id} is no longer held by worker w-old"):
        answers_repo.insert_answers(conn, [answer(run.id, brand.id, "late")], worker_id="w-old")
    with pytest.raises(AttemptLost, match="scores refused"):
        answers_repo.insert_scores(conn, [NewScore(aid, run.id, brand.id, False, 0, None, 0.0, 0.0, [])],
                                   worker_id="w-old")  # fmt: skip
    assert [r["written_by"] for r in conn.execute("SELECT written_by FROM collected_answers WHERE run_id = %s",
                                                  (run.id,))] == ["w-old"]  # fmt: skip
    assert [r["written_by"] for r in conn.execute("SELECT written_by FROM answer_scores WHERE run_id = %s",
                                                  (run.id,))] == ["w-old"]  # fmt: skip


def test_another_workers_attempt_cannot_write_into_a_run_it_does_not_hold(conn, brand, t0):
    job = make_job(conn, brand, job_type="data_collection")
    run = claimed(conn, job, t0, worker_id="w-new")
    with pytest.raises(AttemptLost):
        answers_repo.insert_answers(conn, [answer(run.id, brand.id)], worker_id="w-old")
    assert count_answers(conn, run.id) == 0


def test_a_released_run_drops_what_its_attempt_wrote_and_refuses_more(conn, brand, t0):
    job = make_job(conn, brand, job_type="data_collection")
    run = claimed(conn, job, t0)
    answers_repo.insert_answers(conn, [answer(run.id, brand.id)], worker_id="w-old")
    assert runs_repo.release_run(conn, run.id, "w-old", t0)  # graceful shutdown: back to pending
    assert count_answers(conn, run.id) == 0  # the next attempt starts clean
    with pytest.raises(AttemptLost):
        answers_repo.insert_answers(conn, [answer(run.id, brand.id)], worker_id="w-old")
    assert count_answers(conn, run.id) == 0


def test_a_collecting_run_that_loses_its_lease_mid_call_stores_nothing(dsn, conn, registry, brand, t0, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "k")
    job = make_job(conn, brand, job_type="data_collection_and_scoring", metadata={"collectors": ["fakechat"]})
    run = make_run(conn, job, now=t0)

    def rescued_while_answering(query: str) -> str:
        with connect(dsn, autocommit=True) as other:  # the rescuer, while the engine is still answering
            assert runs_repo.fail_expired(other, run.id, t0, LOST) is not None
        return "Nike is the best, Adidas second."

    with FakeChatServer(rescued_while_answering, api_key="k") as chat:
        upsert_collector(conn, "fakechat", "openai_chat",
                         {"base_url": chat.url, "model": "m", "api_key_env": "FAKE_KEY", "max_retries": 0})  # fmt: skip
        w = Worker(dsn, Settings(database_url=None, data_dir="."), registry=registry, clock=FixedClock(t0),
                   rng=random.Random(1))  # fmt: skip
        w.run_once()
        w.close()
    row = conn.execute("SELECT * FROM job_runs WHERE id = %s", (run.id,)).fetchone()
    assert (row["status"], row["error_message"]) == ("failed", LOST)  # the late attempt did not overwrite it
    assert count_answers(conn, run.id) == 0
    assert conn.execute("SELECT count(*) AS n FROM answer_scores").fetchone()["n"] == 0


def test_scoring_reads_only_answers_of_completed_or_partial_runs(dsn, conn, registry, brand, t0):
    collecting = make_job(conn, brand, job_type="data_collection")
    good = finished_run(conn, collecting, t0, "completed")
    partial = finished_run(conn, collecting, t0, "partial")
    failed = finished_run(conn, collecting, t0, "failed")
    lost = claimed(conn, collecting, t0)
    runs_repo.fail_expired(conn, lost.id, t0, LOST)
    going = claimed(conn, collecting, t0, worker_id="w-live")
    kept = answers_repo.insert_answers(conn, [answer(good.id, brand.id), answer(partial.id, brand.id)])
    answers_repo.insert_answers(conn, [answer(r.id, brand.id, "Adidas only.") for r in (failed, lost, going)])
    scoring = make_job(conn, brand, job_type="scoring")
    run = make_run(conn, scoring, now=t0)
    w = Worker(dsn, Settings(database_url=None, data_dir="."), registry=registry, clock=FixedClock(t0),
               rng=random.Random(1))  # fmt: skip
    w.run_once()
    w.close()
    row = conn.execute("SELECT * FROM job_runs WHERE id = %s", (run.id,)).fetchone()
    assert row["status"] == "completed", row["error_message"]
    assert row["metrics"]["answers_scored"] == 2 and row["metrics"]["mention_rate"] == 1.0
    scored = {r["answer_id"] for r in conn.execute("SELECT answer_id FROM answer_scores WHERE run_id = %s", (run.id,))}
    assert scored == set(kept)


def test_trends_and_exports_ignore_scores_of_failed_scoring_attempts(conn, brand, t0):
    collecting = make_job(conn, brand, job_type="data_collection")
    good = finished_run(conn, collecting, t0, "completed")
    [aid] = answers_repo.insert_answers(conn, [answer(good.id, brand.id)])
    scoring = make_job(conn, brand, job_type="scoring")
    scored = finished_run(conn, scoring, t0, "completed")
    failed = finished_run(conn, scoring, t0, "failed")
    answers_repo.insert_scores(conn, [NewScore(aid, scored.id, brand.id, True, 1, 1, 0.5, 1.0, [])])
    answers_repo.insert_scores(conn, [NewScore(aid, failed.id, brand.id, False, 0, None, -0.5, 0.0, ["Adidas"])])
    days, competitors = answers_repo.brand_days(conn, brand.id, t0 - dt.timedelta(days=400),
                                                dt.datetime.now(dt.UTC) + dt.timedelta(days=1), "UTC")  # fmt: skip
    assert [(d["runs"], d["answers"], d["mention_rate"]) for d in days] == [(1, 1, 1.0)]
    assert competitors == {}
    [exported] = answers_repo.export_page(conn, good.id)
    assert (exported["mentioned"], exported["sentiment"]) == (True, 0.5)  # the failed attempt's later score is not shown
