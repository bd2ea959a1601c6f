"""Real collection over real HTTP (fake engines on 127.0.0.1), scoring and webhooks, end to end."""

import datetime as dt
import functools
import json
import random

import pytest

from cronkeeper import handlers, job_types, jobs, notify
from cronkeeper.clock import FixedClock
from cronkeeper.errors import NonRetryable, ValidationError
from cronkeeper.handlers import Registry
from cronkeeper.models import JobType
from cronkeeper.notify import verify_signature
from cronkeeper.repo import brand_queries
from cronkeeper.repo.collectors import upsert_collector
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_job, make_run
from tests.support.fakes_http import (
    FakeChatServer,
    FakeServer,
    Reply,
    WebhookReceiver,
    closed_port_url,
)

ANSWERS = {
    "best running shoes": "For most runners, Nike Pegasus is excellent and reliable. Adidas is also popular.",
    "top marathon shoes": "Adidas Adizero leads, then Hoka. Nike Vaporfly is fast but expensive and fragile.",
}


def test_the_built_in_job_types_are_registered_by_import_without_entry_points(monkeypatch):
    def no_entry_points(**kw):
        raise AssertionError("the built-in job types must not come from entry points")

    monkeypatch.setattr(handlers, "entry_points", no_entry_points)
    fresh = Registry()
    job_types.register(fresh)
    assert {t: fresh.get(t) for t in JobType} == {
        JobType.DATA_COLLECTION: job_types.data_collection,
        JobType.SCORING: job_types.scoring,
        JobType.DATA_COLLECTION_AND_SCORING: job_types.data_collection_and_scoring,
    }
    # the process-wide registry holds them from import on, before any entry point is read
    assert all(job_types.registry._handlers.get(str(t)) is fresh.get(t) for t in JobType)


@pytest.fixture
def registry():
    r = Registry()
    job_types.register(r)
    return r


@pytest.fixture
def brand(conn):
    b = make_brand(conn, name="Nike", aliases=["Nike Inc"], competitors=["Adidas", "Hoka"])
    for q in ANSWERS:
        brand_queries.insert_query(conn, b.id, q)
    brand_queries.insert_query(conn, b.id, "inactive query", is_active=False)
    return b


def chat_collector(conn, name, url, key_env="FAKE_KEY"):
    upsert_collector(conn, name, "openai_chat",
                     {"base_url": url, "model": f"{name}-model", "api_key_env": key_env, "max_retries": 1,
                      "backoff_seconds": 0.01})  # fmt: skip (the retry is the point, not its wait)


def run_job(dsn, conn, registry, brand, t0, max_retries=0, **meta):
    job = make_job(conn, brand, job_type=meta.pop("job_type", "data_collection_and_scoring"), metadata=meta,
                   max_retries=max_retries)  # fmt: skip
    run = make_run(conn, job, now=t0)
    w = Worker(dsn, Settings(database_url=None, data_dir="."), registry=registry, clock=FixedClock(t0),
               rng=random.Random(1))  # fmt: skip
    w.run_once()
    w.close()
    return conn.execute("SELECT * FROM job_runs WHERE id = %s", (run.id,)).fetchone()


def test_collects_scores_and_stores_answers(dsn, conn, registry, brand, t0, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "k1")
    with FakeChatServer(lambda q: ANSWERS[q], api_key="k1") as chat, FakeServer(
        lambda r: Reply(200, {"result": {"text": "Hoka and Nike both make good shoes.",
                                          "links": ["https://a.example/x"]}})  # fmt: skip
    ) as serp:
        chat_collector(conn, "fakechat", chat.url)
        upsert_collector(conn, "fakeserp", "http_json",
                         {"url_template": serp.url + "/search?q={query}", "text_path": "result.text",
                          "sources_path": "result.links[*]"})  # fmt: skip
        run = run_job(dsn, conn, registry, brand, t0, collectors=["fakechat", "fakeserp"])
    assert run["status"] == "completed", run["error_message"]
    m = run["metrics"]
    assert (m["queries_executed"], m["answers_collected"], m["answers_scored"]) == (2, 4, 4)
    assert m["calls_done"] == 4 and m["queries_done"] == 2  # progress was written
    assert m["mention_rate"] == 1.0
    answers = conn.execute("SELECT * FROM collected_answers WHERE run_id = %s ORDER BY id", (run["id"],)).fetchall()
    assert {a["collector"] for a in answers} == {"fakechat", "fakeserp"}
    assert any(a["sources"] == ["https://a.example/x"] for a in answers)
    assert all(a["query_id"] is not None for a in answers)
    scores = {
        (s["query"], s["collector"]): s
        for s in conn.execute(
            "SELECT s.*, a.query, a.collector FROM answer_scores s JOIN collected_answers a ON a.id = s.answer_id"
        )
    }
    first = scores[("best running shoes", "fakechat")]
    assert (first["mentioned"], first["position"]) == (True, 1) and first["sentiment"] > 0
    second = scores[("top marathon shoes", "fakechat")]
    assert second["position"] == 3 and second["sentiment"] < 0
    assert second["competitors_mentioned"] == ["Adidas", "Hoka"]
    assert scores[("best running shoes", "fakeserp")]["position"] == 2


