"""Webhook signing secrets, by name, from the set the operator configures.

A job never names an environment variable: it names a signing secret
(``metadata.on_success.secret_env``, kept under that key for compatibility),
and only the names the operator lists in ``CRONKEEPER_WEBHOOK_SECRETS`` exist::

    CRONKEEPER_WEBHOOK_SECRETS="shop=SHOP_HOOK_SECRET,billing=BILLING_HOOK_SECRET"

Each entry is ``name=ENV_VAR``: the secret called ``name`` is the value of
``ENV_VAR`` in the process that sends the webhook (the workers, and the API
for ``?mode=sync``). Any other name, whether or not a variable of that name
exists, is refused with one message (``unknown_secret``), so a job cannot
sign with ``OPENAI_API_KEY`` nor learn whether ``DATABASE_URL`` is set.

Jobs saved before this kept an environment variable's name in ``secret_env``;
listing it as ``NAME=NAME`` keeps them signing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from cronkeeper.errors import ConfigurationError, ValidationError

SECRETS_ENV = "CRONKEEPER_WEBHOOK_SECRETS"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def configured(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Secret name -> the environment variable holding it; ``ConfigurationError`` on a bad entry."""
    env = os.environ if env is None else env
    out: dict[str, str] = {}
    for entry in (e.strip() for e in env.get(SECRETS_ENV, "").split(",")):
        if not entry:
            continue
        name, sep, var = (part.strip() for part in entry.partition("="))
        if not sep or not _NAME.match(name) or not _ENV_NAME.match(var):
            raise ConfigurationError(f"{SECRETS_ENV}: {entry!r} is not name=ENV_VAR")
        out[name] = var
    return out


def unknown_secret(name: Any) -> str:
    """The one message for a name that is not configured (the same whatever exists in the environment)."""
    shown = name[:60] if isinstance(name, str) else name
    return f"unknown signing secret {shown!r}; the operator configures names in {SECRETS_ENV}"


def check_name(name: Any, field: str, env: Mapping[str, str] | None = None) -> str:
    """``name`` when the operator configured it; else ``ValidationError`` on ``field``."""
    if not isinstance(name, str) or name not in configured(env):
        raise ValidationError(f"{field}: {unknown_secret(name)}", field=field)
    return name


def value(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The secret called ``name``; None when the name is not configured or its variable is empty."""
    env = os.environ if env is None else env
    var = configured(env).get(name)
    return env.get(var) or None if var else None


def all_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Every configured secret's value (for redaction); a bad configuration yields none."""
    env = os.environ if env is None else env
    try:
        names = configured(env).values()
    except ConfigurationError:
        return []
    return [env[var] for var in names if env.get(var)]
