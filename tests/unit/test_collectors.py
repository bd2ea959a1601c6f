"""Collectors against real HTTP servers on 127.0.0.1 (tests/fakes_http.py); no database."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import time
from typing import Any

import httpx
import pytest

from cronkeeper.clock import FixedClock
from cronkeeper.collectors import (
    Answer,
    CollectorError,
    Failure,
    Timing,
    TokenBucket,
    build_collector,
    build_collectors,
    collect,
    configs_from_dicts,
    load_collectors,
    parse_config,
    parse_retry_after,
    run_outcome,
    validate_job_metadata,
)
from cronkeeper.collectors.jsonpath import extract, parse_path
from cronkeeper.errors import ConfigurationError, ValidationError
from cronkeeper.models import RunStatus
from tests.support.fakes_http import FakeChatServer, FakeServer, Reply, closed_port_url

T0 = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
ENV = {"K": "sk-test"}


class FakeTime:
    """Sleeps are recorded and advance a fake monotonic clock instead of waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def timing(self) -> Timing:
        return Timing(sleep=self.sleep, monotonic=lambda: self.now, clock=FixedClock(T0), jitter=lambda: 0.0)


def chat(name: str, url: str, **settings: Any):
    raw = {"kind": "openai_chat", "base_url": url, "model": "m", "api_key_env": "K", **settings}
    return parse_config(name, raw)


def ask(config, query: str = "best running shoes", *, env=ENV, timing: Timing | None = None) -> Answer:
    async def main() -> Answer:
        async with httpx.AsyncClient() as client:
            return await build_collector(config, env, timing=timing).ask(client, query)

    return asyncio.run(main())


def ask_error(config, **kwargs: Any) -> CollectorError:
    with pytest.raises(CollectorError) as info:
        ask(config, **kwargs)
    return info.value


# --- configuration ---------------------------------------------------------------------------


def test_builtins_and_a_toml_file_merged_over_them(tmp_path):
    path = tmp_path / "collectors.toml"
    path.write_text(
        '[collectors.chatgpt]\nmodel = "gpt-4o"\nrate_per_second = 2\n\n'
        "[collectors.perplexity]\nenabled = false\n\n"
        '[collectors.claude]\nkind = "openai_chat"\nbase_url = "https://api.example.com/v1"\n'
        'model = "claude-x"\napi_key_env = "CLAUDE_KEY"\n'
    )
    assert set(load_collectors(env={})) == {"chatgpt", "perplexity", "google_aio", "sample"}
    configs = load_collectors(env={"CRONKEEPER_COLLECTORS_FILE": str(path)})
    assert set(configs) == {"chatgpt", "google_aio", "claude", "sample"}
    assert (configs["chatgpt"].model, configs["chatgpt"].rate_per_second) == ("gpt-4o", 2)
    assert configs["chatgpt"].base_url == "https://api.openai.com/v1"  # kept from the built-in
    assert configs["claude"].required_env() == ["CLAUDE_KEY"]
    assert configs["google_aio"].missing_env({}) == ["SERPAPI_API_KEY"]


def test_configs_from_dicts_takes_database_rows():
    row = {"name": "bing", "kind": "http_json", "is_active": True,
           "config": {"url_template": "https://x.test/s?q={query}", "text_path": "answer"}}  # fmt: skip
    configs = configs_from_dicts({row["name"]: {"kind": row["kind"], "enabled": row["is_active"], **row["config"]}})
    assert configs["bing"].text_path == "answer" and "chatgpt" in configs
    assert set(configs_from_dicts({}, base={})) == set()


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"kind": "openai_chat", "base_url": "https://a.test", "model": "m", "api_key": "sk-1"},
         "collectors.x.api_key", "environment variable"),
        ({"kind": "openai_chat", "base_url": "https://a.test", "model": "m", "timout_seconds": 5},
         "collectors.x.timout_seconds", "not a setting"),
        ({"kind": "soap"}, "collectors.x.kind", "must be one of"),
        ({"kind": "openai_chat", "base_url": "https://a.test", "model": "m", "timeout_seconds": -1},
         "collectors.x.timeout_seconds", "greater than 0"),
        ({"kind": "openai_chat", "model": "m"}, "collectors.x.base_url", "is required"),
        ({"kind": "openai_chat", "base_url": "https://a.test", "model": "m", "max_retries": 1.5},
         "collectors.x.max_retries", "whole number"),
        ({"kind": "http_json", "url_template": "https://a.test/s", "text_path": "a"},
         "collectors.x.url_template", "{query}"),
        ({"kind": "http_json", "url_template": "https://a.test/?q={query}", "text_path": "a..b"},
         "collectors.x.text_path", "bad JSON path"),
        ({"kind": "http_json", "url_template": "https://a.test/?q={query}", "text_path": "a",
          "headers_env": {"Authorization": "Bearer {not a var}"}}, "collectors.x.headers_env", "environment"),
    ],
)  # fmt: skip
def test_config_errors_name_the_setting(raw, field, words):
    with pytest.raises(ConfigurationError) as info:
        parse_config("x", raw)
    assert info.value.field == field
    assert words in info.value.message and "collector x" in info.value.message