def test_one_collector_of_four_down_is_partial_all_down_is_failed(dsn, conn, registry, brand, t0, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "k")
    with FakeChatServer(lambda q: ANSWERS[q]) as chat:
        for name in ("c1", "c2", "c3"):
            chat_collector(conn, name, chat.url)
        chat_collector(conn, "down", closed_port_url())
        run = run_job(dsn, conn, registry, brand, t0, collectors=["c1", "c2", "c3", "down"])
    assert run["status"] == "partial"
    assert "down:" in run["error_message"] and "2 of 8 calls failed" in run["error_message"]
    assert run["metrics"]["answers_collected"] == 6
    chat_collector(conn, "down2", closed_port_url())
    run = run_job(dsn, conn, registry, brand, t0, collectors=["down", "down2"])
    assert run["status"] == "failed"
    assert "down:" in run["error_message"] and "down2:" in run["error_message"]


def test_missing_api_key_fails_with_a_clear_message(dsn, conn, registry, brand, t0, monkeypatch):
    monkeypatch.delenv("NOPE_KEY", raising=False)
    chat_collector(conn, "keyless", "http://127.0.0.1:9", key_env="NOPE_KEY")
    run = run_job(dsn, conn, registry, brand, t0, collectors=["keyless"])
    assert run["status"] == "failed"
    assert "keyless" in run["error_message"] and "NOPE_KEY" in run["error_message"]


def test_brand_without_active_queries_fails(dsn, conn, registry, t0):
    bare = make_brand(conn, name="Bare")
    run = run_job(dsn, conn, registry, bare, t0, job_type="data_collection")
    assert run["status"] == "failed"
    assert run["error_message"] == "brand 'Bare' has no active queries"


def retries_of(conn, run) -> list[dict]:
    return conn.execute("SELECT * FROM job_runs WHERE retry_of = %s", (run["id"],)).fetchall()


@pytest.mark.parametrize(("job_type", "collectors", "code"), [
    ("data_collection", ["keyless"], "missing_api_key"),
    ("data_collection", ["ghost"], "unknown_collector"),  # named, then removed from the configuration
    ("data_collection", ["keyless", "ghost"], "missing_api_key"),
    ("scoring", None, "nothing_to_score"),
    ("data_collection_and_scoring", [], "no_active_queries"),
])  # fmt: skip
@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_failure_no_retry_can_fix_is_marked_and_not_retried(
    dsn, conn, registry, brand, t0, monkeypatch, job_type, collectors, code
):
    monkeypatch.delenv("NOPE_KEY", raising=False)
    chat_collector(conn, "keyless", "http://127.0.0.1:9", key_env="NOPE_KEY")
    target = make_brand(conn, name="Bare") if code == "no_active_queries" else brand
    meta = {"collectors": collectors} if collectors else {}
    run = run_job(dsn, conn, registry, target, t0, max_retries=3, job_type=job_type, **meta)
    assert (run["status"], run["failure_code"]) == ("failed", code), run["error_message"]
    assert retries_of(conn, run) == []


