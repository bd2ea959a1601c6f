"""The worker's steps against a real Postgres, with an injected clock."""

import datetime as dt
import random
import threading
import time

import pytest

from cronkeeper import jobs
from cronkeeper.clock import FixedClock
from cronkeeper.db import make_pool
from cronkeeper.handlers import HandlerResult, Registry
from cronkeeper.models import JobRun, RunStatus
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import claim_runs
from cronkeeper.runs import cancel_run
from cronkeeper.services.worker.completer import Completer, Completion, backoff_seconds, complete
from cronkeeper.services.worker.executor import RunOutcome
from cronkeeper.services.worker.loop import MIN_WAIT_SECONDS, Worker, wait_seconds
from cronkeeper.services.worker.rescuer import rescue_expired
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job, make_run, runs_of
from tests.support.plans import plan_text

S = dt.timedelta(seconds=1)


def settings(**kw):
    return Settings(database_url=None, data_dir=".", **kw)


@pytest.fixture
def registry():
    return Registry()


def make_worker(dsn, registry, clock, **kw):
    w = Worker(dsn, settings(lease_seconds=kw.pop("lease_seconds", 30)), registry=registry, clock=clock,
               rng=random.Random(7), **kw)  # fmt: skip
    return w


def test_pending_run_is_claimed_executed_and_completed(dsn, conn, registry, t0):
    seen = []

    def handler(ctx):
        seen.append(ctx.run.id)
        ctx.progress(done=1, total=2)
        return {"queries_executed": 2}

    registry.register("data_collection", handler)
    job = make_job(conn)
    run = make_run(conn, job, now=t0)
    future = make_run(conn, job, now=t0 + 60 * S)
    w = make_worker(dsn, registry, FixedClock(t0))
    result = w.run_once()
    w.close()
    assert (result.claimed, result.completed) == (1, 1)
    assert seen == [run.id]
    rows = {r["id"]: r for r in runs_of(conn, job.id)}
    done = rows[run.id]
    assert done["status"] == "completed"
    assert done["metrics"]["queries_executed"] == 2 and done["metrics"]["done"] == 1
    assert done["worker_id"] == w.worker_id and done["finished_at"] == t0
    assert rows[future.id]["status"] == "pending"  # run_after not reached


def test_failure_is_retried_with_exponential_backoff_then_gives_up(dsn, conn, registry, t0):
    def boom(ctx):
        raise RuntimeError("collector exploded")

    registry.register("data_collection", boom)
    job = make_job(conn, max_retries=2, retry_delay=10)
    make_run(conn, job, now=t0, trigger="schedule")
    clock = FixedClock(t0)
    w = make_worker(dsn, registry, clock)
    assert w.run_once().failed == 1
    runs = runs_of(conn, job.id)
    assert [(r["attempt"], r["status"], r["trigger"]) for r in runs] == [
        (1, "failed", "schedule"), (2, "pending", "retry")]  # fmt: skip
    assert runs[0]["error_message"] == "RuntimeError: collector exploded"
    delay1 = (runs[1]["run_after"] - t0).total_seconds()
    assert 10 <= delay1 <= 12.5
    assert runs[1]["retry_of"] == runs[0]["id"]
    assert runs[1]["scheduled_for"] == runs[0]["scheduled_for"]
    assert w.run_once().claimed == 0  # not yet due
    clock.advance(delay1)
    w.run_once()
    runs = runs_of(conn, job.id)
    delay2 = (runs[2]["run_after"] - clock.now()).total_seconds()
    assert 20 <= delay2 <= 25
    clock.advance(delay2)
    w.run_once()
    runs = runs_of(conn, job.id)
    w.close()
    assert [(r["attempt"], r["status"]) for r in runs] == [(1, "failed"), (2, "failed"), (3, "failed")]


def test_backoff_grows_exponentially_with_bounded_jitter():
    rng = random.Random(0)
    for attempt, base in [(1, 5), (2, 10), (3, 20), (4, 40)]:
        d = backoff_seconds(5, attempt, rng)
        assert base <= d <= base * 1.25


def test_partial_and_cancelled_are_not_retried(dsn, conn, registry, t0):
    registry.register("scoring", lambda ctx: HandlerResult(RunStatus.PARTIAL, {"x": 1}, "perplexity: 503"))
    job = make_job(conn, job_type="scoring")
    make_run(conn, job, now=t0)
    w = make_worker(dsn, registry, FixedClock(t0))
    w.run_once()
    w.close()
    [run] = runs_of(conn, job.id)
    assert (run["status"], run["error_message"]) == ("partial", "perplexity: 503")


