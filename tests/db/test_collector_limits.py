"""A collector's limits hold per collector, across runs and across processes (collectors.hub, collectors.gate).

The fake engine counts the requests in flight at once and when each arrived;
two ``Hub`` objects stand for two worker processes (each has its own database
session, which is what separates processes for the advisory-lock slots and
the rate row).
"""

import asyncio
import random
import threading
import time

import pytest

from cronkeeper import job_types
from cronkeeper.clock import FixedClock
from cronkeeper.collectors import build_collector, parse_config
from cronkeeper.collectors.hub import Hub, process_hub
from cronkeeper.handlers import Registry
from cronkeeper.repo import brand_queries
from cronkeeper.repo.collectors import upsert_collector
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job, make_run
from tests.support.fakes_http import FakeChatServer, Reply, chat_completion


class SlowChat(FakeChatServer):
    """A chat engine answering after ``delay`` seconds.

    ``most``: the most requests being answered at once, each counted
    until its answer is ready (not until it is written: the client may send its
    next request before the server's thread notes the last one done).
    ``connections`` counts the TCP connections accepted.
    """

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.connections = self.answering = self.most = 0

        def answer(request):
            with self._lock:
                self.answering += 1
                self.most = max(self.most, self.answering)
            time.sleep(delay)
            with self._lock:
                self.answering -= 1
            return Reply(200, chat_completion("An answer."))

        self.default = answer
        accept = self._server.process_request

        def counting(request, address):
            with self._lock:
                self.connections += 1
            accept(request, address)

        self._server.process_request = counting


def config(url: str, **limits):
    raw = {"kind": "openai_chat", "base_url": url, "model": "m", "max_retries": 0, **limits}
    return parse_config("limited", raw)


async def ask_many(hubs: list[Hub], cfg, dsn: str, calls_each: int) -> list:
    shared = [hub.share(build_collector(cfg, {}), dsn) for hub in hubs]
    asks = [c.ask(None, f"q{i}") for c in shared for i in range(calls_each)]
    return await asyncio.gather(*asks, return_exceptions=True)


@pytest.fixture
def hubs():
    made = [Hub(), Hub()]
    yield made
    for hub in made:
        hub.close()


@pytest.mark.slow  # a few seconds: the full suite only
def test_two_processes_never_exceed_max_concurrency_together(dsn, hubs):
    with SlowChat(0.05) as chat:
        results = asyncio.run(ask_many(hubs, config(chat.url, max_concurrency=3), dsn, calls_each=20))
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert len(chat.requests) == 40
    assert chat.most <= 3  # the provider's limit, for both processes together
    assert chat.most >= 2  # and the slots are used, not one call at a time
    assert all(stats["calls"] > 0 for hub in hubs for stats in hub.stats().values())  # both processes called


@pytest.mark.slow  # a few seconds: the full suite only
def test_the_rate_limit_holds_across_processes(dsn, hubs):
    rate = 20.0
    with SlowChat(0.0) as chat:
        started = time.monotonic()
        results = asyncio.run(ask_many(hubs, config(chat.url, max_concurrency=10, rate_per_second=rate), dsn, 15))
        elapsed = time.monotonic() - started
    assert [r for r in results if isinstance(r, BaseException)] == []
    arrivals = sorted(r.at for r in chat.requests)
    assert len(arrivals) == 30
    assert elapsed >= (30 - 1) / rate * 0.9  # one bucket for both, not one each (that would take half)
    for i, at in enumerate(arrivals):  # no second holds more than its share (plus the burst of 1, and a slow send)
        in_window = sum(1 for other in arrivals[i:] if other - at < 1.0)
        assert in_window <= rate + 2, (i, in_window)


def test_a_lost_gate_connection_is_made_anew(dsn, conn, hubs):
    with SlowChat(0.01) as chat:
        cfg = config(chat.url, max_concurrency=2)
        first = asyncio.run(ask_many(hubs[:1], cfg, dsn, 5))
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) AS killed FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND query LIKE '%%pg_try_advisory_lock%%'"
        ).fetchone()["killed"]
        second = asyncio.run(ask_many(hubs[:1], cfg, dsn, 5))
    assert killed == 1
    assert [r for r in first + second if isinstance(r, BaseException)] == []
    assert len(chat.requests) == 10 and chat.most <= 2


