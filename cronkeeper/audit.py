"""The audit trail: who changed what, in the same transaction as the change.

Every service that changes something (``cronkeeper.jobs``, ``runs``, ``brands``,
``customers``, ``tokens``) calls one of the ``*_saved`` / ``run_event`` /
``exported`` functions here inside its own transaction, so the API, the CLI and
the Python API all record the same events, and a change that fails or rolls
back leaves none. An event's ``changes`` is ``{field: [before, after]}`` for
the fields that changed (``[null, value]`` on create, ``[value, null]`` on
delete); a field whose name says secret, token, password or key is masked, and
every string goes through ``cronkeeper.redaction``. A token's secret or hash is
never among the fields.

Who acted is the *actor* of the current context (a ``contextvars.ContextVar``,
so each request, thread copy and task has its own):

- the API's token middleware sets the token (``token_id``, ``token_name``);
- the ``cronkeeper`` command sets ``cli:<OS user>``;
- the Python API (``JobManager``) sets ``python``;
- anything else (the scheduler, the worker, a direct service call) is ``system``.

Code of your own may say who acts with ``with audit.acting_as(Actor("nightly-sync")):``.
"""

from __future__ import annotations

import datetime as dt
import enum
import getpass
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import redaction
from cronkeeper.models import Brand, BrandQuery, Customer, JobRun, ScheduledJob
from cronkeeper.repo import audit as audit_repo

RESOURCE_TYPES = ("job", "run", "brand", "query", "customer", "token", "alert", "alert_channel", "calendar")
MASK = redaction.MASK
# a field whose own name says it holds a secret is masked whatever its value;
# names of secrets (``secret_env``, ``secret_name``) are not secrets
_SECRET_FIELD = re.compile(r"secret|token|password|passwd|api_?key|authorization|credential", re.IGNORECASE)
_NAMES_A_SECRET = re.compile(r"_(env|name)$")
JOB_FIELDS = (
    "name", "brand_id", "job_type", "is_active", "cron_expression", "timezone", "interval_seconds",
    "jitter_seconds", "run_at", "max_retries", "retry_delay", "timeout_seconds", "overlap_policy",
    "misfire_policy", "auto_pause_after_failures", "auto_pause_trial_after_seconds", "paused_reason", "paused_until",
    "calendar_id", "starts_at", "ends_at", "max_runs",
)  # fmt: skip
PAUSE_FIELDS = {"is_active", "paused_reason", "paused_until"}  # a change of only these is a pause or resume


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a token (``token_id``) or a named program (``cli:alice``, ``python``)."""

    name: str
    token_id: int | None = None


SYSTEM = Actor("system")
PYTHON = Actor("python")
_ACTOR: ContextVar[Actor | None] = ContextVar("cronkeeper_audit_actor", default=None)


def cli_actor() -> Actor:
    """``cli:<the OS user>`` (``cli:uid-N`` when the user has no name)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return Actor(f"cli:{user}")


def current_actor() -> Actor:
    """The actor set in this context, else ``SYSTEM``."""
    return _ACTOR.get() or SYSTEM


def set_actor(actor: Actor) -> None:
    """Make ``actor`` the actor of the rest of this context (a request, a command)."""
    _ACTOR.set(actor)


@contextmanager
def acting_as(actor: Actor, *, unless_set: bool = False) -> Iterator[Actor]:
    """``actor`` acts inside the block (``unless_set``: only when no actor is set yet)."""
    if unless_set and _ACTOR.get() is not None:
        yield current_actor()
        return
    token = _ACTOR.set(actor)
    try:
        yield actor
    finally:
        _ACTOR.reset(token)


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: dt.datetime
    token_id: int | None
    token_name: str
    customer_id: UUID | None
    action: str
    resource_type: str
    resource_id: str
    job_id: UUID | None
    changes: dict[str, list[Any]]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AuditEvent:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {k: plain(v) for k, v in out.items()}


def plain(value: Any) -> Any:
    """``value`` as JSON: times in ISO 8601 (UTC), ids and enums as strings."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, UUID | dt.date):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _masked(field: str, value: Any) -> Any:
    last = field.rsplit(".", 1)[-1]
    if value is not None and _SECRET_FIELD.search(last) and not _NAMES_A_SECRET.search(last):
        return MASK
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for every field whose value differs (a missing one is ``None``)."""
    out = {}
    for field in dict.fromkeys([*before, *after]):
        old, new = plain(before.get(field)), plain(after.get(field))
        if old != new:
            out[field] = [_masked(field, old), _masked(field, new)]
    return redaction.redact_value(out) if out else out  # one look at the environment per event


def record(
    conn: psycopg.Connection,
    action: str,
    resource_type: str,
    resource_id: Any,
    *,
    customer_id: UUID | None,
    changes: Mapping[str, list[Any]],
    job_id: UUID | None = None,
    actor: Actor | None = None,
) -> AuditEvent:
    """Write one event on ``conn`` (inside the caller's transaction) by ``actor`` (default: the current one)."""
    who = actor or current_actor()
    row = audit_repo.insert_event(
        conn, token_id=who.token_id, token_name=who.name, customer_id=customer_id, action=action,
        resource_type=resource_type, resource_id=str(resource_id), job_id=job_id, changes=dict(changes),
    )  # fmt: skip
    return AuditEvent.from_row(row)