def test_missing_or_bad_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="does not exist") as info:
        load_collectors(env={"CRONKEEPER_COLLECTORS_FILE": str(tmp_path / "nope.toml")})
    assert info.value.field == "CRONKEEPER_COLLECTORS_FILE"
    (tmp_path / "bad.toml").write_text("[chatgpt]\nmodel = 'x'\n")
    with pytest.raises(ConfigurationError, match=r"\[collectors.NAME\]"):
        load_collectors(tmp_path / "bad.toml")


def test_json_path():
    data = {"a": {"b": [{"c": 1}, {"c": 2}, {"d": 3}]}, "x": [[1, 2], [3]]}
    assert extract(data, "a.b[*].c") == [1, 2]
    assert extract(data, "a.b[-1].d") == [3]
    assert extract(data, "x[*][0]") == [1, 3]
    assert extract(data, "a.missing[0]") == [] and extract(data, "a.b[9]") == []
    assert parse_path("choices[0].message.content") == ("choices", 0, "message", "content")
    for bad in ("", "a..b", ".a", "a[x]", "a[0]b"):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_parse_retry_after():
    assert parse_retry_after("7", T0) == 7.0
    later = email.utils.format_datetime(T0 + dt.timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, T0) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", T0) == 0.0  # in the past
    assert parse_retry_after("soon", T0) is None and parse_retry_after(None, T0) is None


def test_token_bucket_spaces_calls_at_its_rate():
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:  # concurrent waiters: the clock does not move here
        slept.append(seconds)

    bucket = TokenBucket(4, burst=2, monotonic=lambda: now[0], sleep=sleep)

    async def main() -> list[float]:
        return list(await asyncio.gather(*(bucket.acquire() for _ in range(5))))

    assert asyncio.run(main()) == [0.0, 0.0, 0.25, 0.5, 0.75]
    now[0] = 10.0  # long idle: the bucket refills to its burst, not beyond
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.25]


# --- one call ----------------------------------------------------------------------------------


def test_openai_chat_answer_is_parsed_with_citations():
    cites = ["https://runnersworld.test/best", "https://shoes.test/pegasus"]
    with FakeChatServer(lambda q: f"For '{q}', Nike Pegasus is great.", api_key="sk-test",
                        model="sonar-pro", citations=cites) as server:  # fmt: skip
        answer = ask(chat("perplexity", server.url + "/v1/", system_prompt="Be brief."))
    assert answer == Answer("perplexity", "sonar-pro", "best running shoes",
                            "For 'best running shoes', Nike Pegasus is great.", cites, answer.latency_ms)  # fmt: skip
    assert answer.latency_ms > 0
    request = server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.json()["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "best running shoes"},
    ]


def test_sources_fall_back_to_urls_in_the_text():
    text = "See [Runner's World](https://rw.test/shoes) and https://b.test/x. Also https://rw.test/shoes."
    with FakeChatServer(lambda q: text) as server:
        answer = ask(chat("chatgpt", server.url))
    assert answer.sources == ["https://rw.test/shoes", "https://b.test/x"]