def test_missing_handler_fails_the_run_not_the_worker(dsn, conn, registry, t0):
    job = make_job(conn, max_retries=0)
    make_run(conn, job, now=t0)
    w = make_worker(dsn, registry, FixedClock(t0))
    assert w.run_once().failed == 1
    w.close()
    assert "no handler registered" in runs_of(conn, job.id)[0]["error_message"]


def test_expired_lease_is_taken_back_and_retried(dsn, conn, registry, t0):
    job = make_job(conn, max_retries=1, retry_delay=0)
    dead = make_run(conn, job, status="processing", worker_id="worker-dead", started_at=t0 - 120 * S,
                    lease_expires_at=t0 - S, now=t0 - 120 * S)  # fmt: skip
    alive = make_run(conn, job, status="processing", worker_id="worker-alive", started_at=t0,
                     lease_expires_at=t0 + 30 * S, now=t0)  # fmt: skip
    result = rescue_expired(conn, t0, rng=random.Random(1))
    assert (result.failed, result.retried) == (1, 1)
    rows = {r["id"]: r for r in runs_of(conn, job.id)}
    assert rows[dead.id]["status"] == "failed"
    assert "lease expired" in rows[dead.id]["error_message"]
    assert rows[alive.id]["status"] == "processing"
    [retry] = [r for r in rows.values() if r["retry_of"] == dead.id]
    assert (retry["status"], retry["attempt"]) == ("pending", 2)
    registry.register("data_collection", lambda ctx: {"ok": True})
    w = make_worker(dsn, registry, FixedClock(t0))
    w.run_once()
    w.close()
    rows = {r["id"]: r for r in runs_of(conn, job.id)}
    assert rows[retry["id"]]["status"] == "completed"


def test_a_worker_that_lost_its_lease_cannot_overwrite_the_outcome(dsn, conn, registry, t0):
    job = make_job(conn, max_retries=0)
    make_run(conn, job, now=t0)
    [claimed] = claim_runs(conn, "w1", t0, 10, lease_seconds=5)
    rescue_expired(conn, t0 + 10 * S)
    result = complete(conn, claimed, "w1", RunOutcome(RunStatus.COMPLETED, {}), t0 + 11 * S)
    assert not result.written and result.run is None
    assert runs_of(conn, job.id)[0]["status"] == "failed"


def test_cancel_pending_run_never_starts(dsn, conn, registry, t0):
    calls = []
    registry.register("data_collection", lambda ctx: calls.append(1))
    job = make_job(conn)
    run = make_run(conn, job, now=t0)
    cancelled = cancel_run(conn, run.id, t0)
    assert cancelled.status == "cancelled"
    w = make_worker(dsn, registry, FixedClock(t0))
    assert w.run_once().claimed == 0
    w.close()
    assert calls == []


def test_cancel_processing_run_stops_at_next_checkpoint(dsn, conn, registry, t0):
    started, steps = threading.Event(), []

    def slow(ctx):
        started.set()
        for i in range(200):
            steps.append(i)
            ctx.checkpoint(force=True)
            time.sleep(0.01)
        return {"steps": len(steps)}

    registry.register("data_collection", slow)
    job = make_job(conn, max_retries=3)
    run = make_run(conn, job, now=t0)
    w = make_worker(dsn, registry, FixedClock(t0))
    t = threading.Thread(target=w.run_once)
    t.start()
    assert started.wait(10)
    cancel_run(conn, run.id, t0)
    t.join(10)
    w.close()
    rows = runs_of(conn, job.id)
    assert len(rows) == 1  # a cancelled run is not retried
    assert rows[0]["status"] == "cancelled"
    assert len(steps) < 200


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_timeout_fails_an_async_handler(dsn, conn, registry, t0):
    import asyncio

    async def hang(ctx):
        await asyncio.sleep(30)

    registry.register("data_collection", hang)
    job = make_job(conn, timeout_seconds=1, max_retries=0)
    make_run(conn, job, now=t0)
    w = make_worker(dsn, registry, FixedClock(t0))
    w.run_once()
    w.close()
    assert runs_of(conn, job.id)[0]["error_message"] == "timed out after 1 s"


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_serve_starts_a_new_run_on_notify_and_stops_gracefully(dsn, conn, registry):
    done = threading.Event()
    registry.register("scoring", lambda ctx: done.set() or {"ok": 1})
    brand = make_brand(conn)
    job = jobs.create_job(
        conn, {"customer_id": brand.customer_id, "brand_id": brand.id, "job_type": "scoring",
               "cron_expression": "0 0 1 1 *"}, dt.datetime.now(dt.UTC))  # fmt: skip
    w = Worker(dsn, settings(worker_poll_seconds=30), registry=registry)
    stop = threading.Event()
    t = threading.Thread(target=w.serve, args=(stop,))
    t.start()
    time.sleep(0.5)  # let it LISTEN, then go idle for its 30 s poll
    jobs.trigger_job(conn, job.id, dt.datetime.now(dt.UTC))
    assert done.wait(5), "NOTIFY should wake the worker long before its 30 s poll"
    stop.set()
    t.join(10)
    assert not t.is_alive()
    w.close()
    assert runs_of(conn, job.id)[0]["status"] == "completed"


