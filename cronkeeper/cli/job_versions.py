"""``cronkeeper jobs versions|revert|diff``: a job's schedule versions, going back to one, and
the effect of an edit on the next runs before making it (``cronkeeper/schedule_edits.py``)."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from cronkeeper import schedule_edits
from cronkeeper.cli.args import add_limit, leaf, uuid_arg, whole
from cronkeeper.cli.context import database, now, options_named
from cronkeeper.cli.output import emit
from cronkeeper.errors import ValidationError
from cronkeeper.schedule.zones import zone
from cronkeeper.schedule_edits import ScheduleDiff
from cronkeeper.settings import Settings

VERSION_COLUMNS = ("version", "at", "actor", "changes", "schedule", "note")


def _change_text(changes: dict[str, list[Any]]) -> str:
    """ "cron_expression: 0 9 * * * -> 30 8 * * *; is_active: True -> False"."""
    return "; ".join(
        f"{k}: {'-' if a is None else a} -> {'-' if b is None else b}"
        for k, (a, b) in changes.items()
    )


def jobs_versions(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        found = schedule_edits.versions(conn, args.id, limit=args.limit)
    if args.json:
        emit(args, [v.to_json() for v in found])
        return 0
    rows = []
    for v in found:
        note = v.note or (f"revert to version {v.reverted_from}" if v.reverted_from else None)
        changes = "created" if v.before is None and v.note is None else _change_text(v.changes)
        rows.append({"version": v.version, "at": v.at, "actor": v.actor, "changes": changes,
                     "schedule": v.description(), "note": note})  # fmt: skip
    emit(args, rows, VERSION_COLUMNS)
    return 0


def jobs_revert(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn, options_named({"version": "VERSION"}):
        job, written = schedule_edits.revert(conn, args.id, args.version, now())
    emit(args, {
        "job_id": job.id, "version": written.version if written else None, "reverted_from": args.version,
        "schedule": job.schedule.describe(), "is_active": job.is_active, "next_run_at": job.next_run_at,
        "note": None if written else f"the job already has version {args.version}'s schedule: nothing changed",
    })  # fmt: skip
    return 0


def _when(moment: dt.datetime, zone_name: str) -> str:
    local = moment.astimezone(zone(zone_name))
    return f"{local:%a %Y-%m-%d %H:%M %Z} ({moment:%H:%M}Z)"


def diff_lines(diff: ScheduleDiff, zone_name: str) -> list[str]:
    """The diff in words, one line each, times in ``zone_name`` (and UTC)."""
    s = diff.slots
    lines = [
        f"now:      {diff.before_description or '-'}",
        f"proposed: {diff.after_description or '-'}",
    ]
    lines.append(f"changes:  {_change_text(diff.changes) or 'none to the schedule'}")
    entries = [
        (a, f"moved      {_when(a, zone_name)} -> {_when(b, zone_name)}") for a, b in s.moved
    ]
    entries += [(t, f"added      {_when(t, zone_name)}") for t in s.added]
    entries += [(t, f"removed    {_when(t, zone_name)}") for t in s.removed]
    entries += [(t, f"unchanged  {_when(t, zone_name)}") for t in s.unchanged]
    lines.append(f"next {diff.count} runs:" if entries else "no upcoming runs either way")
    lines += [f"  {text}" for _, text in sorted(entries, key=lambda e: e[0])]
    lines += [f"skipped now:   {_when(t, zone_name)}: {why}" for t, why in sorted(diff.excluded_before.items())]
    lines += [f"skipped after: {_when(t, zone_name)}: {why}" for t, why in sorted(diff.skipped.items())]
    lines += [f"note: {n.text}" for n in s.dst_notes]
    if not s.complete:
        lines.append("note: one schedule runs so often that the comparison stopped early")
    return [*lines, "nothing was saved"]


def _diff_command(
    values: Callable[[argparse.Namespace], dict[str, Any]], option_of: Mapping[str, str]
):
    def jobs_diff(args: argparse.Namespace, settings: Settings) -> int:
        changes = values(args)
        if args.unset_metadata:
            raise ValidationError(
                "--unset-metadata changes no schedule: leave it out of a diff", field="metadata"
            )
        with (
            database(settings, read_only=True) as conn,
            options_named({**option_of, "count": "--count"}),
        ):
            diff = schedule_edits.schedule_diff(conn, args.id, changes, now(), count=args.count)
        if args.json:
            emit(args, diff.to_json())
            return 0
        print("\n".join(diff_lines(diff, diff.timezone)))
        return 0

    return jobs_diff


def register(
    group: argparse._SubParsersAction, job_options: Callable, values: Callable, option_of: Mapping[str, str],
) -> None:  # fmt: skip
    """Add ``versions``, ``revert`` and ``diff`` to the ``jobs`` group; ``job_options`` and
    ``values`` are ``cli/jobs.py``'s update options and their reading."""
    p = leaf(group, "versions", jobs_versions, "the job's schedule versions, newest first")
    p.add_argument("id", metavar="JOB_ID", type=uuid_arg)
    add_limit(p, 50)
    p = leaf(
        group, "revert", jobs_revert, "apply an earlier schedule version (itself a new version)"
    )
    p.add_argument("id", metavar="JOB_ID", type=uuid_arg)
    p.add_argument("version", metavar="VERSION", type=whole(1))
    p = leaf(group, "diff", _diff_command(values, option_of),
             "the next runs now and with these changes (as for update), compared; saves nothing")  # fmt: skip
    p.add_argument("id", metavar="JOB_ID", type=uuid_arg)
    p.add_argument(
        "--count",
        metavar="N",
        type=whole(1, 100),
        default=10,
        help="runs to compare (1-100, default 10)",
    )
    job_options(p, create=False)
