"""The API's own limits (api/limits.py): wrong tokens per address, writes per token, a read's deadline."""

from __future__ import annotations

import logging
import threading
import time

import psycopg
import pytest

from cronkeeper import tokens
from cronkeeper.api import app as app_module
from cronkeeper.api import auth
from cronkeeper.api.auth import TokenCache
from cronkeeper.api.limits import AuthFailures, Limits, RequestLimits, ServerLimits, WriteRate
from cronkeeper.errors import ConfigurationError
from tests.support.api import api_client

ADMIN = "/api/admin"
WRONG = {"Authorization": "Bearer ck_not_a_token"}


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


# -- the counters ------------------------------------------------------------------
def test_an_address_is_blocked_after_too_many_wrong_tokens_in_a_window():
    clock = Ticks()
    failures = AuthFailures(3, 30, window=10, clock=clock)
    assert [failures.record("a", wrong_token=True) for _ in range(3)] == ["first", None, None]
    assert failures.blocked_for("a") is None
    assert failures.record("a", wrong_token=True) == "blocked"  # the 4th of the window
    assert failures.record("a", wrong_token=True) is None  # logged once
    assert failures.blocked_for("a") == 30 and failures.blocked_for("b") is None
    clock.t += 29.5
    assert failures.blocked_for("a") == 1
    clock.t += 0.5
    assert failures.blocked_for("a") is None


def test_failures_spread_over_windows_and_missing_tokens_do_not_block():
    clock = Ticks()
    failures = AuthFailures(3, 30, window=10, clock=clock)
    for _ in range(5):
        assert failures.record("a", wrong_token=True) == "first"  # one a window: a new window each time
        clock.t += 10
    assert all(failures.record("b", wrong_token=False) != "blocked" for _ in range(50))
    assert failures.blocked_for("a") is None and failures.blocked_for("b") is None
    off = AuthFailures(0, 30, clock=clock)
    assert [off.record("c", wrong_token=True) for _ in range(100)].count("first") == 1
    assert off.blocked_for("c") is None


def test_the_counters_forget_idle_addresses_rather_than_grow():
    clock = Ticks()
    failures = AuthFailures(3, 30, window=10, clock=clock, max_keys=10)
    for i in range(100):
        failures.record(f"10.0.0.{i}", wrong_token=True)
        clock.t += 1
    assert len(failures._seen) <= 10
    writes = WriteRate(5, clock=clock, max_keys=10)
    for i in range(100):
        writes.take(i)
    assert len(writes._buckets) <= 10


def test_writes_refill_at_their_rate_per_minute():
    clock = Ticks()
    writes = WriteRate(3, clock=clock)
    assert [writes.take("t") for _ in range(3)] == [None, None, None]  # a burst up to the rate
    assert writes.take("t") == 20  # one write every 20 s
    assert writes.take("other") is None
    clock.t += 19
    assert writes.take("t") == 1
    clock.t += 1
    assert writes.take("t") is None and writes.take("t") == 20
    assert WriteRate(0, clock=clock).take("t") is None  # 0: off


@pytest.mark.parametrize(
    ("name", "value"),
    [("CRONKEEPER_API_WRITE_RATE", "-1"), ("CRONKEEPER_API_WRITE_RATE", "1.5"), ("CRONKEEPER_API_AUTH_FAILURES", "x"),
     ("CRONKEEPER_API_AUTH_BLOCK_SECONDS", "0"), ("CRONKEEPER_API_KEEP_ALIVE_SECONDS", "nan"),
     ("CRONKEEPER_API_MAX_CONNECTIONS", "1"), ("CRONKEEPER_API_REQUEST_TIMEOUT_SECONDS", "1e9")],
)  # fmt: skip
def test_bad_settings_are_refused_naming_the_variable(name, value):
    with pytest.raises(ConfigurationError) as err:
        RequestLimits.from_env({name: value})
        ServerLimits.from_env({name: value})
    assert err.value.field == name and name in err.value.message


def test_the_defaults_and_the_uvicorn_options():
    assert RequestLimits.from_env({}) == RequestLimits(auth_failures=20, auth_block_seconds=30, write_rate=600)
    options = ServerLimits.from_env({"CRONKEEPER_API_MAX_CONNECTIONS": "50"}).uvicorn_options()
    assert options["http"] == "cronkeeper.api.protocol:GuardedHttpToolsProtocol"
    assert (options["timeout_keep_alive"], options["limit_concurrency"], options["backlog"]) == (5, 50, 2048)


def test_cronkeeper_api_refuses_a_bad_limit_before_serving(ck, monkeypatch):
    monkeypatch.setenv("CRONKEEPER_API_WRITE_RATE", "lots")
    result = ck("api", "--port", "1", ok=False)
    assert result.returncode != 0 and "CRONKEEPER_API_WRITE_RATE" in result.stderr


