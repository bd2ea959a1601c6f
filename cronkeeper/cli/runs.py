"""``cronkeeper runs list|show|cancel|retry|export``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from cronkeeper import audit, exports, runs
from cronkeeper.cli.args import add_limit, choices, leaf, uuid_arg, whole
from cronkeeper.cli.context import database, now
from cronkeeper.cli.output import emit
from cronkeeper.fields import MAX_ID_DIGITS
from cronkeeper.models import JobRun, RunStatus
from cronkeeper.settings import Settings

COLUMNS = ("id", "scheduled_job_id", "brand_name", "status", "trigger", "attempt", "scheduled_for",
           "finished_at", "error_message")  # fmt: skip
run_id_arg = whole(1, 10**MAX_ID_DIGITS - 1)


def runs_list(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        rows = runs.list_runs(conn, job_id=args.job, brand_id=args.brand, customer_id=args.customer,
                              status=args.status, limit=args.limit)  # fmt: skip
    emit(args, rows, COLUMNS)
    return 0


ACTIONS: dict[str, Callable[..., JobRun]] = {
    "show": lambda conn, run_id: runs.get_run(conn, run_id),
    "cancel": lambda conn, run_id: runs.cancel_run(conn, run_id, now()),
    "retry": lambda conn, run_id: runs.retry_run(conn, run_id, now()),
}


def _run_command(action: str) -> Callable[[argparse.Namespace, Settings], int]:
    def command(args: argparse.Namespace, settings: Settings) -> int:
        with database(settings) as conn:
            run = ACTIONS[action](conn, args.id)
        emit(args, run)
        return 0

    return command


def _default_format(output: str | None) -> str:
    return "jsonl" if output and output.lower().endswith((".jsonl", ".ndjson")) else "csv"


def runs_export(args: argparse.Namespace, settings: Settings) -> int:
    """Bad input is refused before the database is touched."""
    fmt = exports.check_format(args.format or _default_format(args.output))
    if args.output is not None:
        exports.check_path_template(args.output, "output")
    with database(settings, read_only=True) as conn:
        run = runs.get_run(conn, args.run_id)
        audit.exported(conn, run, fmt, args.output)  # the export asked for (autocommit: recorded now)
        if args.output is None:
            return _to_stdout(conn, run.id, fmt)
        done = exports.export_to_path(conn, run, fmt, args.output)
    print(f"exported {done.rows} rows of run {run.id} to {done.path}")
    return 0


def _to_stdout(conn, run_id: int, fmt: str) -> int:
    try:
        exports.write_export(conn, run_id, fmt, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return 0


def _register_export(group: argparse._SubParsersAction) -> None:
    p = group.add_parser(
        "export", help="write a run's answers and scores as CSV or JSON Lines",
        description="Write a run's collected answers and scores, streamed from the database.",
    )  # fmt: skip
    p.add_argument("run_id", metavar="RUN_ID", type=run_id_arg)
    p.add_argument(
        "--format", metavar="csv|jsonl", default=None,
        help="output format (default: jsonl for an --output ending in .jsonl or .ndjson, else csv)",
    )  # fmt: skip
    p.add_argument(
        "--output", "-o", metavar="PATH", default=None,
        help="file to write, may hold {date}, {job_id}, {run_id} (default: standard output)",
    )  # fmt: skip
    p.set_defaults(func=runs_export)


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("runs", help="job runs").add_subparsers(dest="runs_command", required=True)
    p = leaf(group, "list", runs_list, "runs, newest first")
    p.add_argument("--job", type=uuid_arg)
    p.add_argument("--brand", type=uuid_arg)
    p.add_argument("--customer", type=uuid_arg)
    p.add_argument("--status", choices=choices(RunStatus))
    add_limit(p, 50)
    for action, help_ in (
        ("show", "one run"), ("cancel", "cancel a pending run (a running one stops at its next checkpoint)"),
        ("retry", "queue a new attempt of a failed, partial, cancelled or skipped run"),
    ):  # fmt: skip
        leaf(group, action, _run_command(action), help_).add_argument("id", metavar="RUN_ID", type=run_id_arg)
    _register_export(group)
