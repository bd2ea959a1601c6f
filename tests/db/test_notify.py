"""Webhooks against a real receiver on 127.0.0.1 (tests/fakes_http.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest

from cronkeeper.clock import FixedClock
from cronkeeper.notify import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookResult,
    encode_payload,
    notify_run,
    send_webhook,
    sign,
    verify_signature,
    webhook_for_status,
)
from tests.support.fakes_http import Reply, WebhookReceiver, closed_port_url

T0 = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
PAYLOAD = {"run_id": 42, "status": "completed", "metrics": {"answers": 12}, "finished_at": T0}


@pytest.fixture(autouse=True)
def _allow_the_receivers(monkeypatch):
    """The receivers listen on 127.0.0.1, which the outbound policy refuses unless allowed."""
    monkeypatch.setenv("CRONKEEPER_OUTBOUND_ALLOW", "127.0.0.1/32")


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def send(url: str, secret: str | None = "s3cret", **kwargs: Any) -> tuple[WebhookResult, Sleeps]:
    sleeps = Sleeps()

    async def main() -> WebhookResult:
        async with httpx.AsyncClient() as client:
            return await send_webhook(client, url, PAYLOAD, secret, sleep=sleeps, clock=FixedClock(T0), **kwargs)

    return asyncio.run(main()), sleeps


def test_webhook_is_received_with_a_valid_signature():
    with WebhookReceiver() as hooks:
        result, sleeps = send(hooks.url + "/hook")
    assert result == WebhookResult(True, 1, 204)
    (request,) = hooks.requests
    assert request.method == "POST" and request.path == "/hook"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"run_id": 42, "status": "completed", "metrics": {"answers": 12},
                              "finished_at": "2027-01-04 09:00:00+00:00"}  # fmt: skip
    assert verify_signature("s3cret", request.body, request.headers[SIGNATURE_HEADER.lower()])
    assert request.headers[TIMESTAMP_HEADER.lower()] == str(int(T0.timestamp()))
    assert sleeps == []


def test_webhook_is_retried_after_a_500_with_the_same_delivery():
    with WebhookReceiver() as hooks:
        hooks.script(Reply(500))
        result, sleeps = send(hooks.url + "/hook")
    assert (result.ok, result.attempts, result.status_code) == (True, 2, 204)
    first, second = hooks.requests
    assert first.body == second.body
    assert first.headers[DELIVERY_HEADER.lower()] == second.headers[DELIVERY_HEADER.lower()]
    assert verify_signature("s3cret", second.body, second.headers[SIGNATURE_HEADER.lower()])
    assert sleeps == [1.0]


def test_webhook_gives_up_after_its_attempts_without_raising():
    with WebhookReceiver() as hooks:
        hooks.script(*[Reply(503)] * 3)
        result, sleeps = send(hooks.url + "/hook?token=abc")
    assert result == WebhookResult(False, 3, 503, f"webhook {hooks.url}/hook: HTTP 503 after 3 attempts")
    assert "abc" not in result.error and sleeps == [1.0, 2.0]


def test_webhook_honours_retry_after_and_does_not_retry_other_4xx():
    with WebhookReceiver() as hooks:
        hooks.script(Reply(429, headers={"Retry-After": "5"}), Reply(410))
        result, sleeps = send(hooks.url)
    assert (result.ok, result.attempts, result.status_code) == (False, 2, 410)
    assert result.error.endswith(": HTTP 410") and sleeps == [5.0]


@pytest.mark.parametrize("url", ["closed port", "not a url", "ftp://example.test/x", "http://"])
def test_unreachable_or_bad_urls_come_back_as_errors(url):
    url = closed_port_url() if url == "closed port" else url
    result, _ = send(url, attempts=2)
    assert not result.ok and result.error.startswith("webhook ")


def test_unsigned_when_there_is_no_secret():
    with WebhookReceiver() as hooks:
        result, _ = send(hooks.url, secret=None)
    assert result.ok and SIGNATURE_HEADER.lower() not in hooks.requests[0].headers


def test_verify_signature_rejects_what_it_should():
    body = encode_payload(PAYLOAD)
    good = sign("s3cret", body)
    assert good.startswith("sha256=") and len(good) == 7 + 64
    assert verify_signature("s3cret", body, good)
    assert not verify_signature("other", body, good)
    assert not verify_signature("s3cret", body + b" ", good)
    assert not verify_signature("s3cret", body, None)
    assert not verify_signature("s3cret", body, good.removeprefix("sha256="))
    assert not verify_signature("", body, sign("", body))


def test_notify_run_picks_the_hook_and_reads_its_named_secret():
    metadata = {
        "on_success": {"url": "", "secret_env": "ok"},
        "on_failure": {"url": "", "secret_env": "ko"},
    }
    names = {"CRONKEEPER_WEBHOOK_SECRETS": "ok=OK_SECRET,ko=KO_SECRET"}

    async def main(status: str, env: dict[str, str]) -> WebhookResult | None:
        async with httpx.AsyncClient() as client:
            return await notify_run(client, metadata, status, {"run_id": 1}, env, sleep=Sleeps())

    with WebhookReceiver() as hooks:
        metadata["on_success"]["url"] = hooks.url + "/ok"
        metadata["on_failure"]["url"] = hooks.url + "/ko"
        assert asyncio.run(main("completed", {**names, "OK_SECRET": "a"})).ok
        assert asyncio.run(main("partial", {**names, "KO_SECRET": "b"})).ok
        missing = asyncio.run(main("failed", names))
        unknown = asyncio.run(main("failed", {"KO_SECRET": "b"}))  # the variable exists, the name does not
        assert asyncio.run(main("cancelled", {})) is None
    assert [r.path for r in hooks.requests] == ["/ok", "/ko"]
    assert verify_signature("a", hooks.requests[0].body, hooks.requests[0].headers[SIGNATURE_HEADER.lower()])
    assert verify_signature("b", hooks.requests[1].body, hooks.requests[1].headers[SIGNATURE_HEADER.lower()])
    assert missing.error.endswith("/ko: signing secret 'ko' is not available") and missing.attempts == 0
    assert unknown.error == missing.error and unknown.attempts == 0
    assert webhook_for_status({}, "completed") is None
