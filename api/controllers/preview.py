"""``/api/admin/schedule-preview``: the next fire times of a schedule being typed in the UI."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, post
from litestar.params import JSONBody
from psycopg_pool import ConnectionPool

from cronkeeper import calendars, schedule
from cronkeeper.api.auth import Access
from cronkeeper.api.params import AccessDep, ClockDep, PoolDep, errors
from cronkeeper.api.schemas.common import utc
from cronkeeper.api.schemas.preview import PreviewIn, PreviewOut
from cronkeeper.db import reading
from cronkeeper.errors import InvalidSchedule
from cronkeeper.job_bounds import BOUND_FIELDS, validate_bounds
from cronkeeper.schedule.bounds import Bounds
from cronkeeper.schedule.bounds import preview as bounds_preview
from cronkeeper.schedule.zones import resolve_local

_DEFINING = ("cron_expression", "interval_seconds", "run_at")


class SchedulePreviewController(Controller):
    path = "/schedule-preview"
    tags = ["scheduled jobs"]

    @post(
        "/", operation_id="previewSchedule", status_code=200, responses=errors(400, 401, 404, 413),
        opt={"read_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def preview(self, data: JSONBody[PreviewIn], clock: ClockDep, pool: PoolDep, access: AccessDep) -> PreviewOut:
        """The next ``count`` fire times after ``after`` (default now) and a plain-English description.

        A one-off may be given as ``run_at_local`` (no offset, in ``timezone``): the response's
        ``run_at`` is the instant it stands for and ``note`` says "shifted" when the time does
        not exist there (it moves to the jump) or "ambiguous" when it happens twice (the first
        pass is taken), as the CLI's ``--at`` and ``Schedule.once`` read it.

        A cron expression with ``H`` is resolved for ``job_id`` (hashed, never read, so any id
        may be given): ``resolved_expression`` and the description show the result. Without
        ``job_id`` there are no ``next_runs`` and the description says the values are chosen
        when the job is saved.

        With ``calendar_id`` (a calendar of the token's customers) each slot it excludes is
        marked in ``excluded`` (its reason, or null); ``starts_at``, ``ends_at`` and ``max_runs``
        bound the slots listed as they bound a job's.

        Writes nothing, so a viewer token may call it; a bad expression or zone is a 400 naming it.
        """
        values = data.given()
        limits = {k: values.pop(k) for k in BOUND_FIELDS if k in values}
        count = values.pop("count")
        after = values.pop("after", None) or clock.now()
        job_id = values.pop("job_id", None)
        run_at, note = _local_run_at(values)
        parsed = schedule.Schedule.from_fields(**values)
        resolved = None
        if parsed.spread and job_id is not None:
            parsed = parsed.for_job(job_id)
            resolved = parsed.resolved_expression
        elif parsed.spread:
            count = 0  # H: the values come from the job's id, chosen when it is saved
        try:
            marked = _marked(pool, access, parsed, after, count, limits)
        except (ValueError, OverflowError) as exc:  # e.g. a date past year 9999
            field = next((f for f in _DEFINING if f in values), None)
            raise InvalidSchedule(f"cannot compute the next runs: {exc}", field=field) from exc
        return PreviewOut(
            next_runs=[utc(t) for t, _ in marked], excluded=[why for _, why in marked], description=parsed.describe(),
            run_at=utc(run_at), note=note, resolved_expression=resolved,
        )  # fmt: skip


def _marked(
    pool: ConnectionPool, access: Access, parsed: schedule.Schedule, after: dt.datetime, count: int, limits: dict
) -> list[tuple[dt.datetime, str | None]]:
    """The next slots within the bounds of ``limits``, each with its calendar's reason or ``None``."""
    checked = validate_bounds(limits)
    rule = None
    if checked["calendar_id"] is not None:
        with reading(pool) as conn:
            rule = calendars.rule_for(conn, checked["calendar_id"], customer_id=access.customer_id)
    window = Bounds(checked["starts_at"], checked["ends_at"], checked["max_runs"])
    return bounds_preview(parsed, after, count, window, rule)


def _local_run_at(values: dict[str, Any]) -> tuple[dt.datetime | None, str | None]:
    """Replace ``run_at_local`` in ``values`` by the instant it stands for in ``timezone``;
    that instant and the reading's note (``zones.resolve_local``), or (None, None)."""
    text = values.pop("run_at_local", None)
    if text is None:
        return None, None
    if "run_at" in values:
        raise InvalidSchedule("give run_at or run_at_local, not both", field="run_at_local")
    try:
        local = dt.datetime.fromisoformat(text)
    except ValueError:
        local = None
    if local is None or local.tzinfo is not None:
        raise InvalidSchedule(
            f"run_at_local must be a local date and time without an offset "
            f"(2027-03-14T02:30), got {text!r}",
            field="run_at_local",
        )
    values["run_at"], note = resolve_local(local, values.get("timezone") or "UTC")
    return values["run_at"], note