def test_a_handler_raising_non_retryable_is_not_retried(dsn, conn, brand, t0):
    registry = Registry()
    registry.register("data_collection", lambda ctx: (_ for _ in ()).throw(NonRetryable("quota_gone", "no quota")))
    registry.register("scoring", lambda ctx: (_ for _ in ()).throw(RuntimeError("flaky")))
    gone = run_job(dsn, conn, registry, brand, t0, max_retries=2, job_type="data_collection")
    assert (gone["status"], gone["failure_code"], gone["error_message"]) == ("failed", "quota_gone", "no quota")
    assert retries_of(conn, gone) == []
    flaky = run_job(dsn, conn, registry, brand, t0, max_retries=2, job_type="scoring")
    assert (flaky["status"], flaky["failure_code"]) == ("failed", None)
    assert len(retries_of(conn, flaky)) == 1


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_job_naming_no_collectors_asks_only_those_with_their_key(dsn, conn, registry, brand, t0, monkeypatch):
    for key in ("OPENAI_API_KEY", "PERPLEXITY_API_KEY", "SERPAPI_API_KEY", "FAKE_KEY"):
        monkeypatch.delenv(key, raising=False)
    with FakeChatServer(lambda q: ANSWERS[q]) as chat:
        chat_collector(conn, "fakechat", chat.url)
        run = run_job(dsn, conn, registry, brand, t0, max_retries=3, job_type="data_collection")
        # no key anywhere: nothing can be asked, and a retry would not change that
        assert (run["status"], run["failure_code"]) == ("failed", "missing_api_key")
        assert "FAKE_KEY" in run["error_message"] and "OPENAI_API_KEY" in run["error_message"]
        assert retries_of(conn, run) == []
        monkeypatch.setenv("FAKE_KEY", "k")
        run = run_job(dsn, conn, registry, brand, t0, job_type="data_collection")
    assert run["status"] == "completed", run["error_message"]  # the built-ins without keys were not asked
    assert (run["metrics"]["collector_calls"], run["metrics"]["answers_collected"]) == (2, 2)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_other_failures_are_still_retried(dsn, conn, registry, brand, t0, monkeypatch):
    monkeypatch.delenv("NOPE_KEY", raising=False)
    monkeypatch.setenv("FAKE_KEY", "k")
    chat_collector(conn, "keyless", "http://127.0.0.1:9", key_env="NOPE_KEY")
    chat_collector(conn, "down", closed_port_url())
    for collectors in (["down"], ["down", "keyless"]):  # a call that may work next time: retry
        run = run_job(dsn, conn, registry, brand, t0, max_retries=3, collectors=collectors)
        assert (run["status"], run["failure_code"]) == ("failed", None)
        [retry] = retries_of(conn, run)
        assert (retry["status"], retry["attempt"], retry["failure_code"]) == ("pending", 2, None)


def test_scoring_alone_rescores_latest_answers_within_limits(dsn, conn, registry, brand, t0, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "k")
    with FakeChatServer(lambda q: ANSWERS[q]) as chat:
        chat_collector(conn, "fakechat", chat.url)
        run_job(dsn, conn, registry, brand, t0, job_type="data_collection", collectors=["fakechat"])
    run = run_job(dsn, conn, registry, brand, t0, job_type="scoring", positionLimit=1, sentimentLimit=2)
    assert run["status"] == "completed"
    assert run["metrics"]["answers_scored"] == 2
    rows = conn.execute("SELECT * FROM answer_scores WHERE run_id = %s ORDER BY answer_id DESC", (run["id"],)).fetchall()
    assert rows[0]["position"] is not None and rows[1]["position"] is None  # positionLimit=1
    assert rows[1]["sentiment"] is not None


