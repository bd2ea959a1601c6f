"""Collector configuration: built-in defaults, a TOML file over them, or plain dicts.

A collector is named (``chatgpt``, ``perplexity``, ``google_aio``, or any name
a deployment adds) and has a ``kind``: ``openai_chat`` (an OpenAI-compatible
Chat Completions API), ``http_json`` (any HTTP endpoint returning JSON, e.g.
a SERP provider for Google AI Overviews) or ``sample`` (offline made-up
answers for demos, see ``collectors.sample``). The file named by
``CRONKEEPER_COLLECTORS_FILE`` looks like::

    [collectors.chatgpt]            # change one setting of a built-in
    model = "gpt-4o"

    [collectors.perplexity]         # switch a built-in off
    enabled = false

    [collectors.claude]             # add one
    kind = "openai_chat"
    base_url = "https://api.anthropic.com/v1"
    model = "claude-sonnet-4-5"
    api_key_env = "ANTHROPIC_API_KEY"
    rate_per_second = 2

A table for a built-in name is merged key by key over the built-in (a table
value such as ``headers_env`` replaces the built-in's whole table); a table
with a different ``kind`` replaces it. Unknown settings are errors, so typos
do not pass silently. Secrets never appear here: settings name environment
variables (``api_key_env``, ``headers_env``, ``query_params_env``) whose
values are read when a call is made. A ``headers_env`` value is either a
variable name (the header is that variable's value) or a template such as
``"Bearer {SEARCHAPI_KEY}"``.

Rows of the ``collectors`` table map to ``configs_from_dicts`` as
``{row["name"]: {"kind": row["kind"], "enabled": row["is_active"], **row["config"]}}``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from cronkeeper.collectors.jsonpath import parse_path
from cronkeeper.errors import ConfigurationError

COLLECTORS_FILE_ENV = "CRONKEEPER_COLLECTORS_FILE"
NAME_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]*$")  # as the collectors table's CHECK
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TEMPLATE_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class CollectorKind(StrEnum):
    OPENAI_CHAT = "openai_chat"
    HTTP_JSON = "http_json"
    SAMPLE = "sample"  # offline made-up answers (collectors.sample), for demos


DEFAULT_COLLECTORS: dict[str, dict[str, Any]] = {
    "chatgpt": {
        "kind": "openai_chat",
        "base_url": "https://api.openai.com/v1",
        "model": "gpt-4o-mini",
        "api_key_env": "OPENAI_API_KEY",
    },
    "perplexity": {
        "kind": "openai_chat",
        "base_url": "https://api.perplexity.ai",
        "model": "sonar",
        "api_key_env": "PERPLEXITY_API_KEY",
    },
    "google_aio": {
        "kind": "http_json",
        "model": "google_ai_overview",
        "url_template": "https://serpapi.com/search.json?engine=google&hl=en&gl=us&q={query}",
        "query_params_env": {"api_key": "SERPAPI_API_KEY"},
        "text_path": "ai_overview.text_blocks[*].snippet",
        "sources_path": "ai_overview.references[*].link",
        "empty_answer_ok": True,  # Google shows no AI Overview for many queries
    },
    # never asked unless a job names it (usable_configs leaves it out of the default)
    "sample": {"kind": "sample", "model": "sample (offline, demo data)"},
}


@dataclass(frozen=True)
class CollectorConfig:
    """One collector's validated settings; see the module docstring for their meaning.

    ``max_retries`` counts retries after the first attempt. ``rate_per_second``
    None means no rate limit. ``empty_answer_ok`` (http_json) makes a missing
    answer an empty answer instead of a failed call.
    """

    name: str
    kind: CollectorKind
    model: str | None = None
    # openai_chat
    base_url: str | None = None
    api_key_env: str | None = None
    system_prompt: str | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    # http_json
    url_template: str | None = None
    method: str = "GET"
    body_template: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    headers_env: dict[str, str] = field(default_factory=dict)
    query_params_env: dict[str, str] = field(default_factory=dict)
    text_path: str | None = None
    sources_path: str | None = None
    empty_answer_ok: bool = False
    # every kind
    timeout_seconds: float = 60.0
    max_retries: int = 2
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    max_retry_after_seconds: float = 120.0
    max_concurrency: int = 4
    rate_per_second: float | None = None
    burst: int = 1
    enabled: bool = True

    def required_env(self) -> list[str]:
        """Names of the environment variables this collector reads, in a stable order."""
        names = [self.api_key_env] if self.api_key_env else []
        for value in [*self.headers_env.values(), *self.query_params_env.values()]:
            names.extend(env_names(value))
        return list(dict.fromkeys(names))

    def missing_env(self, env: Mapping[str, str]) -> list[str]:
        """The required variables that are unset or empty in ``env``."""
        return [name for name in self.required_env() if not env.get(name)]

    def to_dict(self) -> dict[str, Any]:
        """The settings of this kind as plain values (no secrets: only variable names)."""
        keys = _KIND_KEYS[self.kind]
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name in keys}
        out["kind"] = str(self.kind)
        return out


def env_names(value: str) -> list[str]:
    """Variables a ``headers_env``/``query_params_env`` value reads (template or bare name)."""
    return _TEMPLATE_VAR.findall(value) if "{" in value else [value]


def render_env_value(value: str, env: Mapping[str, str]) -> str:
    """A ``headers_env`` value with its variables filled in from ``env`` (all must be set)."""
    if "{" not in value:
        return env[value]
    return _TEMPLATE_VAR.sub(lambda m: env[m.group(1)], value)


_COMMON = {
    "kind", "model", "timeout_seconds", "max_retries", "backoff_seconds", "max_backoff_seconds",
    "max_retry_after_seconds", "max_concurrency", "rate_per_second", "burst", "enabled",
}  # fmt: skip
_KIND_KEYS = {
    CollectorKind.OPENAI_CHAT: _COMMON | {"base_url", "api_key_env", "system_prompt", "extra_body"},
    CollectorKind.HTTP_JSON: _COMMON | {
        "url_template", "method", "body_template", "headers", "headers_env", "query_params_env",
        "text_path", "sources_path", "empty_answer_ok",
    },
    CollectorKind.SAMPLE: _COMMON,
}  # fmt: skip
_SECRET_WORDS = ("key", "secret", "token", "password")


class _Reader:
    """Typed access to one collector's raw settings; errors name the setting."""

    def __init__(self, name: str, raw: Mapping[str, Any]) -> None:
        self.name, self.raw = name, raw

    def fail(self, key: str, problem: str) -> ConfigurationError:
        return ConfigurationError(f"collector {self.name}: {key} {problem}", field=f"collectors.{self.name}.{key}")

    def text(self, key: str, *, required: bool = False, url: bool = False) -> str | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise self.fail(key, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        if url and not re.match(r"^https?://[^/\s]+", value):
            raise self.fail(key, f"must be an http(s) URL, got {value!r}")
        return value

    def env_name(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not ENV_NAME_RE.match(value):
            raise self.fail(key, f"must name an environment variable, got {value!r}")
        return value

    def number(self, key: str, default: float | None, *, minimum: float, integer: bool = False,
               exclusive: bool = False) -> Any:  # fmt: skip
        value = self.raw.get(key)
        if value is None:
            return default
        kind = "a whole number" if integer else "a number"
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            raise self.fail(key, f"must be {kind}, got {value!r}")
        if value < minimum or (exclusive and value == minimum):
            bound = "greater than" if exclusive else "at least"
            raise self.fail(key, f"must be {bound} {minimum:g}, got {value!r}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def table(self, key: str, *, env_values: bool = False) -> dict[str, Any]:
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise self.fail(key, "must be a table of strings")
        for item in value.values() if env_values else ():
            if not env_names(item) or not all(ENV_NAME_RE.match(n) for n in env_names(item)):
                raise self.fail(key, f"values must name environment variables, got {item!r}")
        return dict(value)


def parse_config(name: str, raw: Mapping[str, Any]) -> CollectorConfig:
    """Validate one collector's raw settings; raises ``ConfigurationError`` naming the setting."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigurationError(f"collector name {name!r} must match {NAME_RE.pattern}", field="collectors")
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"collector {name}: settings must be a table", field=f"collectors.{name}")
    r = _Reader(name, raw)
    try:
        kind = CollectorKind(r.text("kind", required=True))
    except ValueError:
        raise r.fail("kind", f"must be one of {', '.join(CollectorKind)}, got {raw['kind']!r}") from None
    for key in raw:
        if key not in _KIND_KEYS[kind]:
            if any(word in key.lower() for word in _SECRET_WORDS):
                raise r.fail(key, "is not a setting: put secrets in environment variables and name "
                                  "them in api_key_env, headers_env or query_params_env")  # fmt: skip
            raise r.fail(key, f"is not a setting of a {kind} collector")
    common: dict[str, Any] = {
        "model": r.text("model"),
        "timeout_seconds": float(r.number("timeout_seconds", 60.0, minimum=0, exclusive=True)),
        "max_retries": r.number("max_retries", 2, minimum=0, integer=True),
        "backoff_seconds": float(r.number("backoff_seconds", 1.0, minimum=0)),
        "max_backoff_seconds": float(r.number("max_backoff_seconds", 30.0, minimum=0)),
        "max_retry_after_seconds": float(r.number("max_retry_after_seconds", 120.0, minimum=0)),
        "max_concurrency": r.number("max_concurrency", 4, minimum=1, integer=True),
        "rate_per_second": _float_or_none(r.number("rate_per_second", None, minimum=0, exclusive=True)),
        "burst": r.number("burst", 1, minimum=1, integer=True),
        "enabled": r.flag("enabled", True),
    }
    if kind is CollectorKind.SAMPLE:
        return CollectorConfig(name=name, kind=kind, **common)
    if kind is CollectorKind.OPENAI_CHAT:
        return CollectorConfig(name=name, kind=kind, **common, **_openai_chat(r))
    return CollectorConfig(name=name, kind=kind, **common, **_http_json(r))


def _float_or_none(value: float | None) -> float | None:
    return None if value is None else float(value)


def _openai_chat(r: _Reader) -> dict[str, Any]:
    r.text("model", required=True)
    extra = r.raw.get("extra_body") or {}
    if not isinstance(extra, Mapping):
        raise r.fail("extra_body", "must be a table")
    if {"model", "messages"} & set(extra):
        raise r.fail("extra_body", "cannot set model or messages (use model and system_prompt)")
    return {
        "base_url": r.text("base_url", required=True, url=True),
        "api_key_env": r.env_name("api_key_env"),
        "system_prompt": r.text("system_prompt"),
        "extra_body": dict(extra),
    }


def _http_json(r: _Reader) -> dict[str, Any]:
    url_template = r.text("url_template", required=True, url=True)
    method = (r.text("method") or "GET").upper()
    if method not in ("GET", "POST"):
        raise r.fail("method", f"must be GET or POST, got {method!r}")
    body = r.raw.get("body_template")
    if body is not None and method != "POST":
        raise r.fail("body_template", "needs method = \"POST\"")
    if "{query}" not in url_template and "{query}" not in repr(body):
        raise r.fail("url_template", "must contain {query} (or body_template must)")
    for key in ("text_path", "sources_path"):
        path = r.text(key, required=key == "text_path")
        try:
            parse_path(path) if path else None
        except ValueError as exc:
            raise r.fail(key, str(exc)) from None
    return {
        "url_template": url_template,
        "method": method,
        "body_template": body,
        "headers": r.table("headers"),
        "headers_env": r.table("headers_env", env_values=True),
        "query_params_env": r.table("query_params_env", env_values=True),
        "text_path": r.raw["text_path"],
        "sources_path": r.raw.get("sources_path"),
        "empty_answer_ok": r.flag("empty_answer_ok", False),
    }


def default_configs() -> dict[str, CollectorConfig]:
    """The built-in collectors, validated."""
    return {name: parse_config(name, raw) for name, raw in DEFAULT_COLLECTORS.items()}


def configs_from_dicts(
    entries: Mapping[str, Mapping[str, Any]], base: Mapping[str, CollectorConfig] | None = None
) -> dict[str, CollectorConfig]:
    """``base`` (default: the built-ins) with ``entries`` merged over it, by name.

    Each entry is merged key by key over the base collector of the same name
    and kind, or stands alone (and must then give ``kind``). Returns the
    enabled collectors only. Raises ``ConfigurationError`` naming the
    collector and setting at fault.
    """
    if not isinstance(entries, Mapping):
        raise ConfigurationError("collectors must be a table of tables, one per collector", field="collectors")
    merged = dict(default_configs() if base is None else base)
    for name, raw in entries.items():
        previous = merged.get(name)
        if isinstance(raw, Mapping) and previous is not None and raw.get("kind", previous.kind) == previous.kind:
            raw = {**previous.to_dict(), **raw}
        merged[name] = parse_config(name, raw)
    return {name: config for name, config in merged.items() if config.enabled}


def load_collectors(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> dict[str, CollectorConfig]:
    """The enabled collectors: built-ins, with the TOML file at ``path`` merged over them.

    Without ``path``, the file named by ``CRONKEEPER_COLLECTORS_FILE`` in ``env``
    (default ``os.environ``) is read, if that variable is set. Raises
    ``ConfigurationError`` for a missing or invalid file or setting.
    """
    env = os.environ if env is None else env
    field_name = "path"
    if path is None:
        if not env.get(COLLECTORS_FILE_ENV):
            return configs_from_dicts({})
        path, field_name = env[COLLECTORS_FILE_ENV], COLLECTORS_FILE_ENV
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"collectors file {path} does not exist", field=field_name) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"collectors file {path} cannot be read: {exc}", field=field_name) from None
    unknown = sorted(set(data) - {"collectors"})
    if unknown:
        raise ConfigurationError(
            f"collectors file {path}: unknown top-level key(s) {', '.join(unknown)}; "
            "put each collector under [collectors.NAME]",
            field=field_name,
        )
    return configs_from_dicts(data.get("collectors", {}))
