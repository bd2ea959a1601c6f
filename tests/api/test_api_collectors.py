"""``/api/admin/collectors``: what is configured, whether its key is set, and one test call.

The collectors come from the built-ins and ``CRONKEEPER_COLLECTORS_FILE`` in the API process's
environment (this process: the test client runs the app in it); the test calls go to a real
HTTP server on 127.0.0.1. No response may ever carry a key's value.
"""

from __future__ import annotations

import pytest

from tests.support.fakes_http import FakeChatServer, FakeServer, Recorded, Reply, closed_port_url

COLLECTORS = "/api/admin/collectors"
KEY = "sk-test-0123456789abcdef"
KEYS = ("OPENAI_API_KEY", "PERPLEXITY_API_KEY", "SERPAPI_API_KEY", "FAKE_AI_KEY")


@pytest.fixture
def env(monkeypatch, tmp_path):
    """No key set, and a collectors file (written by ``configure``) named in the environment."""
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "collectors.toml"
    path.write_text("")
    monkeypatch.setenv("CRONKEEPER_COLLECTORS_FILE", str(path))

    def configure(base_url: str | None = None, **extra: str) -> None:
        text = "[collectors.perplexity]\nenabled = false\n"
        if base_url:
            text += (
                '[collectors.fakeai]\nkind = "openai_chat"\n'
                f'base_url = "{base_url}"\nmodel = "fake-model"\napi_key_env = "FAKE_AI_KEY"\n'
            )
        text += "".join(f"{k} = {v}\n" for k, v in extra.items())
        path.write_text(text)

    return configure


def listed(api, **headers) -> dict[str, dict]:
    r = api.get(COLLECTORS, headers=headers or None)
    assert r.status_code == 200, r.text
    return {c["name"]: c for c in r.json()["data"]}


def test_the_list_names_each_collectors_key_variables_and_whether_they_are_set(api, env, monkeypatch):
    env("http://127.0.0.1:9/v1")
    viewer = api.token("viewer")
    data = listed(api, **viewer)  # any token may read it
    assert list(data) == ["chatgpt", "fakeai", "google_aio", "sample"]  # perplexity switched off, sorted
    assert data["chatgpt"] == {
        "name": "chatgpt", "kind": "openai_chat", "model": "gpt-4o-mini", "key_env": ["OPENAI_API_KEY"],
        "key_present": False, "offline": False,
    }  # fmt: skip
    assert data["google_aio"]["key_env"] == ["SERPAPI_API_KEY"] and data["google_aio"]["kind"] == "http_json"
    assert data["fakeai"]["key_env"] == ["FAKE_AI_KEY"] and data["fakeai"]["model"] == "fake-model"
    sample = data["sample"]
    assert (sample["kind"], sample["key_env"], sample["key_present"], sample["offline"]) == ("sample", [], True, True)

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("SERPAPI_API_KEY", "")  # empty counts as unset
    r = api.get(COLLECTORS)
    data = {c["name"]: c for c in r.json()["data"]}
    assert data["chatgpt"]["key_present"] is True and data["google_aio"]["key_present"] is False
    assert KEY not in r.text
    assert api.get("/api/admin/ui/collectors").status_code == 200  # the job form's picker still works
    assert api.get(COLLECTORS, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_test_call_asks_the_collector_once_and_reports_latency_and_an_excerpt(api, env, monkeypatch):
    monkeypatch.setenv("FAKE_AI_KEY", KEY)
    long_answer = "Running shoes are shoes made for running. " * 20
    with FakeChatServer(lambda q: long_answer, api_key=KEY) as server:
        env(server.url + "/v1")
        r = api.post(f"{COLLECTORS}/fakeai/test")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["ok"] is True and body["error"] is None
        assert 0 < body["latency_ms"] < 15000
        assert body["answer_excerpt"].startswith("Running shoes are shoes made for running.")
        assert len(body["answer_excerpt"]) <= 200 and body["answer_excerpt"].endswith("…")
        assert len(server.requests) == 1
        sent = server.requests[0]
        assert sent.path == "/v1/chat/completions" and sent.headers["authorization"] == f"Bearer {KEY}"
        assert sent.json()["model"] == "fake-model" and "running shoe" in sent.json()["messages"][-1]["content"]
        assert KEY not in r.text


def test_a_failed_call_says_why_without_the_key_and_is_not_retried(api, env, monkeypatch):
    monkeypatch.setenv("FAKE_AI_KEY", KEY)

    def echo_key(request: Recorded) -> Reply:  # a server that repeats the credentials in its error
        auth = request.headers.get("authorization", "")
        return Reply(401, {"error": {"message": f"Incorrect API key {KEY} (header: {auth})"}})

    with FakeServer(echo_key) as server:
        env(server.url + "/v1")
        r = api.post(f"{COLLECTORS}/fakeai/test")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["ok"] is False and body["answer_excerpt"] is None
        assert body["error"].startswith("HTTP 401: Incorrect API key [redacted]")
        assert KEY not in r.text and "Bearer sk-" not in r.text
        assert len(server.requests) == 1

    with FakeServer(lambda request: Reply(503, {"error": "busy"})) as server:
        env(server.url + "/v1")
        body = api.post(f"{COLLECTORS}/fakeai/test").json()
        assert body["ok"] is False and body["error"] == "HTTP 503 after 1 attempt"
        assert len(server.requests) == 1  # a test is one call: no retry

    env(closed_port_url() + "/v1")
    body = api.post(f"{COLLECTORS}/fakeai/test").json()
    assert body["ok"] is False and body["error"].startswith("cannot reach http://127.0.0.1:")


def test_a_missing_key_is_reported_without_a_call(api, env):
    with FakeChatServer() as server:
        env(server.url + "/v1")
        r = api.post(f"{COLLECTORS}/fakeai/test")
        assert r.status_code == 200
        assert r.json() == {"ok": False, "latency_ms": 0.0, "answer_excerpt": None, "error": "FAKE_AI_KEY is not set"}
        assert server.requests == []
    body = api.post(f"{COLLECTORS}/chatgpt/test").json()
    assert (body["ok"], body["error"]) == (False, "OPENAI_API_KEY is not set")


def test_the_sample_collector_answers_offline(api, env):
    body = api.post(f"{COLLECTORS}/sample/test").json()
    assert body["ok"] is True and body["error"] is None and body["latency_ms"] >= 0
    assert "running shoe" in body["answer_excerpt"]


def test_unknown_or_disabled_collectors_are_404_and_viewers_may_not_test(api, env):
    env()
    for name in ("nope", "perplexity"):  # perplexity is switched off in the file
        r = api.post(f"{COLLECTORS}/{name}/test")
        assert r.status_code == 404, (name, r.text)
    assert api.post(f"{COLLECTORS}/{'x' * 300}/test").status_code == 400
    assert api.post(f"{COLLECTORS}/nope/test").json()["field"] == "name"
    r = api.post(f"{COLLECTORS}/sample/test", headers=api.token("viewer"))
    assert r.status_code == 403


def test_a_broken_collectors_file_is_an_error_that_names_it(api, env, tmp_path, monkeypatch):
    bad = tmp_path / "bad.toml"
    bad.write_text("[collectors.chatgpt]\napi_key = 'sk-oops'\n")
    monkeypatch.setenv("CRONKEEPER_COLLECTORS_FILE", str(bad))
    r = api.get(COLLECTORS)
    assert r.status_code == 500
    assert "api_key is not a setting" in r.json()["message"] and "sk-oops" not in r.text
