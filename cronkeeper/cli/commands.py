"""``cronkeeper jobs|runs|brands|customers``: the admin API's operations from a shell.

Readable aligned tables by default, ``--json`` for scripts (one JSON document
on stdout). Every command goes through the same service functions as the API
(``cronkeeper.jobs``, ``cronkeeper.repo``), so validation and rules are the
same. Bad input raises ``CronkeeperError`` (or is refused by argparse), which
``cronkeeper.cli.main`` prints as one line naming the field, exit 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import enum
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from cronkeeper.errors import CronkeeperError, DatabaseUnavailable, NotFound, ValidationError
from cronkeeper.models import JobType, MisfirePolicy, OverlapPolicy, RunStatus
from cronkeeper.settings import Settings

JOB_COLUMNS = ("id", "name", "brand_name", "job_type", "schedule", "is_active", "next_run_at")
RUN_COLUMNS = ("id", "scheduled_job_id", "brand_name", "status", "trigger", "attempt", "scheduled_for",
               "finished_at", "error_message")  # fmt: skip
BRAND_COLUMNS = ("id", "customer_id", "name", "aliases", "competitors")
CUSTOMER_COLUMNS = ("id", "name", "created_at")
MAX_LIMIT = 1000
# The service names fields as stored; people typed options.
OPTION_OF = {
    "name": "--name", "job_type": "--type", "cron_expression": "--cron", "timezone": "--timezone",
    "interval_seconds": "--interval", "jitter_seconds": "--jitter", "run_at": "--at", "metadata": "--metadata",
    "max_retries": "--max-retries", "retry_delay": "--retry-delay", "timeout_seconds": "--timeout",
    "overlap_policy": "--overlap-policy", "misfire_policy": "--misfire-policy", "brand_id": "--brand",
}  # fmt: skip


# -- output -----------------------------------------------------------------
def plain(value: Any, *, table: bool = False) -> Any:
    """Models, enums, ids and times (in UTC; to the second in tables) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: plain(v, table=table) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, table=table) for v in value]
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC) if value.tzinfo else value
        return value.isoformat(sep=" ", timespec="seconds") if table else value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    return value


def _cell(value: Any, width: int = 60) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    text = json.dumps(value, default=str) if isinstance(value, dict) else str(value)
    text = " ".join(text.split())  # one line per row, whatever the error message holds
    return text if len(text) <= width else text[: width - 3] + "..."


def emit(args: argparse.Namespace, data: Any, columns: Sequence[str] | None = None) -> None:
    """Print ``data`` (a record or a list of records) as JSON or as an aligned table."""
    if args.json:
        print(json.dumps(plain(data), indent=2, default=str))
        return
    data = plain(data, table=True)
    if isinstance(data, dict):
        width = max(map(len, data), default=0)
        for key, value in data.items():
            print(f"{key.ljust(width)}  {_cell(value, 200)}".rstrip())
        return
    cols = list(columns or (data[0].keys() if data else []))
    rows = [[_cell(d.get(c)) for c in cols] for d in data]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(cols)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", file=sys.stderr)