def test_http_json_get_with_secrets_from_env_and_wildcard_paths():
    body = {"ai_overview": {"text_blocks": [{"snippet": "Nike leads."}, {"type": "list"}, {"snippet": "Asics too."}],
                            "references": [{"link": "https://a.test/1"}, {"link": "https://a.test/2"}]}}  # fmt: skip
    with FakeServer(lambda request: Reply(200, body)) as server:
        config = parse_config("google_aio", {
            "kind": "http_json", "url_template": server.url + "/search?engine=google&q={query}",
            "query_params_env": {"api_key": "SERP_KEY"}, "headers_env": {"Authorization": "Bearer {SERP_KEY}"},
            "text_path": "ai_overview.text_blocks[*].snippet", "sources_path": "ai_overview.references[*].link",
        })  # fmt: skip
        answer = ask(config, "crm for b2b & startups?", env={"SERP_KEY": "serp-1"})
    assert (answer.text, answer.sources) == ("Nike leads.\nAsics too.", ["https://a.test/1", "https://a.test/2"])
    request = server.requests[0]
    assert request.method == "GET" and request.headers["authorization"] == "Bearer serp-1"
    assert request.path == "/search?engine=google&q=crm%20for%20b2b%20%26%20startups%3F&api_key=serp-1"


def test_http_json_post_body_template_and_empty_answer_policy():
    with FakeServer(lambda request: Reply(200, {"results": []})) as server:
        raw = {"kind": "http_json", "url_template": server.url + "/ask", "method": "post",
               "body_template": {"q": "{query}", "opts": ["{query}", 3]}, "text_path": "answer.text"}  # fmt: skip
        error = ask_error(parse_config("aio", raw), env={})
        empty = ask(parse_config("aio", {**raw, "empty_answer_ok": True}), "a b", env={})
    assert error.message == "aio: bad response: no answer text at answer.text"
    assert server.requests[0].json() == {"q": "best running shoes", "opts": ["best running shoes", 3]}
    assert (empty.text, empty.sources) == ("", [])


# --- failures and retries ----------------------------------------------------------------------


def test_missing_api_key_fails_with_a_clear_message_and_sends_nothing():
    with FakeChatServer() as server:
        error = ask_error(chat("chatgpt", server.url, api_key_env="OPENAI_API_KEY"), env={})
    assert error.collector == "chatgpt"
    assert str(error) == "chatgpt: environment variable OPENAI_API_KEY is not set"
    assert server.requests == []


def test_429_retry_after_is_honoured():
    fake = FakeTime()
    with FakeChatServer() as server:
        server.script(Reply(429, {"error": "slow down"}, headers={"Retry-After": "7"}))
        answer = ask(chat("chatgpt", server.url, backoff_seconds=0.5), timing=fake.timing())
    assert answer.text.startswith("An answer about")
    assert len(server.requests) == 2 and fake.sleeps == [7.0]


def test_retry_after_as_http_date_is_honoured():
    fake = FakeTime()
    when = email.utils.format_datetime(T0 + dt.timedelta(seconds=42), usegmt=True)
    with FakeChatServer() as server:
        server.script(Reply(503, headers={"Retry-After": when}))
        ask(chat("chatgpt", server.url), timing=fake.timing())
    assert fake.sleeps == [42.0]


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_real_one_second_retry_after_is_waited_for():
    with FakeChatServer() as server:
        server.script(Reply(429, headers={"Retry-After": "1"}))
        ask(chat("chatgpt", server.url, backoff_seconds=0.01))
    first, second = server.requests
    assert second.at - first.at >= 1.0


def test_5xx_is_retried_with_exponential_backoff_then_succeeds():
    fake = FakeTime()
    with FakeChatServer() as server:
        server.script(Reply(503), Reply(502, body=b"<html>bad gateway</html>"))
        answer = ask(chat("perplexity", server.url, max_retries=2), timing=fake.timing())
    assert answer.collector == "perplexity" and len(server.requests) == 3
    assert fake.sleeps == [1.0, 2.0]


def test_5xx_until_the_last_attempt_fails_the_call():
    fake = FakeTime()
    with FakeServer(lambda request: Reply(503)) as server:
        error = ask_error(chat("perplexity", server.url, max_retries=2), timing=fake.timing())
    assert str(error) == "perplexity: HTTP 503 after 3 attempts"
    assert len(server.requests) == 3