# -- through the API -----------------------------------------------------------------
def _limited(api, clock: Ticks, **config) -> Limits:
    limits = Limits(RequestLimits(**config), clock=clock)
    api.client.app.state.limits = limits
    return limits


def test_wrong_tokens_from_one_address_get_429_without_a_lookup(dsn, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="cronkeeper.api")
    lookups = []
    real_lookup = auth._lookup
    monkeypatch.setattr(auth, "_lookup", lambda *a: lookups.append(1) or real_lookup(*a))
    clock = Ticks()
    with api_client(dsn) as api:
        _limited(api, clock, auth_failures=3, auth_block_seconds=30)
        good = api.token("viewer")
        statuses = [api.get(f"{ADMIN}/scheduled-jobs", headers=WRONG).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 401]  # the 4th starts the block
        assert len(lookups) == 4
        blocked = api.get(f"{ADMIN}/scheduled-jobs", headers=WRONG)
        assert blocked.status_code == 429 and blocked.headers["retry-after"] == "30"
        assert blocked.json()["error"] == "RateLimited" and "try again in 30 s" in blocked.json()["message"]
        # the whole address waits, a right token included (it would cost a lookup) ...
        assert api.get(f"{ADMIN}/scheduled-jobs", headers=good).status_code == 429
        assert len(lookups) == 4
        # ... but a request without a token is a plain 401, and open routes stay open
        assert api.get(f"{ADMIN}/scheduled-jobs", headers={"Authorization": ""}).status_code == 401
        assert api.get("/health/live").status_code == 200
        clock.t += 30
        assert api.get(f"{ADMIN}/scheduled-jobs", headers=good).status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "cronkeeper.api"]
    assert messages.count("auth_failed") == 1 and messages.count("auth_blocked") == 1


def test_a_cached_token_still_works_from_a_blocked_address(dsn, conn):
    clock = Ticks()
    with api_client(dsn) as api:
        limits = _limited(api, clock, auth_failures=1, auth_block_seconds=30)
        made = tokens.create_token(conn, name="cached", role="viewer")
        cache = api.client.app.state.token_cache = TokenCache(60)
        cache.put(made.secret, made.token)
        for _ in range(2):
            api.get(f"{ADMIN}/scheduled-jobs", headers=WRONG)
        assert limits.auth.blocked_for("testclient") == 30
        headers = {"Authorization": f"Bearer {made.secret}"}
        assert api.get(f"{ADMIN}/scheduled-jobs", headers=headers).status_code == 200


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_token_writing_too_fast_gets_429_with_retry_after(dsn):
    clock = Ticks()
    with api_client(dsn) as api:
        _limited(api, clock, write_rate=2)
        assert [api.post(f"{ADMIN}/customers", json={"name": f"c{i}"}).status_code for i in range(2)] == [201, 201]
        refused = api.post(f"{ADMIN}/customers", json={"name": "c2"})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
        assert "2 writes a minute" in refused.json()["message"]
        names = {c["name"] for c in api.get(f"{ADMIN}/customers").json()["data"]}
        assert "c2" not in names and {"c0", "c1"} <= names  # refused before anything was written; reads go on
        other = api.token("admin")
        assert api.post(f"{ADMIN}/customers", json={"name": "c3"}, headers=other).status_code == 201
        # a read-only POST (a schedule preview) is not a write
        preview = api.post(f"{ADMIN}/schedule-preview", json={"cron_expression": "0 9 * * *", "timezone": "UTC"})
        assert preview.status_code != 429
        clock.t += 30
        assert api.post(f"{ADMIN}/customers", json={"name": "c2"}).status_code == 201


def test_the_schema_declares_429_on_routes_with_a_token_and_503_on_reads(api):
    paths = api.get("/schema/openapi.json").json()["paths"]
    assert {"401", "429", "503"} <= set(paths[f"{ADMIN}/job-runs"]["get"]["responses"])
    assert "429" in paths[f"{ADMIN}/ui/whoami"]["get"]["responses"]
    assert "429" not in paths["/health/live"]["get"]["responses"]


# -- a read's deadline ---------------------------------------------------------------
@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_read_waiting_on_a_lock_answers_503_at_its_deadline(dsn, monkeypatch):
    monkeypatch.setattr(app_module, "PAGE_STATEMENT_TIMEOUT_MS", 300)
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with psycopg.connect(dsn) as c:
            c.execute("LOCK TABLE job_runs IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(20)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        with api_client(dsn) as api:
            assert locked.wait(10)
            started = time.monotonic()
            answer = api.get(f"{ADMIN}/job-runs")
            assert time.monotonic() - started < 3
            assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
            assert answer.json()["error"] == "DatabaseUnavailable"
            assert "did not answer within this request's deadline" in answer.json()["message"]
            assert api.get(f"{ADMIN}/brands").status_code == 200  # another table: served
    finally:
        release.set()
        holder.join()