def test_webhook_is_signed_and_its_failure_never_fails_the_run(dsn, conn, registry, brand, t0, monkeypatch):
    # the unreachable hook is still tried 3 times; only the waits between tries are short
    monkeypatch.setattr(job_types, "notify_run", functools.partial(notify.notify_run, backoff_seconds=0.01))
    monkeypatch.setenv("FAKE_KEY", "k")
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    monkeypatch.setenv("CRONKEEPER_WEBHOOK_SECRETS", "shop=HOOK_SECRET")
    monkeypatch.setenv("CRONKEEPER_OUTBOUND_ALLOW", "127.0.0.1/32")  # the fake servers' address
    with FakeChatServer(lambda q: ANSWERS[q]) as chat, WebhookReceiver() as hook:
        chat_collector(conn, "fakechat", chat.url)
        run = run_job(dsn, conn, registry, brand, t0, collectors=["fakechat"],
                      on_success={"url": hook.url + "/done", "secret_env": "shop"})  # fmt: skip
        [delivery] = hook.requests
    assert run["status"] == "completed"
    assert verify_signature("s3cret", delivery.body, delivery.headers.get("x-cronkeeper-signature"))
    body = json.loads(delivery.body)
    assert (body["run_id"], body["status"]) == (run["id"], "completed")
    assert run["metrics"]["webhook"]["ok"] is True
    with FakeChatServer(lambda q: ANSWERS[q]) as chat:
        chat_collector(conn, "fakechat", chat.url)
        run = run_job(dsn, conn, registry, brand, t0, collectors=["fakechat"],
                      on_success={"url": closed_port_url() + "/x"})  # fmt: skip
    assert run["status"] == "completed"
    assert run["metrics"]["webhook_error"].endswith(": no response after 3 attempts")
    assert run["metrics"]["webhook"]["attempts"] == 3


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_webhook_into_the_network_is_blocked_and_says_only_that(dsn, conn, registry, brand, t0, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "k")
    monkeypatch.delenv("CRONKEEPER_OUTBOUND_ALLOW", raising=False)  # engines are the operator's: not guarded
    with FakeChatServer(lambda q: ANSWERS[q]) as chat, WebhookReceiver() as hook:
        chat_collector(conn, "fakechat", chat.url)
        port = hook.url.rsplit(":", 1)[1]
        run = run_job(dsn, conn, registry, brand, t0, collectors=["fakechat"],
                      on_success={"url": f"http://2130706433:{port}/x"})  # fmt: skip
        assert hook.requests == []
    assert run["status"] == "completed"
    assert run["metrics"]["webhook_error"] == f"webhook http://2130706433:{port}/x: blocked by outbound policy"
    assert run["metrics"]["webhook"] == {"ok": False, "attempts": 0, "status_code": None}


def test_an_engine_echoing_its_key_is_redacted_everywhere(dsn, conn, registry, brand, t0, monkeypatch, caplog):
    key = "QWERTY123456uiop"
    monkeypatch.setenv("ECHO_CRED", key)  # a name that does not look secret: the collector's own key is known
    monkeypatch.setenv("CRONKEEPER_OUTBOUND_ALLOW", "127.0.0.1/32")

    def echo(request):
        return Reply(401, {"error": {"message": f"bad {request.headers['authorization']} ({key})"}})

    with FakeServer(echo) as engine, WebhookReceiver() as hook:
        chat_collector(conn, "echo", engine.url, key_env="ECHO_CRED")
        run = run_job(dsn, conn, registry, brand, t0, collectors=["echo"], on_failure={"url": hook.url})
        [delivery] = hook.requests
    assert run["status"] == "failed" and "HTTP 401" in run["error_message"]
    stored = json.dumps([run["error_message"], run["metrics"]]) + delivery.body.decode() + caplog.text
    assert key not in stored and "[redacted]" in run["error_message"]


def test_metadata_is_validated_when_a_job_is_saved(conn, brand, t0):
    base = {"customer_id": brand.customer_id, "brand_id": brand.id, "job_type": "data_collection",
            "cron_expression": "0 9 * * *"}  # fmt: skip
    with pytest.raises(ValidationError) as err:
        jobs.create_job(conn, {**base, "metadata": {"collectors": ["chatgpt", "bing_chat"]}}, t0)
    assert err.value.field == "metadata.collectors" and "bing_chat" in err.value.message
    with pytest.raises(ValidationError) as err:
        jobs.create_job(conn, {**base, "metadata": {"positionLimit": -1}}, t0)
    assert err.value.field == "metadata.positionLimit"
    job = jobs.create_job(conn, {**base, "metadata": {"collectors": ["chatgpt"], "parallel": True}}, t0)
    assert job.metadata["collectors"] == ["chatgpt"]
    assert job.next_run_at == dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC) + dt.timedelta(days=1)