def test_claimed_run_is_the_row_as_stored(dsn, conn, t0):
    """claim_runs builds the run from a few columns plus what the claim set; it must equal the stored row."""

    job = make_job(conn, metadata={"collectors": ["chatgpt"], "n": 1}, timeout_seconds=77, max_retries=2, retry_delay=9,
                   overlap_policy="allow")  # both runs in one claim (under forbid the retry waits for the first)
    plain = make_run(conn, job, now=t0)
    # a run released back to the queue keeps its metrics and error message
    odd = make_run(conn, job, now=t0 + S, trigger="retry", attempt=2, retry_of=plain.id,
                   metrics={"done": 3}, error_message="was released")  # fmt: skip
    pool = make_pool(dsn)
    try:
        with pool.connection() as c:
            claimed = runs_repo.claim_runs(c, "w1", t0 + 2 * S, 10, 30)
        assert [x.run.id for x in claimed] == [plain.id, odd.id]
        for x in claimed:
            stored = JobRun.from_row(conn.execute("SELECT * FROM job_runs WHERE id = %s", (x.run.id,)).fetchone())
            assert x.run == stored
            assert x.run.status is RunStatus.PROCESSING and x.run.worker_id == "w1"
            assert (x.timeout_seconds, x.max_retries, x.retry_delay) == (77, 2, 9)
            assert x.job_metadata == {"collectors": ["chatgpt"], "n": 1}
        assert claimed[1].run.metrics == {"done": 3} and claimed[1].run.error_message == "was released"
        assert claimed[0].run.metrics == {}
    finally:
        pool.close()


def test_a_handler_changing_its_job_metadata_does_not_change_another_runs(dsn, conn, registry, t0):
    seen = []
    lock = threading.Lock()

    def handler(ctx):
        with lock:
            seen.append((ctx.run.id, {**ctx.job_metadata, "collectors": list(ctx.job_metadata["collectors"])}))
            ctx.job_metadata["collectors"].append("mutated")
            ctx.job_metadata["extra"] = ctx.run.id
        assert ctx.job_metadata is ctx.job_metadata  # one dict for the whole run

    registry.register("data_collection", handler)
    job = make_job(conn, metadata={"collectors": ["chatgpt"]})
    ids = {make_run(conn, job, now=t0).id for _ in range(6)}
    w = make_worker(dsn, registry, FixedClock(t0), concurrency=2, prefetch=4)
    assert w.run_once().completed == 6
    w.close()
    assert {i for i, _ in seen} == ids
    assert all(meta == {"collectors": ["chatgpt"]} for _, meta in seen)


def test_batched_outcomes_keep_each_runs_status_metrics_and_error(dsn, conn, registry, t0):
    def handler(ctx):
        if ctx.run.attempt == 2:
            return HandlerResult(status=RunStatus.PARTIAL, metrics={"got": 0.5, "note": 'quote " é'},
                                 error_message="half of it")  # fmt: skip
        return {"n": ctx.run.attempt}

    registry.register("data_collection", handler)
    job = make_job(conn)
    a = make_run(conn, job, now=t0, metrics={"before": True})
    b = make_run(conn, job, now=t0, attempt=2)
    clock = FixedClock(t0)
    w = make_worker(dsn, registry, clock)
    result = w.run_once()
    w.close()
    assert (result.completed, result.partial) == (1, 1)
    rows = {r["id"]: r for r in runs_of(conn, job.id)}
    assert rows[a.id]["status"] == "completed" and rows[a.id]["error_message"] is None
    assert rows[a.id]["metrics"]["n"] == 1 and rows[a.id]["metrics"]["before"] is True
    assert rows[b.id]["status"] == "partial" and rows[b.id]["error_message"] == "half of it"
    assert rows[b.id]["metrics"]["got"] == 0.5 and rows[b.id]["metrics"]["note"] == 'quote " é'
    assert rows[a.id]["finished_at"] == t0 == rows[b.id]["finished_at"] == rows[b.id]["updated_at"]
    assert rows[a.id]["lease_expires_at"] is None


