"""Collector responses: what is configured and whether its key is set (never the key itself)."""

from __future__ import annotations

from msgspec import Struct


class CollectorStatusOut(Struct, kw_only=True):
    """One configured collector. ``key_env`` names the environment variables it reads (API keys);
    ``key_present`` is true when every one of them is set in the API process's environment."""

    name: str
    kind: str
    model: str | None
    key_env: list[str]
    key_present: bool
    offline: bool


class CollectorStatusList(Struct):
    data: list[CollectorStatusOut]


class CollectorTestOut(Struct, kw_only=True):
    """The outcome of one test call: ``answer_excerpt`` when it worked, ``error`` when not."""

    ok: bool
    latency_ms: float
    answer_excerpt: str | None
    error: str | None
