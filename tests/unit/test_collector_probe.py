"""``collectors.probe``: one test call, bounded in time, with secrets kept out of what it says."""

from __future__ import annotations

import asyncio

import httpx

from cronkeeper.collectors.config import parse_config
from cronkeeper.collectors.probe import excerpt, missing_message, probe, redact
from tests.support.fakes_http import FakeServer, Reply


def chat_config(url: str):
    return parse_config("fake", {"kind": "openai_chat", "base_url": url, "model": "m", "api_key_env": "K"})


def run(config, env, **kwargs):
    async def go():
        async with httpx.AsyncClient() as client:
            return await probe(config, client, env, **kwargs)

    return asyncio.run(go())


def test_redact_blanks_secrets_and_bearer_tokens():
    assert redact("key sk-1 and sk-12 sent", ["sk-1", "sk-12", ""]) == "key [redacted] and [redacted] sent"
    assert redact("Authorization: bearer abc.def-ghi, then", []) == "Authorization: Bearer [redacted], then"
    assert missing_message(["A"]) == "A is not set"
    assert missing_message(["A", "B", "C"]) == "A, B and C are not set"
    assert excerpt("a  b\n c") == "a b c"
    assert excerpt("x" * 300) == "x" * 199 + "…"


def test_a_slow_engine_is_cut_off_at_the_timeout_and_asked_once():
    with FakeServer(lambda request: Reply(200, {}, delay=2.0)) as server:
        result = run(chat_config(server.url), {"K": "secret"}, timeout=0.3)
        assert result.ok is False and result.error.startswith("timed out after 0.3 s")
        assert 250 <= result.latency_ms < 1900
        assert len(server.requests) == 1


def test_an_empty_key_is_missing_and_no_call_is_made():
    with FakeServer() as server:
        result = run(chat_config(server.url), {"K": ""})
        assert (result.ok, result.latency_ms, result.error) == (False, 0.0, "K is not set")
        assert server.requests == []
