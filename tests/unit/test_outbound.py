"""The outbound policy: every spelling of an inside address refused, pinned connections, one error text."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from typing import Any

import httpx
import pytest

from cronkeeper import outbound, signing_secrets
from cronkeeper.errors import ConfigurationError, ValidationError
from cronkeeper.notify import WebhookResult, send_webhook
from cronkeeper.outbound import Policy, check_url, is_public, literal_address
from cronkeeper.redaction import redact, redact_value
from tests.support.fakes_http import Reply, WebhookReceiver, closed_port_url

LOOPBACK_SPELLINGS = ["127.0.0.1", "2130706433", "0x7f000001", "127.1", "0177.0.0.1", "0x7f.0.0.1", "[::ffff:127.0.0.1]"]
INSIDE = [
    "[::1]", "0.0.0.0", "[::]", "169.254.169.254", "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1",
    "224.0.0.1", "240.0.0.1", "255.255.255.255", "[fe80::1]", "[fc00::1]", "[ff02::1]", "[2002:7f00:1::]",
    "[64:ff9b::7f00:1]", "[::ffff:169.254.169.254]", "[::ffff:10.0.0.1]", "[::127.0.0.1]",
]  # fmt: skip


def deliver(url: str, policy: Policy, resolver=None, **kwargs: Any) -> WebhookResult:
    async def no_sleep(_: float) -> None:
        return None

    async def main() -> WebhookResult:
        async with httpx.AsyncClient() as client:
            return await send_webhook(
                client, url, {"run_id": 1}, None, policy=policy, resolver=resolver, sleep=no_sleep, **kwargs
            )

    return asyncio.run(main())


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS + INSIDE)
def test_every_spelling_of_an_inside_address_is_refused(host):
    address = literal_address(host)
    assert address is not None and not is_public(address)
    assert not Policy().allows(host, address, 80)
    with pytest.raises(ValidationError) as err:
        check_url(f"http://{host}/hook", "metadata.on_success.url", Policy())
    assert err.value.field == "metadata.on_success.url" and "blocked by outbound policy" in err.value.message
    result = deliver(f"http://{host}/hook", Policy())
    assert (result.ok, result.attempts, result.error) == (False, 0, f"webhook http://{host}/hook: blocked by outbound policy")


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_each_spelling_reaches_the_receiver_only_through_the_allow_list(host):
    with WebhookReceiver() as hooks:
        port = hooks.url.rsplit(":", 1)[1]
        blocked = deliver(f"http://{host}:{port}/x", Policy())
        assert hooks.requests == [] and blocked.error.endswith(": blocked by outbound policy")
        for allow in ("127.0.0.1", "127.0.0.0/8", f"127.0.0.1:{port}", "::ffff:127.0.0.1/128"):
            assert deliver(f"http://{host}:{port}/x", Policy.parse(allow)).ok, allow
    assert len(hooks.requests) == 4


def test_public_addresses_only_on_80_and_443_unless_allowed():
    public = ipaddress.ip_address("93.184.216.34")
    assert Policy().allows("example.com", public, 443) and Policy().allows("example.com", public, 80)
    assert not Policy().allows("example.com", public, 8443)
    assert Policy.parse("example.com:8443").allows("Example.COM.", public, 8443)
    assert not Policy.parse("example.com:8443").allows("example.com", public, 8444)
    assert check_url("https://hooks.example.com/x", "f", Policy()) == "https://hooks.example.com/x"
    assert check_url("http://93.184.216.34/x", "f", Policy())
    for url, words in [
        ("https://hooks.example.com:8443/x", "port 8443 is blocked by outbound policy"),
        ("https://hooks.example.com:99999/x", "invalid port"),
        ("https://hooks.example.com:0/x", "invalid port"),
        ("http://localhost:8080/", "localhost is blocked"),
        ("http://x.localhost/", "x.localhost is blocked"),
        ("ftp://hooks.example.com/", "http(s) URL"),
    ]:
        with pytest.raises(ValidationError) as err:
            check_url(url, "metadata.on_failure.url", Policy())
        assert err.value.field == "metadata.on_failure.url" and words in err.value.message, url
    assert check_url("https://hooks.example.com:8443/x", "f", Policy.parse("hooks.example.com:8443"))
    assert check_url("http://localhost:8080/", "f", Policy.parse("localhost:8080"))


def test_the_allow_list_is_parsed_and_a_bad_entry_names_the_variable():
    policy = Policy.from_env({"CRONKEEPER_OUTBOUND_ALLOW": " 10.0.0.0/8, ::1, hooks.internal:8080, [fd00::5]:9000 ,"})
    assert [str(n) for n in policy.networks] == ["10.0.0.0/8", "::1/128"]
    assert policy.endpoints == {("hooks.internal", 8080), ("fd00::5", 9000)}
    assert policy.allows("x", ipaddress.ip_address("10.1.2.3"), 5432)
    assert policy.allows("hooks.internal", ipaddress.ip_address("192.168.0.9"), 8080)
    assert not policy.allows("hooks.internal", ipaddress.ip_address("192.168.0.9"), 8081)
    assert Policy.from_env({}) == Policy()
    for bad in ("10.0.0.0/33", "hooks.internal", "host:http", "host:70000"):
        with pytest.raises(ConfigurationError, match="CRONKEEPER_OUTBOUND_ALLOW"):
            Policy.parse(bad)


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host():
    """No DNS rebinding: the name is resolved once per attempt, checked, and the socket opened to that address."""
    calls = []

    async def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    with WebhookReceiver() as hooks:
        port = int(hooks.url.rsplit(":", 1)[1])
        url = f"http://hooks.invalid:{port}/x"  # .invalid never resolves: only the pinned address can work
        assert deliver(url, Policy(), resolver).error == f"webhook {url}: blocked by outbound policy"
        result = deliver(url, Policy.parse("127.0.0.1"), resolver)
    assert result.ok and calls == ["hooks.invalid", "hooks.invalid"]
    assert hooks.requests[0].headers["host"] == f"hooks.invalid:{port}"


def test_one_inside_address_among_the_answers_blocks_the_request():
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]

    result = deliver("https://hooks.example.com/x", Policy(), resolver)
    assert result.error == "webhook https://hooks.example.com/x: blocked by outbound policy"


def test_https_is_pinned_with_the_name_as_sni():
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    pinned = asyncio.run(outbound.pin("https://hooks.example.com/a?b=1", Policy(), resolver))
    assert str(pinned.url) == "https://93.184.216.34/a?b=1"
    assert pinned.headers == {"Host": "hooks.example.com"}
    assert pinned.extensions == {"sni_hostname": "hooks.example.com"}


def test_redirects_are_not_followed():
    with WebhookReceiver() as hooks:
        hooks.script(Reply(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
        result = deliver(hooks.url + "/x", Policy.parse("127.0.0.1"))
    assert (result.ok, result.status_code, len(hooks.requests)) == (False, 302, 1)


def _hang_up_server() -> tuple[socket.socket, str]:
    """A server that accepts and closes at once (the client sees a protocol error)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_every_failure_to_get_an_answer_reads_the_same():
    """No port-scanner: refused, hung up, timed out and unresolvable are one message."""
    allow = Policy.parse("127.0.0.1")
    sock, hang_up = _hang_up_server()
    try:
        with WebhookReceiver() as slow:
            slow.script(Reply(204, delay=1.0), Reply(204, delay=1.0))
            errors = [
                deliver(closed_port_url(), allow, attempts=2).error,
                deliver(hang_up, allow, attempts=2).error,
                deliver(slow.url, allow, attempts=2, timeout=0.2).error,
                deliver("http://no-such-host.invalid/", allow, attempts=2).error,
            ]
    finally:
        sock.close()
    assert {e.split(": ", 1)[1] for e in errors} == {"no response after 2 attempts"}


