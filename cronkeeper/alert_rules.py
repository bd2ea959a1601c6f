"""Alert rules and alert settings: what raises an alert, and where mail goes out.

A job's rules are merged key by key: the job's ``alert_rules``, then its
customer's, then the installation's default (``CRONKEEPER_ALERT_RULES``, a
JSON object), then ``DEFAULT_RULES``. A key set to ``null`` switches that
check off at that level.

- ``late_grace_seconds`` (300): a slot still pending this long after its time is late; null: off;
- ``missed`` (true): a slot skipped for misfire or overlap, or the scheduler behind;
- ``failed`` (``after_retries``): ``each`` failed run, only the last attempt (``after_retries``), or ``off``;
- ``consecutive_failures`` (null): N failed slots in a row (N >= 2);
- ``slow_factor`` (null): a run longer than k x the job's recent p95 (k > 1; needs 5 finished runs).

``AlertSettings.from_env()`` reads the rest: ``CRONKEEPER_ALERT_LAG_SECONDS``
(600, the scheduler lag that raises ``missed``) and the SMTP server
(``CRONKEEPER_SMTP_HOST``, ``_PORT`` (25), ``_STARTTLS`` (false), ``_USER``,
``_PASSWORD``, ``_FROM``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cronkeeper.errors import ConfigurationError, ValidationError

RULES_ENV = "CRONKEEPER_ALERT_RULES"
DEFAULT_RULES: dict[str, Any] = {
    "late_grace_seconds": 300,
    "missed": True,
    "failed": "after_retries",
    "consecutive_failures": None,
    "slow_factor": None,
}
FAILED_MODES = ("after_retries", "each", "off")


def check_rules(value: Any, field: str = "alert_rules") -> dict[str, Any]:
    """``value`` as a valid (partial) rules object; ``ValidationError`` naming ``field.key`` otherwise."""
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must be an object", field=field)
    out: dict[str, Any] = {}
    for key, v in value.items():
        name = f"{field}.{key}"
        if key not in DEFAULT_RULES:
            raise ValidationError(f"{name} is not a rule (known: {', '.join(DEFAULT_RULES)})", field=name)
        if v is None:
            out[key] = None
        elif key == "late_grace_seconds":
            out[key] = _number(v, name, 0, 86_400 * 7, integer=True)
        elif key == "missed":
            if not isinstance(v, bool):
                raise ValidationError(f"{name} must be true or false", field=name)
            out[key] = v
        elif key == "failed":
            if v not in FAILED_MODES:
                raise ValidationError(f"{name} must be one of {', '.join(FAILED_MODES)}", field=name)
            out[key] = v
        elif key == "consecutive_failures":
            out[key] = _number(v, name, 2, 1000, integer=True)
        else:
            out[key] = _number(v, name, 1.01, 1000)
    return out


def _number(v: Any, name: str, low: float, high: float, *, integer: bool = False) -> Any:
    ok = isinstance(v, int) if integer else isinstance(v, int | float)
    if isinstance(v, bool) or not ok or not low <= v <= high:
        kind = "a whole number" if integer else "a number"
        raise ValidationError(f"{name} must be {kind} from {low:g} to {high:g}", field=name)
    return v


def merged(job_rules: Mapping[str, Any] | None, customer_rules: Mapping[str, Any] | None,
           default: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The effective rules of a job: job over customer over ``default`` over ``DEFAULT_RULES``."""
    out = dict(DEFAULT_RULES)
    for layer in (default, customer_rules, job_rules):
        out.update(layer or {})
    return out


@dataclass(frozen=True)
class AlertSettings:
    """The alert settings of a process (see the module docstring)."""

    default_rules: dict[str, Any]
    lag_seconds: float = 600.0
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "cronkeeper@localhost"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertSettings:
        env = os.environ if env is None else env
        try:
            rules = check_rules(json.loads(env.get(RULES_ENV) or "{}"), RULES_ENV)
            lag = float(env.get("CRONKEEPER_ALERT_LAG_SECONDS") or 600)
            port = int(env.get("CRONKEEPER_SMTP_PORT") or 25)
        except (ValueError, ValidationError) as exc:
            raise ConfigurationError(f"alert settings: {exc}") from None
        if lag <= 0 or not 1 <= port <= 65535:
            raise ConfigurationError("CRONKEEPER_ALERT_LAG_SECONDS must be > 0, CRONKEEPER_SMTP_PORT 1-65535")
        return cls(
            rules, lag, env.get("CRONKEEPER_SMTP_HOST") or None, port,
            (env.get("CRONKEEPER_SMTP_STARTTLS") or "").lower() in ("1", "true", "yes", "on"),
            env.get("CRONKEEPER_SMTP_USER") or None, env.get("CRONKEEPER_SMTP_PASSWORD") or None,
            env.get("CRONKEEPER_SMTP_FROM") or "cronkeeper@localhost",
        )  # fmt: skip
