"""One test call of a collector: does its key work, how long does it take, what does it say?

``probe`` asks a fixed short question through the collector's normal code path
(``build_collector`` and ``collect``) once, without retries and with a short
timeout, and never lets a secret out: every value of the variables the
collector reads, and anything after ``Bearer``, is blanked out of the excerpt
and the error. A collector whose key is unset is not called at all.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import httpx

from cronkeeper.collectors.config import CollectorConfig
from cronkeeper.collectors.engines import build_collector
from cronkeeper.collectors.runner import collect
from cronkeeper.collectors.sample import Subject

TEST_PROMPT = "What is a running shoe? Answer in one sentence."
TEST_SUBJECT = Subject("Example Shoes", ("Other Shoes",))  # what a sample collector's answer names
TEST_TIMEOUT_SECONDS = 15.0
EXCERPT_CHARS = 200
REDACTED = "[redacted]"
_BEARER = re.compile(r"(?i)\bbearer\s+[^\s\"',;]+")


@dataclass(frozen=True)
class ProbeResult:
    """``latency_ms`` is the whole attempt, failed or not (0 when no call was made)."""

    ok: bool
    latency_ms: float
    answer_excerpt: str | None = None
    error: str | None = None


def missing_message(missing: list[str]) -> str:
    """``"OPENAI_API_KEY is not set"`` / ``"A and B are not set"``."""
    if len(missing) == 1:
        return f"{missing[0]} is not set"
    return f"{', '.join(missing[:-1])} and {missing[-1]} are not set"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value and every ``Bearer <token>`` replaced by ``[redacted]``."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _BEARER.sub(f"Bearer {REDACTED}", text)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of ``text`` on one line (an ellipsis when cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


async def probe(
    config: CollectorConfig,
    client: httpx.AsyncClient,
    env: Mapping[str, str] | None = None,
    *,
    timeout: float = TEST_TIMEOUT_SECONDS,
    monotonic: Callable[[], float] = time.monotonic,
) -> ProbeResult:
    """Ask ``config``'s collector ``TEST_PROMPT`` once (no retry, at most ``timeout`` seconds).

    ``env`` (default ``os.environ``) is where its keys are read. Never raises for
    a failed call: the result says why, with secrets redacted.
    """
    env = os.environ if env is None else env
    missing = config.missing_env(env)
    if missing:
        return ProbeResult(False, 0.0, error=missing_message(missing))
    secrets = [env[name] for name in config.required_env()]
    quick = dataclasses.replace(
        config, timeout_seconds=min(config.timeout_seconds, timeout), max_retries=0, rate_per_second=None
    )
    collector = build_collector(quick, env, subject=TEST_SUBJECT)
    started = monotonic()
    try:
        # the client's timeouts are per phase (connect, read, ...): this bounds the whole call
        result = await asyncio.wait_for(collect(client, [collector], [TEST_PROMPT], parallel=False), timeout + 1)
    except TimeoutError:
        return ProbeResult(False, _ms(monotonic() - started), error=f"no answer within {timeout:g} s")
    latency_ms = _ms(monotonic() - started)
    if result.failures:
        return ProbeResult(False, latency_ms, error=redact(result.failures[0].reason, secrets))
    text = result.answers[0].text
    return ProbeResult(True, latency_ms, answer_excerpt=excerpt(redact(text, secrets)))


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)
