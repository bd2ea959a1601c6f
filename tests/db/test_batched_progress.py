"""Batched progress (one round trip with its checkpoint), refused once the run is not ours, and async
handlers run as tasks on the process's one loop (issue 23)."""

import asyncio
import datetime as dt
import random

import pytest

from cronkeeper import job_types
from cronkeeper.clock import FixedClock
from cronkeeper.collectors.hub import process_hub
from cronkeeper.db import make_pool
from cronkeeper.errors import RunCancelled
from cronkeeper.handlers import Registry
from cronkeeper.repo import brand_queries
from cronkeeper.repo.collectors import upsert_collector
from cronkeeper.repo.runs import claim_runs
from cronkeeper.runs import cancel_run
from cronkeeper.services.worker.executor import Context
from cronkeeper.services.worker.loop import Worker
from cronkeeper.services.worker.rescuer import rescue_expired
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job, make_run, runs_of
from tests.support.fakes_http import FakeChatServer

S = dt.timedelta(seconds=1)
QUERIES = ["best running shoes", "top marathon shoes"]


def chat_collector(conn, name, url):
    upsert_collector(conn, name, "openai_chat", {"base_url": url, "model": "m", "api_key_env": "FAKE_KEY"})


def work(dsn, conn, registry, t0, brand, **meta):
    job = make_job(conn, brand, job_type="data_collection", metadata=meta, max_retries=0)
    make_run(conn, job, now=t0)
    w = Worker(dsn, Settings(database_url=None, data_dir="."), registry=registry, clock=FixedClock(t0),
               rng=random.Random(1))  # fmt: skip
    w.run_once()
    w.close()
    return runs_of(conn, job.id)[0]


@pytest.fixture
def brand(conn):
    b = make_brand(conn, name="Nike", competitors=["Adidas"])
    for q in QUERIES:
        brand_queries.insert_query(conn, b.id, q)
    return b


@pytest.fixture
def batches(monkeypatch):
    """Every batch a run writes through ``Context.progress_checkpoint`` (and any ``progress`` write)."""
    seen: list[dict] = []
    real, real_progress = Context.progress_checkpoint, Context.progress

    def spy(self, metrics):
        seen.append(dict(metrics))
        return real(self, metrics)

    def spy_progress(self, **metrics):
        seen.append({"progress": metrics})
        return real_progress(self, **metrics)

    monkeypatch.setattr(Context, "progress_checkpoint", spy)
    monkeypatch.setattr(Context, "progress", spy_progress)
    return seen


def registry_():
    r = Registry()
    job_types.register(r)
    return r


def test_batched_progress_carries_the_first_counts_and_reaches_the_database(dsn, conn, t0, brand, batches,
                                                                           monkeypatch):  # fmt: skip
    monkeypatch.setenv("FAKE_KEY", "k")
    monkeypatch.setattr(job_types, "PROGRESS_SECONDS", 0.0)  # a batch after every call
    with FakeChatServer(lambda q: f"{q}: Nike") as chat:
        chat_collector(conn, "c1", chat.url)
        run = work(dsn, conn, registry_(), t0, brand, collectors=["c1"], parallel=False)
    assert run["status"] == "completed", run["error_message"]
    assert batches == [
        {"queries_total": 2, "calls_total": 2, "calls_done": 1, "queries_done": 1},
        {"calls_done": 2, "queries_done": 2},
    ]
    m = run["metrics"]
    assert (m["queries_total"], m["calls_total"], m["calls_done"], m["queries_done"]) == (2, 2, 2, 2)


def test_a_short_collection_writes_no_progress_on_the_way_and_its_outcome_has_every_count(
    dsn, conn, t0, brand, batches, monkeypatch
):
    monkeypatch.setenv("FAKE_KEY", "k")
    monkeypatch.setattr(job_types, "PROGRESS_SECONDS", 3600.0)
    with FakeChatServer(lambda q: f"{q}: Nike") as chat:
        chat_collector(conn, "c1", chat.url)
        run = work(dsn, conn, registry_(), t0, brand, collectors=["c1"])
    assert run["status"] == "completed", run["error_message"]
    assert batches == []  # no round trip for progress
    m = run["metrics"]
    assert (m["queries_total"], m["calls_total"], m["calls_done"], m["queries_done"]) == (2, 2, 2, 2)


@pytest.fixture
def claimed(dsn, conn, t0):
    job = make_job(conn, max_retries=0)
    make_run(conn, job, now=t0)
    [c] = claim_runs(conn, "w1", t0, 1, 30)
    pool = make_pool(dsn, max_size=2)
    yield Context(c, pool, "w1", FixedClock(t0)), c.run.id
    pool.close()


def metrics_of(conn, run_id):
    return conn.execute("SELECT metrics FROM job_runs WHERE id = %s", (run_id,)).fetchone()["metrics"]


def test_a_batch_is_written_while_the_run_is_ours(conn, claimed):
    ctx, run_id = claimed
    ctx.progress_checkpoint({"calls_done": 3})
    assert metrics_of(conn, run_id)["calls_done"] == 3
    assert ctx.metrics["calls_done"] == 3


def test_a_rescued_runs_batch_is_refused_and_stops_the_handler(conn, claimed, t0):
    ctx, run_id = claimed
    ctx.progress_checkpoint({"calls_done": 1})
    assert rescue_expired(conn, t0 + 60 * S).failed == 1  # the lease expired: taken back
    with pytest.raises(RunCancelled):
        ctx.progress_checkpoint({"calls_done": 2})
    assert metrics_of(conn, run_id)["calls_done"] == 1  # refused
    assert ctx.cancel_seen.is_set()


def test_a_cancelled_runs_batch_is_written_then_stops_the_handler(conn, claimed, t0):
    ctx, run_id = claimed
    cancel_run(conn, run_id, t0)
    with pytest.raises(RunCancelled):
        ctx.progress_checkpoint({"calls_done": 2})
    assert metrics_of(conn, run_id)["calls_done"] == 2


def test_a_batch_with_nan_is_refused_before_the_database(conn, claimed):
    ctx, run_id = claimed
    with pytest.raises(ValueError, match="NaN or Infinity"):
        ctx.progress_checkpoint({"score": float("nan")})
    assert "score" not in metrics_of(conn, run_id)


def test_async_handlers_run_as_tasks_on_the_processs_one_loop(dsn, conn, t0):
    loops = []

    async def handler(ctx):
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return {"ok": 1}

    registry = Registry()
    registry.register("data_collection", handler)
    job = make_job(conn, overlap_policy="allow")
    for _ in range(3):
        make_run(conn, job, now=t0)
    w = Worker(dsn, Settings(database_url=None, data_dir="."), registry=registry, clock=FixedClock(t0),
               concurrency=3)  # fmt: skip
    assert w.run_once().completed == 3
    w.close()
    assert len(loops) == 3 and all(loop is process_hub().loop() for loop in loops)
