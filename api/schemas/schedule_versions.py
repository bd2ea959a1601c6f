"""Schedule versions, the diff of upcoming runs before saving, and a revert's answer."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import msgspec
from msgspec import Struct

from cronkeeper.api.schemas.jobs import JobSaved
from cronkeeper.schedule_edits import ScheduleDiff
from cronkeeper.schedule_versions import ScheduleVersion


class MovedRun(Struct):
    before: dt.datetime = msgspec.field(name="from")
    after: dt.datetime = msgspec.field(name="to")


class DstNoteOut(Struct):
    # clock_change (the clocks go forward or back), gap (wall times that do not exist), overlap
    # (wall times that happen twice)
    kind: str
    at: dt.datetime  # when the clocks change (UTC)
    zone: str
    text: str


class SkippedRun(Struct):
    at: dt.datetime
    reason: str  # "calendar: Holidays excludes 2027-12-25"


class ExcludedRuns(Struct):
    # runs of ``before`` the job's current calendar excludes, each with the tick's reason
    before: list[SkippedRun]
    # runs of ``after`` the (proposed) calendar excludes (the same as ``skipped``)
    after: list[SkippedRun]


class ScheduleDiffOut(Struct, kw_only=True):
    """The job's next ``count`` runs now (``before``) and with the edit (``after``), compared."""

    job_id: UUID
    count: int
    timezone: str  # the proposed schedule's zone
    # {field: [now, proposed]} of the schedule fields the edit changes; {} when none does
    changes: dict[str, list[Any]]
    before_description: str | None
    after_description: str | None
    next_run_at_before: dt.datetime | None
    next_run_at_after: dt.datetime | None
    before: list[dt.datetime]
    after: list[dt.datetime]
    unchanged: list[dt.datetime]
    added: list[dt.datetime]
    removed: list[dt.datetime]
    moved: list[MovedRun]
    dst_notes: list[DstNoteOut]
    # false when one schedule runs so often that the comparison stopped early
    complete: bool
    # runs of ``after`` the (proposed) calendar excludes: they are recorded skipped
    skipped: list[SkippedRun]
    # the runs each side's calendar excludes (they stay slots, recorded skipped; not runs for max_runs)
    excluded: ExcludedRuns

    @classmethod
    def of(cls, diff: ScheduleDiff) -> ScheduleDiffOut:
        s = diff.slots
        return cls(
            job_id=diff.job_id, count=diff.count, timezone=diff.timezone, changes=diff.changes,
            before_description=diff.before_description, after_description=diff.after_description,
            next_run_at_before=diff.next_run_at_before, next_run_at_after=diff.next_run_at_after,
            before=s.before, after=s.after, unchanged=s.unchanged, added=s.added, removed=s.removed,
            moved=[MovedRun(a, b) for a, b in s.moved],
            dst_notes=[DstNoteOut(n.kind, n.at, n.zone, n.text) for n in s.dst_notes],
            complete=s.complete,
            skipped=_skipped(diff.skipped),
            excluded=ExcludedRuns(_skipped(diff.excluded_before), _skipped(diff.skipped)),
        )  # fmt: skip


def _skipped(reasons: dict[dt.datetime, str]) -> list[SkippedRun]:
    return [SkippedRun(at, why) for at, why in sorted(reasons.items())]


class VersionOut(Struct, kw_only=True):
    job_id: UUID
    version: int
    at: dt.datetime
    # who: a token's name, cli:<user>, python, or system
    actor: str
    token_id: int | None
    # the schedule fields before (null for a first version) and after
    before: dict[str, Any] | None
    after: dict[str, Any]
    # {field: [before, after]} of what this version changed
    changes: dict[str, list[Any]]
    reverted_from: int | None
    note: str | None
    # the schedule of ``after`` in words
    description: str | None

    @classmethod
    def of(cls, version: ScheduleVersion) -> VersionOut:
        values = {k: getattr(version, k) for k in ScheduleVersion.__dataclass_fields__}
        return cls(**values, changes=version.changes, description=version.description())


class VersionPage(Struct):
    data: list[VersionOut]
    next_cursor: str | None


class RevertOut(Struct):
    job: JobSaved
    # the version the revert wrote; null when the job already had that version's fields
    version: VersionOut | None
