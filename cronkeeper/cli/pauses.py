"""``cronkeeper jobs pause|resume|skip`` and the auto-pause options of ``jobs create|update``.

The same service as the API's (``cronkeeper.pausing``); who acts is recorded as
``cli:<your user>`` (``paused_by``, ``resumed_by``, the skip reason).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from typing import Any

from cronkeeper import job_states, pausing
from cronkeeper.cli.args import iso_time, leaf, uuid_arg, whole
from cronkeeper.cli.context import database, now, options_named
from cronkeeper.cli.output import emit
from cronkeeper.models import ScheduledJob
from cronkeeper.settings import Settings

OPTIONS = {"reason": "--reason", "until": "--until", "count": "--count",
           "auto_pause_after_failures": "--auto-pause-after",
           "auto_pause_trial_after_seconds": "--auto-pause-trial-after"}  # fmt: skip


def _show(args: argparse.Namespace, conn: Any, job: ScheduledJob) -> None:
    """The job's fields, its state next to ``is_active`` (as ``jobs show``)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(job):
        out[f.name] = getattr(job, f.name)
        if f.name == "is_active":
            out["state"] = str(job_states.state(conn, job))
    emit(args, out)


def jobs_pause(args: argparse.Namespace, settings: Settings) -> int:
    """Pause with ``--reason`` until ``--until`` (no offset: UTC)."""
    until = args.until
    if until is not None and until.utcoffset() is None:
        until = until.replace(tzinfo=dt.UTC)
    with database(settings) as conn, options_named(OPTIONS):
        job = pausing.pause_job(conn, args.id, now(), reason=args.reason, until=until)
        _show(args, conn, job)
    return 0


def jobs_resume(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        job = pausing.resume_job(conn, args.id, now())
        _show(args, conn, job)
    return 0


def jobs_skip(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn, options_named(OPTIONS):
        job = pausing.skip_runs(conn, args.id, args.count)
        _show(args, conn, job)
    return 0


def auto_pause_values(args: argparse.Namespace) -> dict[str, Any]:
    """The auto-pause settings given on the command line (0: off)."""
    given = {"auto_pause_after_failures": args.auto_pause_after,
             "auto_pause_trial_after_seconds": args.auto_pause_trial_after}  # fmt: skip
    return {k: (v or None) for k, v in given.items() if v is not None}


def add_auto_pause_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--auto-pause-after", metavar="N", type=whole(0, 1000),
                   help="pause the job by itself after N failed runs in a row (2 to 1000; 0: off)")
    p.add_argument("--auto-pause-trial-after", metavar="SECONDS", type=whole(0),
                   help="after an auto-pause, one trial run SECONDS later; resumes if it completes (0: off)")


def register(group: argparse._SubParsersAction) -> None:
    """Add pause, resume and skip to the ``jobs`` group."""
    p = leaf(group, "pause", jobs_pause, "stop scheduling, with a reason and an optional end")
    p.add_argument("id", metavar="JOB_ID", type=uuid_arg)
    p.add_argument("--reason", metavar="TEXT", help="why (at most 500 characters; shown on the job)")
    p.add_argument("--until", metavar="ISO_TIME", type=iso_time, help="resume by itself then (no offset: UTC)")
    p = leaf(group, "resume", jobs_resume, "schedule again (slots missed while paused are recorded skipped)")
    p.add_argument("id", metavar="JOB_ID", type=uuid_arg)
    p = leaf(group, "skip", jobs_skip, "skip the next N runs (recorded skipped, with who asked)")
    p.add_argument("id", metavar="JOB_ID", type=uuid_arg)
    p.add_argument("--count", metavar="N", type=whole(1, 1000), required=True, help="how many (1 to 1000)")
