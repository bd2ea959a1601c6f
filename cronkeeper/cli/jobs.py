"""``cronkeeper jobs list|show|create|update|trigger|backfill|delete``; pause, resume and skip: ``cli/pauses.py``."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
from typing import Any

from cronkeeper import backfill, job_states, jobs
from cronkeeper.cli import job_versions
from cronkeeper.cli import pauses as cli_pauses
from cronkeeper.cli.args import add_limit, choices, iso_time, json_object, leaf, uuid_arg, whole
from cronkeeper.cli.context import database, now, options_named
from cronkeeper.cli.job_bounds import OPTION_OF as BOUND_OPTION_OF
from cronkeeper.cli.job_bounds import add_bound_options, bound_values
from cronkeeper.cli.output import emit
from cronkeeper.errors import ValidationError
from cronkeeper.models import JobType, MisfirePolicy, OverlapPolicy, ScheduledJob
from cronkeeper.schedule.bounds import finished_reason
from cronkeeper.schedule.zones import resolve_local
from cronkeeper.settings import Settings

COLUMNS = ("id", "name", "brand_name", "job_type", "schedule", "is_active", "state", "next_run_at", "paused_reason")
# The service names fields as stored; people typed options.
OPTION_OF = {
    "name": "--name", "job_type": "--type", "cron_expression": "--cron", "timezone": "--timezone",
    "interval_seconds": "--interval", "jitter_seconds": "--jitter", "run_at": "--at", "metadata": "--metadata",
    "max_retries": "--max-retries", "retry_delay": "--retry-delay", "timeout_seconds": "--timeout",
    "overlap_policy": "--overlap-policy", "misfire_policy": "--misfire-policy", "brand_id": "--brand",
    "auto_pause_after_failures": "--auto-pause-after", "auto_pause_trial_after_seconds": "--auto-pause-trial-after",
    **BOUND_OPTION_OF,
}  # fmt: skip


def _record(job: ScheduledJob, extra: dict[str, Any] | None = None, *, state: str | None = None) -> dict[str, Any]:
    """The job's fields with its schedule in words next to ``schedule_kind`` and its
    state (``job_states``) next to ``is_active``."""
    out: dict[str, Any] = {}
    values = {f.name: getattr(job, f.name) for f in dataclasses.fields(job)}
    for key, value in {**values, **(extra or {})}.items():
        out[key] = value
        if key == "schedule_kind":
            out["schedule"] = job.schedule.describe()
        if key == "is_active":
            out["state"] = state or str(job_states.state_of(job.is_active, job.next_run_at, running=False))
            out["finished_reason"] = finished_reason(job)  # "reached its 10 runs", "ended at ..."
    return out


def _values(args: argparse.Namespace) -> dict[str, Any]:
    """The job fields named on the command line (only those given)."""
    defining = [f"--{o}" for o in ("cron", "interval", "at") if getattr(args, o) is not None]
    if len(defining) > 1:
        both = " and ".join(defining)
        raise ValidationError(f"give one of --cron, --interval or --at, not {both}", field="schedule")
    given = {
        "job_type": args.type, "cron_expression": args.cron, "timezone": args.timezone,
        "interval_seconds": args.interval, "jitter_seconds": args.jitter, "metadata": args.metadata,
        "max_retries": args.max_retries, "retry_delay": args.retry_delay, "timeout_seconds": args.timeout,
        "overlap_policy": args.overlap_policy, "misfire_policy": args.misfire_policy,
    }  # fmt: skip
    values = {k: v for k, v in given.items() if v is not None}
    if args.name is not None:  # --name '' clears it
        values["name"] = args.name
    if args.at is not None:
        values["run_at"] = _aware(args.at, args.timezone)
    values.update(bound_values(args, _aware))  # --calendar --starts-at --ends-at --max-runs
    return values


def _aware(at: dt.datetime, timezone: str | None) -> dt.datetime:
    """``--at`` without an offset is a wall-clock time in ``--timezone`` (default UTC), read by
    the one rule every surface shares (``zones.resolve_local``: a time in a spring-forward gap
    moves to the jump, a repeated one takes the first pass)."""
    if at.utcoffset() is not None:
        return at
    with options_named(OPTION_OF):
        instant, note = resolve_local(at, timezone or "UTC")
    if note is not None:
        reading = _AT_NOTES[note].format(zone=timezone or "UTC", instant=f"{instant:%Y-%m-%d %H:%M}Z")
        print(f"note: --at {at:%Y-%m-%d %H:%M} {reading}", file=sys.stderr)
    return instant


# How a --at wall time was read when it was not the only reading (zones.resolve_local's notes)
_AT_NOTES = {
    "shifted": "does not exist in {zone} (the clocks jump forward): it runs at the jump, {instant}",
    "ambiguous": "happens twice in {zone}: the first one is taken, {instant}",
}


def jobs_list(args: argparse.Namespace, settings: Settings) -> int:
    active = {"active": True, "paused": False}.get(args.state)
    with database(settings, read_only=True) as conn:
        found = jobs.list_jobs(conn, customer_id=args.customer, brand_id=args.brand, is_active=active,
                               job_type=args.type, search=args.search, limit=args.limit)  # fmt: skip
        states = job_states.states(conn, (job for job, _ in found))
    emit(args, [_record(job, {"brand_name": brand_name}, state=states[job.id]) for job, brand_name in found], COLUMNS)
    return 0


def jobs_show(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, read_only=True) as conn:
        job = jobs.get_job(conn, args.id)
        state = job_states.state(conn, job)
    emit(args, _record(job, state=state))
    return 0


def _warn(warnings: list[str]) -> None:
    """The job was saved; say on stderr what will not work as it stands (the exit status stays 0)."""
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def jobs_create(args: argparse.Namespace, settings: Settings) -> int:
    values = _values(args)
    if not any(k in values for k in ("cron_expression", "interval_seconds", "run_at")):
        raise ValidationError("a job needs a schedule: --cron, --interval or --at", field="schedule")
    values.update(is_active=not args.paused, brand_id=args.brand, **cli_pauses.auto_pause_values(args))
    with database(settings) as conn, options_named(OPTION_OF):
        if args.start_now:
            job, run = jobs.create_and_start(conn, values, now())
        else:
            job, run = jobs.create_job(conn, values, now()), None
        _warn(jobs.warnings_for(conn, job))
    emit(args, _record(job, {"started_run_id": run.id if run else None}))
    return 0


def _unset_metadata(changes: dict[str, Any], keys: list[str] | None) -> None:
    """Fold ``--unset-metadata KEY`` into the metadata patch as ``KEY: null``."""
    if not keys:
        return
    patch = dict(changes.get("metadata") or {})
    for key in keys:
        if patch.get(key) is not None:
            raise ValidationError(f"--metadata sets {key!r} and --unset-metadata removes it: give one", field="metadata")
        patch[key] = None
    changes["metadata"] = patch


def jobs_update(args: argparse.Namespace, settings: Settings) -> int:
    changes = {**_values(args), **cli_pauses.auto_pause_values(args)}
    _unset_metadata(changes, args.unset_metadata)
    if not changes:
        raise ValidationError("nothing to change: give at least one option (see --help)")
    with database(settings) as conn, options_named(OPTION_OF):
        job = jobs.update_job(conn, args.id, changes, now())
        _warn(jobs.warnings_for(conn, job))
        state = job_states.state(conn, job)
    emit(args, _record(job, state=state))
    return 0


def jobs_trigger(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        run = jobs.trigger_job(conn, args.id, now())
    emit(args, run)
    return 0


def jobs_backfill(args: argparse.Namespace, settings: Settings) -> int:
    """Runs for the job's slots from --from to --to that have none (``cronkeeper/backfill.py``);
    times without an offset are UTC."""
    start, end = (t if t.utcoffset() is not None else t.replace(tzinfo=dt.UTC) for t in (args.start, args.end))
    with database(settings) as conn, options_named({"from": "--from", "to": "--to", "max_runs": "--max-runs"}):
        result = backfill.backfill(conn, args.id, start, end, now(), dry_run=args.dry_run, max_runs=args.max_runs)
    out = result.to_json()
    if not args.json:  # the calendar's skips as "time (reason)" in the table
        out["excluded"] = [f"{e['at']} ({e['reason']})" for e in out["excluded"]]
    emit(args, out)
    return 0


def jobs_delete(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        jobs.delete_job(conn, args.id)
    emit(args, {"deleted": str(args.id)})
    return 0


def _job_options(p: argparse.ArgumentParser, *, create: bool) -> None:
    if create:
        p.add_argument("--brand", metavar="BRAND_ID", required=True, type=uuid_arg, help="the job's customer is the brand's")
    p.add_argument("--type", choices=choices(JobType), required=create, help="job type")
    p.add_argument("--name", help="label ('' clears it)")
    p.add_argument("--cron", metavar="EXPR", help="cron expression (5 fields or @daily ...), in --timezone")
    p.add_argument("--timezone", metavar="ZONE", help="IANA time zone for --cron and --at (default UTC)")
    p.add_argument("--interval", metavar="SECONDS", type=whole(1), help="every N seconds")
    p.add_argument("--jitter", metavar="SECONDS", type=whole(0), help="delay each run by up to N s (interval or cron)")
    p.add_argument("--at", metavar="ISO_TIME", type=iso_time, help="run once then (no offset: in --timezone)")
    if create:
        p.add_argument("--metadata", metavar="JSON", type=json_object, help="JSON object (collectors, output_format)")
    else:
        p.add_argument("--metadata", metavar="JSON", type=json_object,
                       help="JSON object merged into the job's metadata, key by key; a key set to null is removed")
        p.add_argument("--unset-metadata", metavar="KEY", action="append",
                       help="remove this top-level metadata key (repeatable)")
    p.add_argument("--max-retries", metavar="N", type=whole(0))
    p.add_argument("--retry-delay", metavar="SECONDS", type=whole(0), help="before the first retry")
    p.add_argument("--timeout", "--timeout-seconds", dest="timeout", metavar="SECONDS", type=whole(1))
    p.add_argument("--overlap-policy", "--overlap", dest="overlap_policy", choices=choices(OverlapPolicy))
    p.add_argument("--misfire-policy", "--misfire", dest="misfire_policy", choices=choices(MisfirePolicy))
    add_bound_options(p)
    if create:
        p.add_argument("--paused", action="store_true", help="create it paused")
        p.add_argument("--start-now", action="store_true",
                       help="also queue a manual run, due now, saved with the job (its id: started_run_id)")


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("jobs", help="scheduled jobs").add_subparsers(dest="jobs_command", required=True)
    p = leaf(group, "list", jobs_list, "jobs, newest first")
    p.add_argument("--customer", type=uuid_arg)
    p.add_argument("--brand", type=uuid_arg)
    p.add_argument("--type", choices=choices(JobType))
    p.add_argument("--state", choices=("active", "paused"))
    p.add_argument("--search", help="part of the brand's name")
    add_limit(p, 50)
    for name, func, help_ in (
        ("show", jobs_show, "one job"), ("trigger", jobs_trigger, "queue a manual run, due now"),
        ("delete", jobs_delete, "delete the job and its runs"),
    ):  # fmt: skip
        leaf(group, name, func, help_).add_argument("id", metavar="JOB_ID", type=uuid_arg)
    p = leaf(group, "backfill", jobs_backfill, "create runs for past slots that have none (gap-only)")
    p.add_argument("id", metavar="JOB_ID", type=uuid_arg)
    p.add_argument("--from", dest="start", metavar="ISO_TIME", type=iso_time, required=True, help="first slot (no offset: UTC)")
    p.add_argument("--to", dest="end", metavar="ISO_TIME", type=iso_time, required=True, help="last slot, not in the future")
    p.add_argument("--dry-run", action="store_true", help="list the slots, create nothing")
    p.add_argument("--max-runs", metavar="N", type=whole(1, 10_000), default=1000, help="refuse more than N (default 1000)")
    p = leaf(group, "create", jobs_create, "create a job")
    _job_options(p, create=True)
    cli_pauses.add_auto_pause_options(p)
    p = leaf(group, "update", jobs_update, "change the fields given (a new schedule replaces the old one)")
    p.add_argument("id", metavar="JOB_ID", type=uuid_arg)
    _job_options(p, create=False)
    cli_pauses.add_auto_pause_options(p)
    cli_pauses.register(group)  # pause (with --reason, --until), resume, skip
    job_versions.register(group, _job_options, _values, OPTION_OF)  # versions, revert, diff
