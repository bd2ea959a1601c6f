"""The two kinds of collector, and ``build_collector`` that picks one for a config.

``openai_chat`` POSTs ``{base_url}/chat/completions`` with the query as the
user message; the answer is ``choices[0].message.content``. Sources are, in
order of preference: a top-level ``citations`` list (Perplexity), the URLs of
``search_results`` (Perplexity) and of ``url_citation`` annotations (OpenAI
web search), else the URLs written in the answer text.

``http_json`` sends ``url_template`` with ``{query}`` URL-encoded (and, for
POST, ``body_template`` with ``{query}`` filled into its strings), adds
``headers``, ``headers_env`` and ``query_params_env``, and reads the answer
and its sources with ``text_path`` and ``sources_path`` (see ``jsonpath``).
Several text values (a ``[*]`` path) are joined with newlines.

A collector holds the semaphore and the rate-limit bucket that all of its
calls share, used from one event loop. The worker keeps one per collector per
process (``collectors.hub``), so its limits hold across runs, and across
processes through the database (``collectors.gate``).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from cronkeeper.collectors.base import Answer, Collector, CollectorError, Timing
from cronkeeper.collectors.config import CollectorConfig, CollectorKind, render_env_value
from cronkeeper.collectors.jsonpath import extract
from cronkeeper.collectors.retry import CallLimits, RetryPolicy, TokenBucket, send_with_retries
from cronkeeper.collectors.sample import SampleCollector, Subject
from cronkeeper.errors import NonRetryable
from cronkeeper.redaction import redact

_URL = re.compile(r"https?://[^\s<>()\[\]{}\"'`|]+")
_URL_TAIL = ".,;:!?*_~"


def find_urls(text: str) -> list[str]:
    """The http(s) URLs written in ``text``, in order, without duplicates or trailing punctuation."""
    return _unique(match.rstrip(_URL_TAIL) for match in _URL.findall(text))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def _urls(values: Iterable[Any]) -> list[str]:
    """URL strings from a list of strings or of objects with a ``url``/``link``."""
    urls = []
    for value in values:
        if isinstance(value, dict):
            value = value.get("url") or value.get("link")
        if isinstance(value, str) and value.strip():
            urls.append(value.strip())
    return _unique(urls)


class HttpCollector:
    """What both kinds share: secrets from the environment, limits, retries, the ``Answer``."""

    def __init__(self, config: CollectorConfig, env: Mapping[str, str], timing: Timing) -> None:
        self.config = config
        self.name = config.name
        self._env = env
        self._timing = timing
        self.policy = RetryPolicy(
            max_retries=config.max_retries,
            backoff_seconds=config.backoff_seconds,
            max_backoff_seconds=config.max_backoff_seconds,
            max_retry_after_seconds=config.max_retry_after_seconds,
            timeout_seconds=config.timeout_seconds,
        )
        bucket = None
        if config.rate_per_second is not None:
            bucket = TokenBucket(
                config.rate_per_second, config.burst, monotonic=timing.monotonic, sleep=timing.sleep
            )
        self.limits = CallLimits(asyncio.Semaphore(config.max_concurrency), bucket)

    async def ask(self, client: httpx.AsyncClient, query: str) -> Answer:
        """Ask ``query``; raises ``CollectorError`` on any expected failure (see ``Collector``)."""
        missing = self.config.missing_env(self._env)
        if missing:
            noun = "variable" if len(missing) == 1 else "variables"
            verb = "is" if len(missing) == 1 else "are"
            raise CollectorError(self.name, f"environment {noun} {', '.join(missing)} {verb} not set")
        if not query.strip():
            raise CollectorError(self.name, "the query is empty")
        request = self.build_request(client, query)
        try:
            response, latency_ms = await send_with_retries(
                client, request, collector=self.name, policy=self.policy, limits=self.limits, timing=self._timing
            )
        except CollectorError as exc:  # an engine may echo the key under any variable name
            raise CollectorError(self.name, redact(exc.reason, self._secrets()) or "") from None
        try:
            payload = response.json()
        except ValueError:
            raise CollectorError(self.name, f"bad response: HTTP {response.status_code} body is not JSON") from None
        text, sources, model = self.parse(payload)
        return Answer(self.name, model, query, text, sources, round(latency_ms, 3))

    def _secrets(self) -> list[str]:
        """The values of the variables this collector's config reads (its keys)."""
        return [self._env[name] for name in self.config.required_env() if self._env.get(name)]

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.config.timeout_seconds)

    def build_request(self, client: httpx.AsyncClient, query: str) -> httpx.Request:
        raise NotImplementedError

    def parse(self, payload: Any) -> tuple[str, list[str], str | None]:
        """``(text, sources, model)`` from a decoded response body."""
        raise NotImplementedError


class OpenAIChatCollector(HttpCollector):
    """An OpenAI-compatible Chat Completions endpoint (OpenAI, Perplexity, many others)."""

    def build_request(self, client: httpx.AsyncClient, query: str) -> httpx.Request:
        config = self.config
        messages = [{"role": "system", "content": config.system_prompt}] if config.system_prompt else []
        messages.append({"role": "user", "content": query})
        headers = {"Accept": "application/json"}
        if config.api_key_env:
            headers["Authorization"] = f"Bearer {self._env[config.api_key_env]}"
        url = self.__dict__.get("_url")
        if url is None:  # parsed once per collector, not per call
            url = self._url = httpx.URL(f"{(config.base_url or '').rstrip('/')}/chat/completions")
        body = {"model": config.model, "messages": messages, **config.extra_body}
        return client.build_request("POST", url, json=body, headers=headers, timeout=self._timeout())

    def parse(self, payload: Any) -> tuple[str, list[str], str | None]:
        choices = payload.get("choices") if isinstance(payload, dict) else None
        first = choices[0] if isinstance(choices, list) and choices else None
        message = first.get("message") if isinstance(first, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str) or not content.strip():
            found = "an empty answer" if isinstance(content, str) else "no choices[0].message.content"
            raise CollectorError(self.name, f"bad response: {found}")
        sources = _urls(
            [
                *extract(payload, "citations[*]"),
                *extract(payload, "search_results[*].url"),
                *extract(message, "annotations[*].url_citation.url"),
            ]
        )
        model = payload.get("model") if isinstance(payload.get("model"), str) else self.config.model
        return content, sources or find_urls(content), model


