"""Webhooks: tell a customer's endpoint that a run finished, signed so it can trust us.

A delivery is one JSON ``POST`` with these headers:

``X-Cronkeeper-Signature``  ``sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>``
                            (only when a secret is configured)
``X-Cronkeeper-Timestamp``  Unix seconds when the delivery was first attempted
``X-Cronkeeper-Delivery``   a random id, the same for every attempt of one delivery

Receivers recompute the HMAC over the exact bytes they received and compare
with ``verify_signature``. The timestamp is not part of the signed bytes;
the payload should carry the run id so a receiver can drop replays.

``send_webhook`` never raises: failures come back as ``WebhookResult(ok=False,
error=...)`` for the caller to log on the run. It retries on connection
errors, timeouts, 408, 429 and 5xx, waiting 1 s, 2 s, ... (or the
``Retry-After`` the receiver asks for, up to ``MAX_RETRY_AFTER_SECONDS``);
any other 4xx (and any redirect: they are never followed) is final.

Every attempt goes through the outbound policy (``cronkeeper.outbound``): the
host is resolved, each address checked, and the connection made to the
checked address. A refusal is final and reads "blocked by outbound policy";
every failure to get an answer (refused, reset, timed out, no such name) reads
the same "no response", so a customer cannot map the network from the errors.
The payload is redacted (``cronkeeper.redaction``) before it is signed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from cronkeeper import outbound, signing_secrets
from cronkeeper.clock import Clock, SystemClock
from cronkeeper.collectors.retry import parse_retry_after
from cronkeeper.errors import CronkeeperError
from cronkeeper.models import RunStatus
from cronkeeper.redaction import redact, redact_value

log = logging.getLogger("cronkeeper.notify")

SIGNATURE_HEADER = "X-Cronkeeper-Signature"
TIMESTAMP_HEADER = "X-Cronkeeper-Timestamp"
DELIVERY_HEADER = "X-Cronkeeper-Delivery"
MAX_RETRY_AFTER_SECONDS = 60.0
_RETRYABLE = {408, 429}
NO_RESPONSE = "no response"


@dataclass(frozen=True)
class WebhookResult:
    """How a delivery went: ``ok`` on a 2xx; otherwise ``error`` says why."""

    ok: bool
    attempts: int
    status_code: int | None = None
    error: str | None = None


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (compact JSON; values JSON does not know become strings)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def sign(secret: str, body: bytes) -> str:
    """The ``X-Cronkeeper-Signature`` value for ``body``: ``sha256=<hex digest>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` with ``secret`` (constant-time compare)."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(secret, body), header.strip())


def _where(url: str) -> str:
    """The URL without its query string or credentials, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if not parts.scheme:
        return parts.path
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


async def send_webhook(
    client: httpx.AsyncClient,
    url: str,
    payload: Mapping[str, Any],
    secret: str | None,
    *,
    attempts: int = 3,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    timeout: float = 10.0,
    backoff_seconds: float = 1.0,
    clock: Clock | None = None,
    policy: outbound.Policy | None = None,
    resolver: outbound.Resolver | None = None,
) -> WebhookResult:
    """POST ``payload`` to ``url``, signed with ``secret`` if given; at most ``attempts`` tries.

    ``policy`` defaults to ``CRONKEEPER_OUTBOUND_ALLOW``'s; ``resolver`` (tests)
    to the system's. Never raises (except on cancellation); see the module docstring.
    """
    clock = clock or SystemClock()
    policy = outbound.Policy.from_env() if policy is None else policy
    body = encode_payload(redact_value(dict(payload)))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "cronkeeper-webhooks",
        TIMESTAMP_HEADER: str(int(clock.now().timestamp())),
        DELIVERY_HEADER: uuid.uuid4().hex,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    status, cause = None, "no attempt made"
    for attempt in range(1, max(1, attempts) + 1):
        retry_after = None
        try:
            target = await outbound.pin(url, policy, resolver)
            response = await client.post(
                target.url, content=body, headers={**headers, **target.headers}, timeout=timeout,
                extensions=target.extensions, follow_redirects=False,
            )  # fmt: skip
        except outbound.OutboundBlocked:
            return _failed(url, 0, None, outbound.BLOCKED)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            return _failed(url, attempt, None, "not an http(s) URL")
        except httpx.TransportError:  # refused, reset, timed out, no such name: one answer for all
            status, cause = None, NO_RESPONSE
        except Exception as exc:  # a bad URL or header: retrying cannot help
            return _failed(url, attempt, None, type(exc).__name__)
        else:
            status = response.status_code
            if 200 <= status < 300:
                return WebhookResult(True, attempt, status)
            cause = f"HTTP {status}"
            if status not in _RETRYABLE and status < 500:
                return _failed(url, attempt, status, cause)
            retry_after = parse_retry_after(response.headers.get("retry-after"), clock.now())
        if attempt < attempts:
            delay = backoff_seconds * 2 ** (attempt - 1)
            await sleep(min(MAX_RETRY_AFTER_SECONDS, max(delay, retry_after or 0.0)))
    return _failed(url, max(1, attempts), status, f"{cause} after {max(1, attempts)} attempts")


def _failed(url: str, attempts: int, status: int | None, cause: str) -> WebhookResult:
    error = redact(f"webhook {_where(url)}: {cause}")
    log.warning("webhook_failed", extra={"url": redact(_where(url)), "attempts": attempts, "status_code": status})
    return WebhookResult(False, attempts, status, error)


def webhook_for_status(metadata: Mapping[str, Any], status: RunStatus | str) -> Mapping[str, Any] | None:
    """The webhook a finished run should call: ``on_success`` when completed,
    ``on_failure`` when partial or failed, none otherwise (or when not set)."""
    key = {RunStatus.COMPLETED: "on_success", RunStatus.PARTIAL: "on_failure", RunStatus.FAILED: "on_failure"}
    hook = metadata.get(key.get(RunStatus(status), ""))
    return hook if isinstance(hook, Mapping) and hook.get("url") else None


async def notify_run(
    client: httpx.AsyncClient,
    metadata: Mapping[str, Any],
    status: RunStatus | str,
    payload: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    **options: Any,
) -> WebhookResult | None:
    """Send the run's webhook chosen by ``webhook_for_status``; None when there is none.

    The hook's ``secret_env`` names a signing secret of the operator's set
    (``cronkeeper.signing_secrets``; ``env`` defaults to ``os.environ``). A
    named secret that is not available (not configured, or its variable unset)
    fails the webhook, with one message for both, instead of sending it
    unsigned. ``options`` go to ``send_webhook``.
    """
    hook = webhook_for_status(metadata, status)
    if hook is None:
        return None
    name = hook.get("secret_env")
    secret = None
    if name:
        try:
            secret = signing_secrets.value(name, env)
        except CronkeeperError:  # a bad CRONKEEPER_WEBHOOK_SECRETS: the operator's to fix
            secret = None
        if secret is None:
            error = f"webhook {_where(hook['url'])}: signing secret {str(name)[:60]!r} is not available"
            return WebhookResult(False, 0, None, error)
    return await send_webhook(client, hook["url"], payload, secret, **options)
