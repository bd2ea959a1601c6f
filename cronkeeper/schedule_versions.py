"""Schedule versions: every change to the fields that decide when a job runs, kept as a row.

``SCHEDULE_VERSION_FIELDS`` is the one list of those fields. ``record`` is
called by ``cronkeeper.jobs`` inside the transaction of each create and
update: a new job gets version 1 (``before`` null), and a change to any of the
fields gets the next version with the snapshot ``before`` and ``after`` (all
the fields, as JSON). Who acted is the audit actor of the context
(``audit.current_actor``: the token's name, ``cli:<user>``, ``python`` or
``system``); when is the caller's ``now``.

A job saved before versions were kept has none; its first change first writes
a baseline version (``note`` says so) holding the fields as they were, so
every version can be reverted to. Reverting and the diff of upcoming runs live
in ``cronkeeper.schedule_edits``.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import audit
from cronkeeper.errors import CronkeeperError
from cronkeeper.models import ScheduledJob
from cronkeeper.repo import schedule_versions as versions_repo
from cronkeeper.schedule import Schedule

# The fields whose change is a new schedule version. Each must be an attribute of
# ScheduledJob, a column of scheduled_jobs and a key ``jobs.update_job`` accepts
# (a revert applies them through it). ``schedule_kind`` follows from which of
# cron_expression / interval_seconds / run_at is set, so it is not listed.
SCHEDULE_VERSION_FIELDS: tuple[str, ...] = (
    "cron_expression", "timezone", "interval_seconds", "jitter_seconds", "run_at",
    "overlap_policy", "misfire_policy", "is_active",
    "calendar_id", "starts_at", "ends_at", "max_runs",
)  # fmt: skip
BASELINE_NOTE = "the schedule as it was before versions were kept"


def _json(value: Any) -> Any:
    """A field's value as JSON: times in ISO 8601 UTC, ids and enums as text."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, UUID | dt.date):
        return str(value)
    return value


def snapshot(job: ScheduledJob) -> dict[str, Any]:
    """The job's ``SCHEDULE_VERSION_FIELDS`` as a JSON object."""
    return {name: _json(getattr(job, name, None)) for name in SCHEDULE_VERSION_FIELDS}


def snapshot_of(values: dict[str, Any]) -> dict[str, Any]:
    """``snapshot`` of job fields given as a dict (``jobs.merged_fields``' result)."""
    return {name: _json(values.get(name)) for name in SCHEDULE_VERSION_FIELDS}


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for the fields that differ (every one when ``before`` is None),
    in ``SCHEDULE_VERSION_FIELDS``' order (a jsonb object keeps its own)."""
    before = before or {}
    order = [k for k in SCHEDULE_VERSION_FIELDS if k in after] + [
        k for k in after if k not in SCHEDULE_VERSION_FIELDS
    ]
    return {k: [before.get(k), after[k]] for k in order if before.get(k) != after[k]}


@dataclass(frozen=True)
class ScheduleVersion:
    """One version of a job's schedule: ``after`` holds its fields, ``before`` the previous
    version's (None for a first version). ``reverted_from``: the version it restored."""

    job_id: UUID
    version: int
    at: dt.datetime
    actor: str
    token_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any]
    reverted_from: int | None = None
    note: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ScheduleVersion:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})

    @property
    def changes(self) -> dict[str, list[Any]]:
        """``{field: [before, after]}`` of what this version changed."""
        return changed_fields(self.before, self.after)

    def description(self) -> str | None:
        """The schedule of ``after`` in words (``Schedule.describe``); None when it is not valid."""
        keys = ("cron_expression", "timezone", "interval_seconds", "jitter_seconds", "run_at")
        try:
            schedule = Schedule.from_fields(**{k: self.after.get(k) for k in keys})
            return schedule.for_job(self.job_id).describe()
        except CronkeeperError:
            return None

    def to_json(self) -> dict[str, Any]:
        out = {k: _json(getattr(self, k)) for k in self.__dataclass_fields__}
        out["changes"] = self.changes
        out["description"] = self.description()
        return out


def record(
    conn: psycopg.Connection,
    old: ScheduledJob | None,
    new: ScheduledJob,
    now: dt.datetime,
    actor: audit.Actor | None = None,
) -> ScheduleVersion | None:
    """Write the version ``old`` -> ``new`` when a schedule field changed (always for a new job,
    ``old`` None); the version written, or None. Call inside the change's transaction, with
    the job's row locked (``update_job`` holds it ``FOR UPDATE``). ``actor``: who acted, when
    not the context's (the scheduler's auto-pause)."""
    after = snapshot(new)
    if old is None:
        return _insert(conn, new.id, 1, now, None, after, actor)
    before = snapshot(old)
    if before == after:
        return None
    latest = versions_repo.latest_version(conn, new.id)
    if latest == 0:  # saved before versions were kept: its state so far is version 1
        row = versions_repo.insert_version(conn, {
            "job_id": new.id, "version": 1, "at": old.updated_at, "actor": audit.SYSTEM.name,
            "token_id": None, "before": None, "after": before, "note": BASELINE_NOTE, "reverted_from": None,
        })  # fmt: skip
        latest = row["version"]
    return _insert(conn, new.id, latest + 1, now, before, after, actor)


def _insert(
    conn: psycopg.Connection, job_id: UUID, version: int, now: dt.datetime,
    before: dict[str, Any] | None, after: dict[str, Any], actor: audit.Actor | None,
) -> ScheduleVersion:  # fmt: skip
    actor = actor or audit.current_actor()
    row = versions_repo.insert_version(conn, {
        "job_id": job_id, "version": version, "at": now, "actor": actor.name, "token_id": actor.token_id,
        "before": before, "after": after, "note": None, "reverted_from": None,
    })  # fmt: skip
    return ScheduleVersion.from_row(row)


def list_versions(
    conn: psycopg.Connection, job_id: UUID, *, before: int | None = None, limit: int = 50
) -> list[ScheduleVersion]:
    """The job's versions, newest first, those below version ``before`` when given."""
    return [
        ScheduleVersion.from_row(r)
        for r in versions_repo.list_versions(conn, job_id, before, limit)
    ]


def get_version(conn: psycopg.Connection, job_id: UUID, version: int) -> ScheduleVersion | None:
    row = versions_repo.get_version(conn, job_id, version)
    return ScheduleVersion.from_row(row) if row else None
