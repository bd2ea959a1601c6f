"""``redact``: what is stored or sent about a failure never carries a key.

Upstream error bodies are third-party text: a misbehaving engine (or a proxy)
may echo the request's ``Authorization`` header or its ``api_key`` parameter.
Every error message and metric that is stored on a run, logged, exported or
sent in a webhook goes through ``redact`` (collectors when they raise, the
worker's executor when it records an outcome, webhooks before they are signed).

Removed: ``Bearer``/``Basic``/``Token`` credentials, ``sk-...``-style keys,
``key=value`` pairs whose name says key/token/secret/password, and any text
equal to a secret this process holds: the value of every environment variable
whose name ends in ``KEY``, ``TOKEN``, ``SECRET``, ``PASSWORD`` (or holds
``API_KEY``...), ``DATABASE_URL``, every webhook signing secret and any value
the caller adds (a collector's own variables).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cronkeeper import signing_secrets

MASK = "[redacted]"
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words
_SCHEME = re.compile(r"\b(Bearer|Basic|Token|Digest)(\s+)[A-Za-z0-9._~+/=:-]{4,}", re.IGNORECASE)
_KEY_LIKE = re.compile(r"\b(?:sk|pk|rk|ak)-[A-Za-z0-9_-]{6,}|\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{6,}")
_PAIR = re.compile(
    r"""(?ix)
    ( (?<![a-z0-9_-]) ["']? (?:x-)? (?: api[_-]?key | apikey | access[_-]?key | (?:client[_-]?)?secret | password
      | passwd | (?:access[_-]|auth[_-]|refresh[_-]|id[_-])?token | authorization | signature ) ["']? )
    ( \s*[:=]\s*["']? )
    ( (?!\[redacted\]|bearer\b|basic\b|digest\b)[^\s"'&,;}]+ )
    """
)
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$|API_?KEY|^DATABASE_URL$", re.IGNORECASE)


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """The values in ``env`` (default ``os.environ``) that are secrets by their variable's name or the webhook set."""
    env = os.environ if env is None else env
    found = [v for k, v in env.items() if _SECRET_NAME.search(k)]
    found += signing_secrets.all_values(env)
    return sorted({v for v in found if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


def redact(text: str | None, extra: Iterable[str] = (), env: Mapping[str, str] | None = None) -> str | None:
    """``text`` with every credential replaced by ``[redacted]`` (None stays None)."""
    if not text:
        return text
    return _redact(text, _values(extra, env))


def redact_value(value: Any, extra: Iterable[str] = (), env: Mapping[str, str] | None = None) -> Any:
    """``value`` (JSON-like: dicts, lists, strings) with every string in it redacted."""
    values: list[str] | None = None

    def walk(item: Any) -> Any:
        nonlocal values
        if isinstance(item, str):
            if values is None:  # read the environment once, and only when there is text
                values = _values(extra, env)
            return _redact(item, values) if item else item
        if isinstance(item, Mapping):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [walk(v) for v in item]
        return item

    return walk(value)


def _values(extra: Iterable[str], env: Mapping[str, str] | None) -> list[str]:
    own = {v for v in extra if v and len(v) >= MIN_SECRET_LENGTH}
    return sorted(own | set(secret_values(env)), key=len, reverse=True)


def _redact(text: str, values: list[str]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    text = _SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _KEY_LIKE.sub(MASK, text)
    return _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