def test_4xx_is_not_retried_and_says_why():
    with FakeChatServer(api_key="right") as server:
        error = ask_error(chat("chatgpt", server.url), env={"K": "wrong"})
    assert str(error) == "chatgpt: HTTP 401: Incorrect API key provided"
    assert len(server.requests) == 1


def test_a_redirect_is_not_an_answer():
    with FakeServer(lambda request: Reply(302, headers={"Location": "/elsewhere"})) as server:
        assert str(ask_error(chat("chatgpt", server.url))) == "chatgpt: HTTP 302"
    assert len(server.requests) == 1


def test_retry_after_longer_than_allowed_fails_at_once():
    fake = FakeTime()
    with FakeChatServer() as server:
        server.script(Reply(429, headers={"Retry-After": "3600"}))
        error = ask_error(chat("chatgpt", server.url, max_retry_after_seconds=60), timing=fake.timing())
    assert "retry after 3600 s" in error.reason and fake.sleeps == []


def test_unreachable_collector_fails_after_its_attempts():
    fake = FakeTime()
    error = ask_error(chat("perplexity", closed_port_url(), max_retries=1), timing=fake.timing())
    assert error.reason.startswith("cannot reach http://127.0.0.1:")
    assert error.reason.endswith("(ConnectError) after 2 attempts")


def test_timeout_fails_the_call():
    with FakeServer(lambda request: Reply(200, {}, delay=0.5)) as server:
        error = ask_error(chat("chatgpt", server.url, timeout_seconds=0.1, max_retries=0))
    assert error.reason == "timed out after 0.1 s (ReadTimeout) after 1 attempt"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(200, body=b"not json"), "bad response: HTTP 200 body is not JSON"),
        (Reply(200, {"choices": []}), "bad response: no choices[0].message.content"),
        (Reply(200, {"choices": [{"message": {"content": "  "}}]}), "bad response: an empty answer"),
        (Reply(200, [1, 2]), "bad response: no choices[0].message.content"),
        (Reply(200, {"choices": {"0": {}}}), "bad response: no choices[0].message.content"),
    ],
)
@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_bad_response_shape_fails_the_call(reply, reason):
    with FakeServer(lambda request: reply) as server:
        assert ask_error(chat("chatgpt", server.url)).reason == reason


# --- limits --------------------------------------------------------------------------------------


def run_collect(collectors, queries, **kwargs: Any):
    async def main():
        async with httpx.AsyncClient() as client:
            return await collect(client, collectors, queries, **kwargs)

    return asyncio.run(main())


def test_rate_limit_is_respected_across_the_calls_of_a_run():
    with FakeChatServer() as server:
        collector = build_collector(chat("chatgpt", server.url, rate_per_second=20, max_concurrency=10), ENV)
        started = time.monotonic()
        result = run_collect([collector], [f"q{i}" for i in range(6)])
    assert result.failed_calls == 0 and len(server.requests) == 6
    arrivals = sorted(r.at for r in server.requests)
    # the bucket holds 1 token, then earns one per 50 ms: the i-th request cannot go before i * 50 ms
    assert all(at - started >= i / 20 for i, at in enumerate(arrivals))


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_concurrency_limit_caps_calls_in_flight():
    with FakeServer(lambda request: Reply(200, {"choices": [{"message": {"content": "ok"}}]}, delay=0.1)) as server:
        collector = build_collector(chat("chatgpt", server.url, max_concurrency=2), ENV)
        result = run_collect([collector], [f"q{i}" for i in range(6)])
    assert len(result.answers) == 6 and server.max_in_flight == 2


# --- a whole collection --------------------------------------------------------------------------