class HttpJsonCollector(HttpCollector):
    """Any HTTP endpoint that returns JSON (e.g. a SERP provider for AI Overviews)."""

    def build_request(self, client: httpx.AsyncClient, query: str) -> httpx.Request:
        config = self.config
        url = (config.url_template or "").replace("{query}", quote(query, safe=""))
        params = {key: render_env_value(value, self._env) for key, value in config.query_params_env.items()}
        if params:  # appended as text: httpx's params= would replace the template's own parameters
            url += ("&" if "?" in url else "?") + urlencode(params, quote_via=quote)
        headers = {"Accept": "application/json", **config.headers}
        headers.update({key: render_env_value(value, self._env) for key, value in config.headers_env.items()})
        body = _fill(config.body_template, query) if config.body_template is not None else None
        return client.build_request(config.method, url, json=body, headers=headers, timeout=self._timeout())

    def parse(self, payload: Any) -> tuple[str, list[str], str | None]:
        config = self.config
        if not isinstance(payload, dict | list):
            raise CollectorError(self.name, "bad response: the body is not a JSON object or array")
        texts = [v.strip() for v in extract(payload, config.text_path or "") if isinstance(v, str) and v.strip()]
        if not texts and not config.empty_answer_ok:
            raise CollectorError(self.name, f"bad response: no answer text at {config.text_path}")
        sources = _urls(extract(payload, config.sources_path)) if config.sources_path else []
        text = "\n".join(texts)
        return text, sources or find_urls(text), config.model


def _fill(template: Any, query: str) -> Any:
    """``template`` with ``{query}`` replaced by the raw query in every string inside it."""
    if isinstance(template, str):
        return template.replace("{query}", query)
    if isinstance(template, list):
        return [_fill(item, query) for item in template]
    if isinstance(template, dict):
        return {key: _fill(value, query) for key, value in template.items()}
    return template


class UnavailableCollector:
    """Stands for a collector a job names but the configuration no longer has: every call fails."""

    def __init__(self, name: str, reason: str = "no such collector is configured (or it is disabled)") -> None:
        self.name = name
        self.reason = reason

    async def ask(self, client: httpx.AsyncClient, query: str) -> Answer:
        raise CollectorError(self.name, self.reason)


def unusable_reason(collector: Collector) -> str | None:
    """Why every call of ``collector`` is bound to fail, whatever the engine does; None when it may work.

    A ``NonRetryable`` code: ``UNKNOWN_COLLECTOR`` when the job names a collector
    no longer configured, ``MISSING_API_KEY`` when a variable its config needs is
    unset. A retry fixes neither.
    """
    if isinstance(collector, UnavailableCollector):
        return NonRetryable.UNKNOWN_COLLECTOR
    if isinstance(collector, HttpCollector) and collector.config.missing_env(collector._env):
        return NonRetryable.MISSING_API_KEY
    return None


def build_collector(
    config: CollectorConfig,
    env: Mapping[str, str] | None = None,
    *,
    timing: Timing | None = None,
    subject: Subject | None = None,
) -> HttpCollector | SampleCollector:
    """A ready collector for ``config``. Never raises for missing secrets: its calls do.

    ``env`` (default ``os.environ``) is where the variables named in the config
    are read, at each call. ``subject`` (the brand being collected for) is what
    a ``sample`` collector's answers talk about.
    """
    if config.kind is CollectorKind.SAMPLE:
        return SampleCollector(config, subject)
    cls = OpenAIChatCollector if config.kind is CollectorKind.OPENAI_CHAT else HttpJsonCollector
    return cls(config, os.environ if env is None else env, timing or Timing())


def usable_configs(
    configs: Mapping[str, CollectorConfig], env: Mapping[str, str] | None = None
) -> dict[str, CollectorConfig]:
    """The configs whose every required variable (API key, ...) is set in ``env`` (default ``os.environ``).

    A job that names no collectors asks these: asking one without its key is a call bound to fail.
    A ``sample`` collector (made-up answers) is never among them: a job must name it.
    """
    env = os.environ if env is None else env
    return {
        name: config for name, config in configs.items()
        if config.kind is not CollectorKind.SAMPLE and not config.missing_env(env)
    }  # fmt: skip


def build_collectors(
    configs: Mapping[str, CollectorConfig],
    names: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    timing: Timing | None = None,
    subject: Subject | None = None,
) -> list[Collector]:
    """Collectors for ``names`` (default: every config), in that order.

    A name without a config becomes an ``UnavailableCollector``, so a job that
    names a since-removed collector reports it as a failed collector instead
    of crashing the run. ``subject``: see ``build_collector``.
    """
    chosen = list(configs) if names is None else list(dict.fromkeys(names))
    return [
        build_collector(configs[name], env, timing=timing, subject=subject)
        if name in configs else UnavailableCollector(name)
        for name in chosen
    ]