def _saved(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[str, dict[str, list[Any]]]:
    if before is None:
        return "create", diff({}, after or {})
    if after is None:
        return "delete", diff(before, {})
    return "update", diff(before, after)


# -- one function per kind of object --------------------------------------------------------


def job_values(job: ScheduledJob) -> dict[str, Any]:
    """The audited fields of a job; metadata key by key (``metadata.output_path``)."""
    values = {k: getattr(job, k) for k in JOB_FIELDS}
    values.update({f"metadata.{k}": v for k, v in (job.metadata or {}).items()})
    return values


def job_saved(conn: psycopg.Connection, before: ScheduledJob | None, after: ScheduledJob | None) -> None:
    """A job created (``before`` None), deleted (``after`` None) or changed; a change of
    ``is_active`` (and the pause's reason and end) is ``pause``/``resume``, a change of nothing is not recorded."""
    action, changes = _saved(before and job_values(before), after and job_values(after))
    if not changes:
        return
    if action == "update" and "is_active" in changes and set(changes) <= PAUSE_FIELDS:
        action = "resume" if changes["is_active"][1] else "pause"
    job = after or before
    assert job is not None
    record(conn, action, "job", job.id, customer_id=job.customer_id, changes=changes, job_id=job.id)


def run_event(conn: psycopg.Connection, action: str, run: JobRun, changes: Mapping[str, list[Any]]) -> None:
    """A run triggered, retried or cancelled (``changes`` already ``{field: [before, after]}``)."""
    record(conn, action, "run", run.id, customer_id=run.customer_id, changes=changes, job_id=run.scheduled_job_id)


def run_changed(conn: psycopg.Connection, action: str, before: JobRun, after: JobRun) -> None:
    """A run whose ``status`` or ``cancel_requested`` changed (a cancel)."""
    fields_ = ("status", "cancel_requested")
    changes = diff({k: getattr(before, k) for k in fields_}, {k: getattr(after, k) for k in fields_})
    run_event(conn, action, after, changes)


def exported(conn: psycopg.Connection, run: JobRun, fmt: str, destination: str | None = None) -> None:
    """A run's export asked for (a download, or a file the CLI wrote to ``destination``)."""
    changes = diff({}, {"format": fmt, "destination": destination})
    run_event(conn, "export", run, changes)


def brand_saved(conn: psycopg.Connection, before: Brand | None, after: Brand | None) -> None:
    fields_ = ("name", "aliases", "competitors")
    action, changes = _saved(
        before and {k: getattr(before, k) for k in fields_}, after and {k: getattr(after, k) for k in fields_}
    )
    brand = after or before
    assert brand is not None
    if changes:
        record(conn, action, "brand", brand.id, customer_id=brand.customer_id, changes=changes)


def query_saved(
    conn: psycopg.Connection, customer_id: UUID, before: BrandQuery | None, after: BrandQuery | None
) -> None:
    fields_ = ("brand_id", "text", "is_active")
    action, changes = _saved(
        before and {k: getattr(before, k) for k in fields_}, after and {k: getattr(after, k) for k in fields_}
    )
    query = after or before
    assert query is not None
    if changes:
        record(conn, action, "query", query.id, customer_id=customer_id, changes=changes)


def customer_saved(conn: psycopg.Connection, before: Customer | None, after: Customer | None) -> None:
    action, changes = _saved(before and {"name": before.name}, after and {"name": after.name})
    customer = after or before
    assert customer is not None
    if changes:
        record(conn, action, "customer", customer.id, customer_id=customer.id, changes=changes)


def quotas_changed(
    conn: psycopg.Connection, customer_id: UUID, before: Mapping[str, Any], after: Mapping[str, Any]
) -> None:
    """A customer's quota overrides changed (``None``: the default applies)."""
    changes = {f"quotas.{k}": v for k, v in diff(before, after).items()}
    if changes:
        record(conn, "update", "customer", customer_id, customer_id=customer_id, changes=changes)


TOKEN_FIELDS = ("name", "role", "customer_id", "expires_at", "revoked_at")  # never the secret or its hash


def token_saved(conn: psycopg.Connection, before: Any, after: Any) -> None:
    """A token (``cronkeeper.tokens.ApiToken``) created (``before`` None) or revoked."""
    action, changes = _saved(
        before and {k: getattr(before, k) for k in TOKEN_FIELDS}, after and {k: getattr(after, k) for k in TOKEN_FIELDS}
    )
    if before is not None and after is not None and after.revoked_at is not None:
        action = "revoke"
    token = after or before
    if changes:
        record(conn, action, "token", token.id, customer_id=token.customer_id, changes=changes)


# -- reading ---------------------------------------------------------------------------------


def list_events(
    conn: psycopg.Connection,
    *,
    scope: UUID | None = None,
    customer_id: UUID | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    job_id: UUID | None = None,
    since: dt.datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    """Events newest first (keyset: ``before_id``). ``scope`` is the one customer a caller
    is limited to (a bound token): it sees that customer's events (its tokens' excepted) and no others."""
    rows = audit_repo.list_events(
        conn, only_customer=scope, customer_id=customer_id, resource_type=resource_type,
        resource_id=resource_id, job_id=job_id, since=since, before_id=before_id, limit=limit,
    )  # fmt: skip
    return [AuditEvent.from_row(r) for r in rows]


def summary(changes: Mapping[str, list[Any]], arrow: str = "->") -> str:
    """One line: ``cron_expression: 0 9 * * * -> 30 8 * * *; name: - -> daily`` (``-``: none)."""

    def shown(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, list):
            return ", ".join(map(str, value)) or "[]"
        return str(value)

    return "; ".join(f"{field}: {shown(old)} {arrow} {shown(new)}" for field, (old, new) in changes.items())