def test_one_collector_down_is_partial_and_named():
    fake = FakeTime()
    progress: list[tuple[int, int]] = []

    async def on_progress(done: int, total: int) -> None:
        progress.append((done, total))

    with FakeChatServer(lambda q: f"{q}!") as up:
        configs = [chat(name, up.url) for name in ("chatgpt", "claude", "gemini")]
        configs.append(chat("perplexity", closed_port_url(), max_retries=2))
        collectors = [build_collector(c, ENV, timing=fake.timing()) for c in configs]
        result = run_collect(collectors, ["q1", "q2"], on_progress=on_progress)
    assert (result.calls, result.failed_calls, len(result.answers)) == (8, 2, 6)
    assert [(a.query, a.collector) for a in result.answers] == [
        (q, c) for q in ("q1", "q2") for c in ("chatgpt", "claude", "gemini")
    ]
    assert progress == [(n, 8) for n in range(1, 9)]
    assert list(result.errors) == ["perplexity"]
    outcome = result.outcome
    assert outcome.status is RunStatus.PARTIAL
    assert outcome.error_message.startswith("2 of 8 calls failed: perplexity: cannot reach http://127.0.0.1:")
    assert outcome.error_message.endswith("(ConnectError) after 3 attempts (x2)")


def test_all_collectors_down_is_failed():
    fake = FakeTime()
    with FakeServer(lambda request: Reply(500)) as down:
        collectors = [build_collector(chat(n, down.url), ENV, timing=fake.timing()) for n in ("chatgpt", "perplexity")]
        collectors.append(build_collector(chat("claude", down.url, api_key_env="NOPE"), ENV))
        result = run_collect(collectors, ["q1"], parallel=False)
    assert result.outcome.status is RunStatus.FAILED and result.answers == []
    assert result.outcome.error_message == (
        "3 of 3 calls failed: chatgpt: HTTP 500 after 3 attempts; perplexity: HTTP 500 after 3 attempts; "
        "claude: environment variable NOPE is not set"
    )


def test_sequential_collection_asks_one_at_a_time_in_order():
    with FakeChatServer(lambda q: q) as server:
        collectors = [build_collector(chat(n, server.url), ENV) for n in ("chatgpt", "perplexity")]
        result = run_collect(collectors, ["q1", "q2"], parallel=False)
    assert server.max_in_flight == 1
    assert [r.json()["messages"][-1]["content"] for r in server.requests] == ["q1", "q1", "q2", "q2"]
    assert result.outcome.status is RunStatus.COMPLETED and result.outcome.error_message is None


def test_unknown_and_crashing_collectors_fail_their_calls_only():
    class Broken:
        name = "broken"

        async def ask(self, client, query):
            raise KeyError("oops")

    with FakeChatServer() as server:
        collectors = build_collectors({"chatgpt": chat("chatgpt", server.url)}, ["chatgpt", "bing"], ENV)
        result = run_collect([*collectors, Broken()], ["q"])
    assert [a.collector for a in result.answers] == ["chatgpt"]
    assert result.errors == {
        "bing": ["no such collector is configured (or it is disabled)"],
        "broken": ["unexpected error: KeyError: 'oops'"],
    }


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_an_exception_from_on_progress_stops_the_collection():
    class Stop(Exception):
        pass

    async def on_progress(done: int, total: int) -> None:
        raise Stop

    with FakeServer(lambda request: Reply(200, {"choices": [{"message": {"content": "ok"}}]}, delay=0.05)) as server:
        collector = build_collector(chat("chatgpt", server.url, max_concurrency=1), ENV)
        with pytest.raises(Stop):
            run_collect([collector], ["q1", "q2", "q3", "q4"], on_progress=on_progress)
    assert len(server.requests) <= 2


@pytest.mark.parametrize(
    ("calls", "failed", "status"),
    [(0, 0, "completed"), (10, 0, "completed"), (10, 1, "partial"), (10, 3, "partial"),
     (10, 4, "failed"), (3, 1, "failed"), (1, 1, "failed")],
)  # fmt: skip
def test_outcome_rule(calls, failed, status):
    failures = [Failure("chatgpt", f"q{i}", "HTTP 503 after 3 attempts") for i in range(failed)]
    outcome = run_outcome(calls, failures)
    assert outcome.status == status
    if failed:
        assert outcome.error_message.endswith("chatgpt: HTTP 503 after 3 attempts" + (f" (x{failed})" if failed > 1 else ""))


def test_outcome_message_caps_causes_per_collector():
    failures = [Failure("chatgpt", "q", f"HTTP 50{i} after 3 attempts") for i in range(5)]
    message = run_outcome(100, failures).error_message
    assert message.endswith("HTTP 502 after 3 attempts; and 2 other error(s)")


