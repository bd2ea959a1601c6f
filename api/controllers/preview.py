"""``/api/admin/schedule-preview``: the next fire times of a schedule being typed in the UI."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from cronkeeper import schedule
from cronkeeper.api.params import ClockDep, errors
from cronkeeper.api.schemas import PreviewIn, PreviewOut, utc
from cronkeeper.errors import InvalidSchedule

_DEFINING = ("cron_expression", "interval_seconds", "run_at")


class SchedulePreviewController(Controller):
    path = "/schedule-preview"
    tags = ["scheduled jobs"]

    @post(
        "/", operation_id="previewSchedule", status_code=200, responses=errors(400, 401, 413),
        opt={"read_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def preview(self, data: JSONBody[PreviewIn], clock: ClockDep) -> PreviewOut:
        """The next ``count`` fire times after ``after`` (default now) and a plain-English description.

        Writes nothing, so a viewer token may call it; a bad expression or zone is a 400 naming it.
        """
        values = data.given()
        count = values.pop("count")
        after = values.pop("after", None) or clock.now()
        parsed = schedule.Schedule.from_fields(**values)
        try:
            upcoming = parsed.upcoming(after, count)
        except (ValueError, OverflowError) as exc:  # e.g. a date past year 9999
            field = next((f for f in _DEFINING if f in values), None)
            raise InvalidSchedule(f"cannot compute the next runs: {exc}", field=field) from exc
        return PreviewOut(next_runs=[utc(t) for t in upcoming], description=parsed.describe())
