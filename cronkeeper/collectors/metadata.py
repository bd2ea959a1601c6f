"""Validation of a scheduled job's ``metadata`` for the answer-engine job types.

Keys (all optional; unknown keys are kept as they are):

``collectors``       list of configured collector names; absent means every
                     enabled collector at run time. Duplicates are dropped.
``parallel``         bool; absent means true (see ``collect``).
``positionLimit``    positive int, at most 10,000.
``sentimentLimit``   positive int, at most 10,000.
``on_success``       webhook: ``{"url": "https://...", "secret_env": "shop"}``;
``on_failure``       the URL must pass the outbound policy (``cronkeeper.outbound``:
                     literal private addresses, odd ports refused here, names
                     checked at each request); ``secret_env`` (optional) names a
                     signing secret of the operator's ``CRONKEEPER_WEBHOOK_SECRETS``
                     (``cronkeeper.signing_secrets``): secrets are never stored here.
``output_format``    ``"csv"`` or ``"jsonl"`` (case-insensitive, stored lower-case).
``output_path``      non-empty string.

A ``null`` value for any of these keys means "not set" and is kept as null
when a job is created; an update's metadata is a merge patch
(``cronkeeper.jobs.merge_patch``), where ``null`` removes the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cronkeeper import outbound, signing_secrets
from cronkeeper.errors import ValidationError
from cronkeeper.models import JobType

OUTPUT_FORMATS = ("csv", "jsonl")
WEBHOOK_KEYS = ("on_success", "on_failure")
_WEBHOOK_FIELDS = {"url", "secret_env"}
MAX_SCORE_LIMIT = 10_000  # positionLimit, sentimentLimit: a LIMIT in SQL, never past a bigint


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
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SCORE_LIMIT):
            raise _invalid(key, f"must be a positive whole number, at most {MAX_SCORE_LIMIT}", str(value)[:40])
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
            hint = (f" (the operator lists signing secrets in {signing_secrets.SECRETS_ENV}; name one in secret_env)"
                    if extra == "secret" else "")  # fmt: skip
            raise ValidationError(f"metadata.{key}.{extra} is not a webhook setting{hint}", field=f"metadata.{key}.{extra}")
    url = value.get("url")
    if not isinstance(url, str) or len(url) > 2000:
        raise _invalid(f"{key}.url", "must be an http(s) URL", str(url)[:120])
    outbound.check_url(url, f"metadata.{key}.url")
    secret_env = value.get("secret_env")
    if secret_env is not None:
        signing_secrets.check_name(secret_env, f"metadata.{key}.secret_env")
    return {"url": url, "secret_env": secret_env}
