"""Validation of a scheduled job's ``metadata`` for the answer-engine job types.

Keys (all optional; unknown keys are kept as they are):

``collectors``       list of configured collector names; absent means every
                     enabled collector at run time. Duplicates are dropped.
``parallel``         bool; absent means true (see ``collect``).
``positionLimit``    positive int.
``sentimentLimit``   positive int.
``on_success``       webhook: ``{"url": "https://...", "secret_env": "HOOK_SECRET"}``;
``on_failure``       ``secret_env`` (optional) names the environment variable
                     holding the HMAC secret: secrets are never stored here.
``output_format``    ``"csv"`` or ``"jsonl"`` (case-insensitive, stored lower-case).
``output_path``      non-empty string.

A ``null`` value for any of these keys means "not set" and is kept as null
when a job is created; an update's metadata is a merge patch
(``cronkeeper.jobs.merge_patch``), where ``null`` removes the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cronkeeper.collectors.config import ENV_NAME_RE
from cronkeeper.errors import ValidationError
from cronkeeper.models import JobType

OUTPUT_FORMATS = ("csv", "jsonl")
WEBHOOK_KEYS = ("on_success", "on_failure")
_WEBHOOK_FIELDS = {"url", "secret_env"}


def validate_job_metadata(job_type: str, metadata: Mapping[str, Any] | None, known_collectors: set[str]) -> dict[str, Any]:
    """The normalized copy of ``metadata`` for a job of ``job_type``.

    Raises ``ValidationError`` whose ``field`` names the key at fault
    (``"metadata.positionLimit"``, ``"metadata.on_success.url"``, ...) and
    whose message says what was expected and what was found. The input is
    not modified.
    """
    if job_type not in {t.value for t in JobType}:
        raise ValidationError(f"unknown job type {job_type!r}", field="job_type")
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise ValidationError("metadata must be an object", field="metadata")
    out = dict(metadata)
    if out.get("collectors") is not None:
        out["collectors"] = _collectors(out["collectors"], known_collectors)
    if out.get("parallel") is not None and not isinstance(out["parallel"], bool):
        raise _invalid("parallel", "must be true or false", out["parallel"])
    for key in ("positionLimit", "sentimentLimit"):
        value = out.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise _invalid(key, "must be a positive whole number", value)
    for key in WEBHOOK_KEYS:
        if out.get(key) is not None:
            out[key] = _webhook(key, out[key])
    if out.get("output_format") is not None:
        value = out["output_format"]
        if not isinstance(value, str) or value.lower() not in OUTPUT_FORMATS:
            raise _invalid("output_format", f"must be one of {', '.join(OUTPUT_FORMATS)}", value)
        out["output_format"] = value.lower()
    if out.get("output_path") is not None:
        value = out["output_path"]
        if not isinstance(value, str) or not value.strip() or "\x00" in value:
            raise _invalid("output_path", "must be a non-empty path", value)
    return out


def _invalid(key: str, problem: str, value: Any) -> ValidationError:
    return ValidationError(f"metadata.{key} {problem}, got {value!r}", field=f"metadata.{key}")


def _collectors(value: Any, known: set[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise _invalid("collectors", "must be a list of collector names", value)
    if not value:
        raise _invalid("collectors", "must name at least one collector (or be left out for all)", value)
    for name in value:
        if name not in known:
            choices = ", ".join(sorted(known)) or "none"
            raise ValidationError(
                f"metadata.collectors: unknown collector {name!r} (configured: {choices})",
                field="metadata.collectors",
            )
    return list(dict.fromkeys(value))


def _webhook(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _invalid(key, 'must be an object like {"url": "https://...", "secret_env": "NAME"}', value)
    for extra in value:
        if extra not in _WEBHOOK_FIELDS:
            hint = " (store the secret in an environment variable and name it in secret_env)" if extra == "secret" else ""
            raise ValidationError(f"metadata.{key}.{extra} is not a webhook setting{hint}", field=f"metadata.{key}.{extra}")
    url = value.get("url")
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid(f"{key}.url", "must be an http(s) URL", url)
    secret_env = value.get("secret_env")
    if secret_env is not None and (not isinstance(secret_env, str) or not ENV_NAME_RE.match(secret_env)):
        raise _invalid(f"{key}.secret_env", "must name an environment variable", secret_env)
    return {"url": url, "secret_env": secret_env}