def test_signing_secrets_come_only_from_the_operators_names():
    env = {"CRONKEEPER_WEBHOOK_SECRETS": "shop=SHOP_SECRET, old=OLD", "SHOP_SECRET": "abc123xyz", "OPENAI_API_KEY": "sk-x"}
    assert signing_secrets.configured(env) == {"shop": "SHOP_SECRET", "old": "OLD"}
    assert signing_secrets.value("shop", env) == "abc123xyz"
    assert signing_secrets.value("old", env) is None  # named, but its variable is unset
    assert signing_secrets.value("OPENAI_API_KEY", env) is None and signing_secrets.value("SHOP_SECRET", env) is None
    messages = []
    for name in ("OPENAI_API_KEY", "NO_SUCH_VAR"):  # one exists, one does not: the same answer
        with pytest.raises(ValidationError) as err:
            signing_secrets.check_name(name, "metadata.on_success.secret_env", env)
        messages.append(err.value.message.replace(name, "X"))
    assert messages[0] == messages[1] == (
        "metadata.on_success.secret_env: unknown signing secret 'X'; the operator configures names in "
        "CRONKEEPER_WEBHOOK_SECRETS"
    )
    with pytest.raises(ConfigurationError, match="CRONKEEPER_WEBHOOK_SECRETS"):
        signing_secrets.configured({"CRONKEEPER_WEBHOOK_SECRETS": "shop"})


def test_redact_removes_credentials_and_every_known_secret():
    env = {"MY_API_KEY": "k3y-value-123", "CRONKEEPER_WEBHOOK_SECRETS": "s=HOOK", "HOOK": "hook-secret-99",
           "DATABASE_URL": "postgresql://u:pw@db/x", "SHORT_KEY": "abc"}  # fmt: skip
    text = (
        "HTTP 401: Authorization: Bearer abc.def-ghi given; sk-proj-AbCdEf123456 bad; url ?api_key=zzz&q=1; "
        '{"token": "t0k"}; k3y-value-123 hook-secret-99 postgresql://u:pw@db/x; max_tokens: 5; abc'
    )
    out = redact(text, ["collector-own-key"], env)
    for secret in ("abc.def-ghi", "sk-proj-AbCdEf123456", "zzz", "t0k", "k3y-value-123", "hook-secret-99", "pw@db"):
        assert secret not in out, secret
    assert "Bearer [redacted]" in out and "max_tokens: 5" in out and out.endswith("abc")
    assert redact_value({"e": ["Bearer abcdef"], "n": 3}, env=env) == {"e": ["Bearer [redacted]"], "n": 3}
    assert redact(None) is None