# --- job metadata --------------------------------------------------------------------------------

KNOWN = {"chatgpt", "perplexity", "google_aio"}


def test_valid_metadata_is_normalized_and_unknown_keys_kept(monkeypatch):
    monkeypatch.setenv("CRONKEEPER_WEBHOOK_SECRETS", "HOOK_SECRET=SOME_VAR")
    metadata = {
        "collectors": ["chatgpt", "perplexity", "chatgpt"], "parallel": False, "positionLimit": 10,
        "sentimentLimit": 5, "on_success": {"url": "https://hooks.test/ok", "secret_env": "HOOK_SECRET"},
        "on_failure": {"url": "http://hooks.test/ko"}, "output_format": "JSONL", "output_path": "out/x.jsonl",
        "note": {"anything": True},
    }  # fmt: skip
    out = validate_job_metadata("data_collection_and_scoring", metadata, KNOWN)
    assert out["collectors"] == ["chatgpt", "perplexity"] and out["output_format"] == "jsonl"
    assert out["on_failure"] == {"url": "http://hooks.test/ko", "secret_env": None}
    assert out["note"] == {"anything": True}
    assert metadata["collectors"] == ["chatgpt", "perplexity", "chatgpt"]  # input untouched
    assert validate_job_metadata("scoring", {}, KNOWN) == {}
    assert validate_job_metadata("scoring", None, KNOWN) == {}


@pytest.mark.parametrize(
    ("metadata", "field", "words"),
    [
        ({"collectors": ["chatgpt", "bing"]}, "metadata.collectors", "unknown collector 'bing'"),
        ({"collectors": "chatgpt"}, "metadata.collectors", "list of collector names"),
        ({"collectors": []}, "metadata.collectors", "at least one"),
        ({"parallel": "yes"}, "metadata.parallel", "true or false"),
        ({"positionLimit": -1}, "metadata.positionLimit", "positive whole number"),
        ({"positionLimit": 0}, "metadata.positionLimit", "positive whole number"),
        ({"sentimentLimit": "5"}, "metadata.sentimentLimit", "positive whole number"),
        ({"sentimentLimit": True}, "metadata.sentimentLimit", "positive whole number"),
        ({"positionLimit": 2.5}, "metadata.positionLimit", "positive whole number"),
        ({"on_success": "https://x.test"}, "metadata.on_success", "must be an object"),
        ({"on_success": {"url": "ftp://x.test"}}, "metadata.on_success.url", "http(s) URL"),
        ({"on_failure": {"url": "https://"}}, "metadata.on_failure.url", "http(s) URL"),
        ({"on_failure": {"url": "https://x.test", "secret": "s3cr3t"}}, "metadata.on_failure.secret", "secret_env"),
        ({"on_failure": {"url": "https://x.test", "secret_env": "not-a-var"}}, "metadata.on_failure.secret_env",
         "unknown signing secret 'not-a-var'"),
        ({"on_failure": {"url": "https://x.test", "secret_env": "PATH"}}, "metadata.on_failure.secret_env",
         "unknown signing secret 'PATH'; the operator configures names in CRONKEEPER_WEBHOOK_SECRETS"),
        ({"on_success": {"url": "http://127.0.0.1:5432/"}}, "metadata.on_success.url", "blocked by outbound policy"),
        ({"on_success": {"url": "https://x.test:99999/"}}, "metadata.on_success.url", "invalid port"),
        ({"output_format": "xml"}, "metadata.output_format", "csv, jsonl"),
        ({"output_path": ""}, "metadata.output_path", "non-empty"),
        ([1, 2], "metadata", "must be an object"),
    ],
)  # fmt: skip
def test_invalid_metadata_names_the_key(metadata, field, words):
    with pytest.raises(ValidationError) as info:
        validate_job_metadata("data_collection", metadata, KNOWN)
    assert info.value.field == field and words in info.value.message


def test_unknown_job_type_is_rejected():
    with pytest.raises(ValidationError) as info:
        validate_job_metadata("backup", {}, KNOWN)
    assert info.value.field == "job_type"