def test_drain_claims_more_while_a_slow_run_of_the_batch_is_still_running(dsn, conn, registry, t0):
    """run_once is pipelined: one slow run does not hold up the next claims."""
    job = make_job(conn)
    runs = [make_run(conn, job, now=t0 + i * dt.timedelta(microseconds=1)) for i in range(8)]
    later_started = threading.Event()
    waited = []

    def handler(ctx):
        if ctx.run.id == runs[0].id:
            waited.append(later_started.wait(10))
        elif ctx.run.id in {r.id for r in runs[4:]}:
            later_started.set()  # only claimable once the first batch (4 runs) is partly written back

    registry.register("data_collection", handler)
    w = make_worker(dsn, registry, FixedClock(t0 + S), concurrency=2, prefetch=2)
    result = w.run_once()
    w.close()
    assert waited == [True]
    assert (result.claimed, result.completed) == (8, 8)
    assert {r["status"] for r in runs_of(conn, job.id)} == {"completed"}


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_status_index_holds_only_the_rare_statuses_and_serves_their_listing(conn, t0):
    """job_runs_status_idx holds only the rare statuses, so claims and finishes do not write it;
    failed listings still use it."""
    job = make_job(conn)
    conn.execute(
        "INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,"
        " scheduled_for, run_after, started_at, finished_at)"
        " SELECT %s, %s, %s, 'data_collection', 'manual', CASE WHEN g %% 100 = 0 THEN 'failed' ELSE 'completed' END,"
        " %s, %s, %s, %s FROM generate_series(1, 20000) g",
        (job.id, job.customer_id, job.brand_id, t0, t0, t0, t0),
    )
    conn.execute("ANALYZE job_runs")
    size = conn.execute("SELECT pg_relation_size('job_runs_status_idx') AS n").fetchone()["n"]
    assert size < 8192 * 10  # 200 entries, not 20,000
    conn.execute("SET plan_cache_mode = force_custom_plan")
    conn.execute("PREPARE by_status(text) AS SELECT id FROM job_runs WHERE status = $1 ORDER BY id DESC LIMIT 50")
    plan = plan_text(conn.execute("EXPLAIN EXECUTE by_status('failed')"))
    assert "job_runs_status_idx" in plan
    plan = plan_text(conn.execute("EXPLAIN EXECUTE by_status('completed')"))
    # newest completed runs: the partial index of completed ids (0028), or the primary key backward
    assert ("job_runs_completed_idx" in plan or "Index Scan Backward using job_runs_pkey" in plan), plan
    assert "Seq Scan on job_runs" not in plan, plan


def test_one_completer_writes_at_once_or_in_batches_and_reports_every_write(dsn, conn, t0):
    """Unbatched: every outcome at once. Batched: failures at once (with their retry), others on flush."""
    job = make_job(conn, max_retries=1, retry_delay=10)
    for _ in range(3):
        make_run(conn, job, now=t0)
    seen = []
    with make_pool(dsn, max_size=2) as pool:
        with pool.connection() as c:
            ok, bad, late = claim_runs(c, "w1", t0, 10, lease_seconds=30)
        batched = Completer(pool, "w1", FixedClock(t0 + S), rng=random.Random(1), batch=True,
                            on_written=lambda c, o, d: seen.append((c.run.id, str(o.status), d.written)))  # fmt: skip
        assert batched.submit(ok, RunOutcome(RunStatus.COMPLETED, {"n": 1})) is None
        failed = batched.submit(bad, RunOutcome(RunStatus.FAILED, {}, "boom"))
        assert failed.written and failed.retry_run_id is not None
        assert seen == [(bad.run.id, "failed", True)] and batched.pending() == 1
        assert batched.flush() == 1 and batched.pending() == 0
        assert seen[-1] == (ok.run.id, "completed", True)
        rescue_expired(conn, t0 + 60 * S)  # its lease expired and was taken back: the write is lost
        at_once = Completer(pool, "w1", FixedClock(t0 + S))
        assert at_once.submit(late, RunOutcome(RunStatus.COMPLETED, {})) == Completion(False)
    rows = {r["id"]: r for r in runs_of(conn, job.id)}
    assert rows[ok.run.id]["status"] == "completed" and rows[ok.run.id]["metrics"]["n"] == 1
    assert rows[bad.run.id]["status"] == "failed" and rows[failed.retry_run_id]["trigger"] == "retry"
    assert rows[late.run.id]["status"] == "failed" and "lease expired" in rows[late.run.id]["error_message"]