def test_a_changed_config_gets_its_own_limits_and_client(dsn, hubs):
    hub = hubs[0]
    with SlowChat(0.0) as chat:
        a = hub.share(build_collector(config(chat.url, max_concurrency=2), {}), dsn)
        b = hub.share(build_collector(config(chat.url, max_concurrency=2), {}), dsn)
        c = hub.share(build_collector(config(chat.url, max_concurrency=5), {}), dsn)
    assert a.inner is b.inner and a.inner is not c.inner
    assert sum(1 for key in hub.stats() if key.startswith("limited:")) == 2


@pytest.fixture
def brand(conn):
    b = make_brand(conn, name="Nike")
    for i in range(6):
        brand_queries.insert_query(conn, b.id, f"question {i}")
    return b


def run_jobs(dsn, conn, brand, t0, runs: int, workers: int, meta=None) -> list[dict]:
    registry = Registry()
    job_types.register(registry)
    ids = []
    for _ in range(runs):
        job = make_job(conn, brand, job_type="data_collection", metadata={"collectors": ["slowchat"], **(meta or {})})
        ids.append(make_run(conn, job, now=t0).id)
    made = [
        Worker(dsn, Settings(database_url=None, data_dir="."), registry=registry, clock=FixedClock(t0),
               concurrency=4, rng=random.Random(n))  # fmt: skip
        for n in range(workers)
    ]
    threads = [threading.Thread(target=w.run_once) for w in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for w in made:
        w.close()
    return conn.execute("SELECT * FROM job_runs WHERE id = ANY(%s) ORDER BY id", (ids,)).fetchall()


@pytest.mark.slow  # a few seconds: the full suite only
def test_two_workers_keep_a_collector_under_its_limit_and_reuse_its_connections(dsn, conn, brand, t0):
    with SlowChat(0.05) as chat:
        upsert_collector(conn, "slowchat", "openai_chat", {"base_url": chat.url, "model": "m", "max_concurrency": 3})
        runs = run_jobs(dsn, conn, brand, t0, runs=6, workers=2)
    assert [r["status"] for r in runs] == ["completed"] * 6, [r["error_message"] for r in runs]
    assert len(chat.requests) == 36
    assert 2 <= chat.most <= 3  # 6 runs in flight at once, one limit for all
    # one client per collector per process, its connections kept alive: not one client (and connection) per run
    assert chat.connections <= 3, chat.connections
    assert sum(r["metrics"]["calls_by_collector"]["slowchat"]["ok"] for r in runs) == 36


@pytest.mark.slow  # a few seconds: the full suite only
def test_a_runs_calls_go_in_parallel_by_default(dsn, conn, brand, t0):
    delay = 0.2
    with SlowChat(delay) as chat:
        upsert_collector(conn, "slowchat", "openai_chat", {"base_url": chat.url, "model": "m", "max_concurrency": 6})
        [run] = run_jobs(dsn, conn, brand, t0, runs=1, workers=1)
        assert run["status"] == "completed", run["error_message"]
        arrived = [r.at for r in chat.requests]
        assert chat.most == 6 and max(arrived) - min(arrived) < delay  # six queries at once, not one by one
        upsert_collector(conn, "slowchat", "openai_chat", {"base_url": chat.url, "model": "m", "max_concurrency": 7})
        chat.most = 0
        [run] = run_jobs(dsn, conn, brand, t0, runs=1, workers=1, meta={"parallel": False})
    assert run["status"] == "completed", run["error_message"]
    assert chat.most == 1  # asked for: one at a time


def test_the_process_hub_is_one_per_process():
    assert process_hub() is process_hub()


def test_limits_are_shared_through_a_direct_connection_never_a_transaction_pooler():
    assert job_types.gate_dsn("host=db", {}) == "host=db"
    assert job_types.gate_dsn(None, {}) is None  # no database: this process only
    pooled = {"CRONKEEPER_DB_POOLER": "transaction"}
    assert job_types.gate_dsn("host=bouncer", pooled) is None
    assert job_types.gate_dsn("host=bouncer", {**pooled, "CRONKEEPER_LISTEN_URL": "host=db"}) == "host=db"