# -- input ------------------------------------------------------------------
# argparse prefixes these messages with the option or metavar: "argument --limit: must be ..."
def uuid_arg(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a UUID, got {text!r}") from None


def whole(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value

    return parse


def json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, got {text[:40]!r}")
    return value


def iso_time(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an ISO date-time (2030-01-31T09:00), got {text!r}") from None


def names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _text(value: str, option: str) -> str:
    if not value.strip():
        raise ValidationError(f"{option} must not be empty", field=option)
    return value.strip()


@contextmanager
def database(settings: Settings) -> Iterator[Any]:
    """An autocommit connection to the migrated database (the service functions open transactions)."""
    import psycopg

    from cronkeeper.db import connect, prepared_dsn

    try:
        conn = connect(prepared_dsn(settings), autocommit=True)
    except (psycopg.OperationalError, DatabaseUnavailable) as exc:
        raise DatabaseUnavailable(" ".join(f"cannot use the database: {exc}".split())) from exc
    with conn:
        yield conn


@contextmanager
def options_named() -> Iterator[None]:
    """Name the option the user typed in a service error (``--interval``, not ``interval_seconds``)."""
    try:
        yield
    except CronkeeperError as exc:
        option = OPTION_OF.get((exc.field or "").split(".")[0])
        if option:
            exc.field = option
        raise


def _now() -> dt.datetime:
    from cronkeeper.clock import utcnow

    return utcnow()


# -- jobs -------------------------------------------------------------------
def _job_record(job: Any, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The job's fields with its schedule in words next to ``schedule_kind``."""
    out: dict[str, Any] = {}
    fields = {f.name: getattr(job, f.name) for f in dataclasses.fields(job)}
    for key, value in {**fields, **(extra or {})}.items():
        out[key] = value
        if key == "schedule_kind":
            out["schedule"] = job.schedule.describe()
    return out


def _job_values(args: argparse.Namespace) -> dict[str, Any]:
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
        values["name"] = args.name.strip() or None
    if args.at is not None:
        values["run_at"] = _aware(args.at, args.timezone)
    return values


def _aware(at: dt.datetime, timezone: str | None) -> dt.datetime:
    """``--at`` without an offset is a wall-clock time in ``--timezone`` (default UTC)."""
    if at.utcoffset() is not None:
        return at
    from cronkeeper.schedule.cron import validate_timezone

    with options_named():
        return validate_timezone(timezone or "UTC").localize(at)


def jobs_list(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.models import ScheduledJob
    from cronkeeper.repo import jobs as jobs_repo

    active = {"active": True, "paused": False}.get(args.state)
    with database(settings) as conn:
        rows = jobs_repo.list_jobs(conn, customer_id=args.customer, brand_id=args.brand, is_active=active,
                                   job_type=args.type, search=args.search, limit=args.limit)  # fmt: skip
    out = [_job_record(ScheduledJob.from_row(r), {"brand_name": r["brand_name"]}) for r in rows]
    emit(args, out, JOB_COLUMNS)
    return 0


def jobs_show(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper import jobs

    with database(settings) as conn:
        job = jobs.get_job(conn, args.id)
    emit(args, _job_record(job))
    return 0


def jobs_create(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper import jobs
    from cronkeeper.repo import brands

    values = _job_values(args)
    if not any(k in values for k in ("cron_expression", "interval_seconds", "run_at")):
        raise ValidationError("a job needs a schedule: --cron, --interval or --at", field="schedule")
    values["is_active"] = not args.paused
    with database(settings) as conn, options_named():
        brand = brands.get_brand(conn, args.brand)
        if brand is None:
            raise NotFound(f"no brand {args.brand}", field="--brand")
        values.update(brand_id=brand.id, customer_id=brand.customer_id)
        job = jobs.create_job(conn, values, _now())
    emit(args, _job_record(job))
    return 0


def jobs_update(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper import jobs

    changes = _job_values(args)
    if not changes:
        raise ValidationError("nothing to change: give at least one option (see --help)", )
    with database(settings) as conn, options_named():
        job = jobs.update_job(conn, args.id, changes, _now())
    emit(args, _job_record(job))
    return 0


def jobs_trigger(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper import jobs

    with database(settings) as conn:
        run = jobs.trigger_job(conn, args.id, _now())
    emit(args, run)
    return 0


def _set_active(active: bool) -> Callable[[argparse.Namespace, Settings], int]:
    def command(args: argparse.Namespace, settings: Settings) -> int:
        from cronkeeper import jobs

        with database(settings) as conn:
            job = jobs.set_active(conn, args.id, active, _now())
        emit(args, _job_record(job))
        return 0

    return command


def jobs_delete(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper import jobs

    with database(settings) as conn:
        jobs.delete_job(conn, args.id)
    emit(args, {"deleted": str(args.id)})
    return 0


# -- runs -------------------------------------------------------------------
def runs_list(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper import jobs
    from cronkeeper.repo import runs as runs_repo

    with database(settings) as conn:
        if args.job is not None:
            jobs.get_job(conn, args.job)  # an unknown job is an error, not an empty list
        rows = runs_repo.list_runs(conn, job_id=args.job, brand_id=args.brand, customer_id=args.customer,
                                   status=args.status, limit=args.limit)  # fmt: skip
    emit(args, rows, RUN_COLUMNS)
    return 0


def _run_command(action: str) -> Callable[[argparse.Namespace, Settings], int]:
    """``show``, ``cancel`` or ``retry`` one run through ``jobs.get_run``/``cancel_run``/``retry_run``."""

    def command(args: argparse.Namespace, settings: Settings) -> int:
        from cronkeeper import jobs

        with database(settings) as conn:
            if action == "show":
                run = jobs.get_run(conn, args.id)
            elif action == "cancel":
                run = jobs.cancel_run(conn, args.id, _now())
            else:
                run = jobs.retry_run(conn, args.id, _now())
        emit(args, run)
        return 0

    return command


# -- brands and customers -----------------------------------------------------
def brands_list(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.repo import brands

    with database(settings) as conn:
        rows = brands.list_brands(conn, customer_id=args.customer, search=args.search, limit=args.limit)
    emit(args, rows, BRAND_COLUMNS)
    return 0


def _brand(conn: Any, brand_id: UUID) -> Any:
    from cronkeeper.repo import brands

    brand = brands.get_brand(conn, brand_id)
    if brand is None:
        raise NotFound(f"no brand {brand_id}")
    return brand


def brands_show(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        emit(args, _brand(conn, args.id))
    return 0


def brands_create(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.repo import brands, customers

    name = _text(args.name, "--name")
    with database(settings) as conn:
        if customers.get_customer(conn, args.customer) is None:
            raise NotFound(f"no customer {args.customer}", field="--customer")
        brand = brands.insert_brand(conn, args.customer, name, args.aliases or [], args.competitors or [])
    emit(args, brand)
    return 0


def brands_update(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.repo import brands

    if args.name is None and args.aliases is None and args.competitors is None:
        raise ValidationError("nothing to change: give --name, --aliases or --competitors", )
    name = None if args.name is None else _text(args.name, "--name")
    with database(settings) as conn:
        old = _brand(conn, args.id)
        brand = brands.update_brand(conn, args.id, name or old.name,
                                    old.aliases if args.aliases is None else args.aliases,
                                    old.competitors if args.competitors is None else args.competitors)  # fmt: skip
    emit(args, brand)
    return 0


def brands_delete(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.repo import brands

    with database(settings) as conn:
        if not brands.delete_brand(conn, args.id):
            raise NotFound(f"no brand {args.id}")
    emit(args, {"deleted": str(args.id)})
    return 0


def customers_list(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.repo import customers

    with database(settings) as conn:
        emit(args, customers.list_customers(conn, limit=args.limit), CUSTOMER_COLUMNS)
    return 0


def customers_create(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.repo import customers

    name = _text(args.name, "--name")
    with database(settings) as conn:
        emit(args, customers.insert_customer(conn, name))
    return 0


# -- parser -------------------------------------------------------------------
def _leaf(group: argparse._SubParsersAction, name: str, func: Callable, help_: str) -> argparse.ArgumentParser:
    p = group.add_parser(name, help=help_, description=help_)
    p.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    p.set_defaults(func=func)
    return p


def _values(cls: type[enum.Enum]) -> list[str]:
    return [m.value for m in cls]


def _limit(p: argparse.ArgumentParser, default: int) -> None:
    p.add_argument("--limit", type=whole(1, MAX_LIMIT), default=default,
                   help=f"at most this many rows (1-{MAX_LIMIT}, default {default})")  # fmt: skip


def _job_options(p: argparse.ArgumentParser, *, create: bool) -> None:
    if create:
        p.add_argument("--brand", metavar="BRAND_ID", required=True, type=uuid_arg, help="the job's customer is the brand's")
    p.add_argument("--type", choices=_values(JobType), required=create, help="job type")
    p.add_argument("--name", help="label ('' clears it)")
    p.add_argument("--cron", metavar="EXPR", help="cron expression (5 fields or @daily ...), in --timezone")
    p.add_argument("--timezone", metavar="ZONE", help="IANA time zone for --cron and --at (default UTC)")
    p.add_argument("--interval", metavar="SECONDS", type=whole(1), help="every N seconds")
    p.add_argument("--jitter", metavar="SECONDS", type=whole(0), help="delay each interval run by up to N s")
    p.add_argument("--at", metavar="ISO_TIME", type=iso_time, help="run once then (no offset: in --timezone)")
    p.add_argument("--metadata", metavar="JSON", type=json_object, help="JSON object (collectors, output_format)")
    p.add_argument("--max-retries", metavar="N", type=whole(0))
    p.add_argument("--retry-delay", metavar="SECONDS", type=whole(0), help="before the first retry")
    p.add_argument("--timeout", "--timeout-seconds", dest="timeout", metavar="SECONDS", type=whole(1))
    p.add_argument("--overlap-policy", "--overlap", dest="overlap_policy", choices=_values(OverlapPolicy))
    p.add_argument("--misfire-policy", "--misfire", dest="misfire_policy", choices=_values(MisfirePolicy))
    if create:
        p.add_argument("--paused", action="store_true", help="create it paused")


def _register_jobs(sub: argparse._SubParsersAction) -> None:
    jobs = sub.add_parser("jobs", help="scheduled jobs").add_subparsers(dest="jobs_command", required=True)
    p = _leaf(jobs, "list", jobs_list, "jobs, newest first")
    p.add_argument("--customer", type=uuid_arg)
    p.add_argument("--brand", type=uuid_arg)
    p.add_argument("--type", choices=_values(JobType))
    p.add_argument("--state", choices=("active", "paused"))
    p.add_argument("--search", help="part of the brand's name")
    _limit(p, 50)
    for name, func, help_ in (
        ("show", jobs_show, "one job"), ("trigger", jobs_trigger, "queue a manual run, due now"),
        ("pause", _set_active(False), "stop scheduling"), ("resume", _set_active(True), "schedule again"),
        ("delete", jobs_delete, "delete the job and its runs"),
    ):  # fmt: skip
        _leaf(jobs, name, func, help_).add_argument("id", metavar="JOB_ID", type=uuid_arg)
    _job_options(_leaf(jobs, "create", jobs_create, "create a job"), create=True)
    p = _leaf(jobs, "update", jobs_update, "change the fields given (a new schedule replaces the old one)")
    p.add_argument("id", metavar="JOB_ID", type=uuid_arg)
    _job_options(p, create=False)


def _register_runs(sub: argparse._SubParsersAction) -> None:
    runs = sub.add_parser("runs", help="job runs").add_subparsers(dest="runs_command", required=True)
    p = _leaf(runs, "list", runs_list, "runs, newest first")
    p.add_argument("--job", type=uuid_arg)
    p.add_argument("--brand", type=uuid_arg)
    p.add_argument("--customer", type=uuid_arg)
    p.add_argument("--status", choices=_values(RunStatus))
    _limit(p, 50)
    for action, help_ in (
        ("show", "one run"), ("cancel", "cancel a pending run (a running one stops at its next checkpoint)"),
        ("retry", "queue a new attempt of a failed, partial, cancelled or skipped run"),
    ):  # fmt: skip
        _leaf(runs, action, _run_command(action), help_).add_argument("id", metavar="RUN_ID", type=whole(1))
    try:  # runs export lives with the exports; absent, the rest still works
        from cronkeeper import exports
    except ImportError:
        return
    register_export = getattr(exports, "register_cli", None)
    if register_export is not None:
        register_export(runs)


def _register_brands(sub: argparse._SubParsersAction) -> None:
    brands = sub.add_parser("brands", help="brands").add_subparsers(dest="brands_command", required=True)
    p = _leaf(brands, "list", brands_list, "brands by name")
    p.add_argument("--customer", type=uuid_arg)
    p.add_argument("--search", help="part of the name")
    _limit(p, 100)
    for name, func, help_ in (
        ("show", brands_show, "one brand"),
        ("delete", brands_delete, "delete the brand with its queries, jobs and runs"),
    ):  # fmt: skip
        _leaf(brands, name, func, help_).add_argument("id", metavar="BRAND_ID", type=uuid_arg)
    create = _leaf(brands, "create", brands_create, "create a brand")
    create.add_argument("--customer", required=True, type=uuid_arg)
    create.add_argument("--name", required=True)
    update = _leaf(brands, "update", brands_update, "change the fields given")
    update.add_argument("id", metavar="BRAND_ID", type=uuid_arg)
    update.add_argument("--name")
    for p in (create, update):
        p.add_argument("--aliases", type=names, help="comma-separated ('' clears them)")
        p.add_argument("--competitors", type=names, help="comma-separated ('' clears them)")

    customers = sub.add_parser("customers", help="customers").add_subparsers(
        dest="customers_command", required=True
    )
    _limit(_leaf(customers, "list", customers_list, "customers by name"), 100)
    _leaf(customers, "create", customers_create, "create a customer").add_argument("--name", required=True)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``jobs``, ``runs``, ``brands`` and ``customers`` to the ``cronkeeper`` command."""
    _register_jobs(sub)
    _register_runs(sub)
    _register_brands(sub)