def test_a_batch_the_database_refuses_as_data_is_given_up_and_the_next_flush_writes(dsn, conn, t0):
    """A batch of the write-back refused as data (a NUL in its metrics) is given up (lost: the lease
    expires and the rescuer fails it), nothing of it written, and the same pool writes the next batch."""
    job = make_job(conn)
    for _ in range(3):
        make_run(conn, job, now=t0)
    seen = []
    with make_pool(dsn, max_size=1) as pool:
        with pool.connection() as c:
            a, b, c2 = claim_runs(c, "w1", t0, 10, lease_seconds=30)
        batched = Completer(pool, "w1", FixedClock(t0 + S), batch=True,
                            on_written=lambda c, o, d: seen.append((c.run.id, d.written)))  # fmt: skip
        batched.submit(a, RunOutcome(RunStatus.COMPLETED, {"bad": "nul\u0000byte"}))
        batched.submit(b, RunOutcome(RunStatus.COMPLETED, {}))
        assert batched.flush() == 2 and batched.pending() == 0
        assert seen == [(a.run.id, False), (b.run.id, False)]
        batched.submit(c2, RunOutcome(RunStatus.COMPLETED, {"n": 3}))
        assert batched.flush() == 1 and seen[-1] == (c2.run.id, True)
    rows = {r["id"]: r for r in runs_of(conn, job.id)}
    assert rows[a.run.id]["status"] == rows[b.run.id]["status"] == "processing"
    assert rows[c2.run.id]["status"] == "completed" and rows[c2.run.id]["metrics"]["n"] == 3


def test_wait_seconds_is_the_poll_interval_or_until_the_next_run_after_if_sooner(t0):
    assert wait_seconds(t0, None, 30) == 30
    assert wait_seconds(t0, t0 + 1.5 * S, 30) == 1.5
    assert wait_seconds(t0, t0 + 90 * S, 30) == 30
    assert wait_seconds(t0, t0 + dt.timedelta(milliseconds=1), 30) == MIN_WAIT_SECONDS  # never a busy loop
    assert wait_seconds(t0, t0 - S, 30) == MIN_WAIT_SECONDS


def test_worker_asks_for_the_next_run_after_by_its_clock(dsn, conn, registry, t0):
    job = make_job(conn)
    make_run(conn, job, now=t0)  # due: not what the worker waits for
    make_run(conn, job, now=t0 + 2 * S)
    make_run(conn, job, now=t0 + 9 * S)
    w = Worker(dsn, settings(worker_poll_seconds=30), registry=registry, clock=FixedClock(t0))
    try:
        assert w._sleep_seconds() == 2.0
        assert not w._delayed_run_due()
        w.clock.advance(2)
        assert w._delayed_run_due()
        assert w._sleep_seconds() == 7.0
    finally:
        w.close()


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_delayed_run_starts_on_time_while_another_run_is_in_hand(dsn, conn, registry):
    """A jittered or retried run due in 1.5 s starts within 1 s of its run_after, not at the 30 s poll."""
    release, holding = threading.Event(), threading.Event()
    registry.register("scoring", lambda ctx: holding.set() or release.wait(10) and {})
    registry.register("data_collection", lambda ctx: {"ok": 1})
    brand = make_brand(conn)
    busy = make_job(conn, brand, job_type="scoring")
    delayed = make_job(conn, brand)
    make_run(conn, busy, now=dt.datetime.now(dt.UTC))
    w = Worker(dsn, settings(worker_poll_seconds=30), registry=registry, concurrency=4)
    stop = threading.Event()
    t = threading.Thread(target=w.serve, args=(stop,))
    t.start()
    try:
        assert holding.wait(5)
        due = dt.datetime.now(dt.UTC) + 1.5 * S
        run = make_run(conn, delayed, now=due, trigger="retry", attempt=2)
        deadline = time.monotonic() + 5
        while runs_of(conn, delayed.id)[0]["status"] != "completed" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        release.set()
        stop.set()
        t.join(10)
        w.close()
    [row] = runs_of(conn, delayed.id)
    assert row["status"] == "completed"
    assert run.run_after <= row["started_at"] < run.run_after + S
    assert [r["status"] for r in runs_of(conn, busy.id)] == ["completed"]
