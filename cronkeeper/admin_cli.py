"""``cronkeeper jobs|runs|brands|customers``: the admin API's operations from a shell.

Readable tables by default, ``--json`` for scripts (one JSON document on
stdout). Every command goes through the same service functions as the API
(``cronkeeper.jobs``, ``cronkeeper.repo``), so validation and rules are the
same; bad input exits 2 with one line on stderr naming the field.
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

from cronkeeper.errors import NotFound, ValidationError
from cronkeeper.settings import Settings

JOB_COLUMNS = ("id", "name", "brand_name", "job_type", "schedule", "is_active", "next_run_at")
RUN_COLUMNS = ("id", "scheduled_job_id", "status", "trigger", "scheduled_for", "started_at", "finished_at", "error_message")
BRAND_COLUMNS = ("id", "customer_id", "name", "aliases", "competitors")
CUSTOMER_COLUMNS = ("id", "name", "created_at")


# -- output -----------------------------------------------------------------
def plain(value: Any) -> Any:
    """Models, enums, ids and times as JSON-ready values."""
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    if isinstance(value, dict):
        return json.dumps(value)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def emit(args: argparse.Namespace, data: Any, columns: Sequence[str] | None = None) -> None:
    data = plain(data)
    if args.json:
        print(json.dumps(data, indent=2))
    elif isinstance(data, list):
        cols = list(columns or (data[0].keys() if data else []))
        rows = [[_cell(d.get(c)) for c in cols] for d in data]
        widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(cols)]
        print("  ".join(c.upper().ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
        for r in rows:
            print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", file=sys.stderr)
    else:
        width = max(map(len, data), default=0)
        for key, value in data.items():
            print(f"{key.ljust(width)}  {_cell(value) if not isinstance(value, dict) else json.dumps(value)}")


# -- input ------------------------------------------------------------------
def uuid_arg(field: str) -> Callable[[str], UUID]:
    def parse(text: str) -> UUID:
        try:
            return UUID(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{field} must be a UUID, got {text!r}") from None

    return parse


def json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--metadata is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("--metadata must be a JSON object")
    return value


def iso_time(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--at must be an ISO date-time, got {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


@contextmanager
def database(settings: Settings) -> Iterator[Any]:
    from cronkeeper.cli import prepared_dsn
    from cronkeeper.db import connect

    with connect(prepared_dsn(settings), autocommit=True) as conn:
        yield conn


def _now() -> dt.datetime:
    from cronkeeper.clock import utcnow

    return utcnow()


# -- jobs -------------------------------------------------------------------
def _job_row(job: Any) -> dict[str, Any]:
    out = plain(job)
    out["schedule"] = job.schedule.describe() if hasattr(job, "schedule") else None
    return out


def _job_values(args: argparse.Namespace) -> dict[str, Any]:
    """The job fields named on the command line (only those given)."""
    values: dict[str, Any] = {}
    defining = [o for o in ("cron", "interval", "at") if getattr(args, o) is not None]
    if len(defining) > 1:
        raise ValidationError("give one of --cron, --interval or --at", field="schedule")
    if defining:  # a new schedule replaces every schedule field
        values.update(cron_expression=args.cron, interval_seconds=args.interval, run_at=args.at,
                      jitter_seconds=args.jitter or 0, timezone=args.timezone or "UTC")  # fmt: skip
    elif args.timezone is not None or args.jitter is not None:
        values.update({k: v for k, v in (("timezone", args.timezone), ("jitter_seconds", args.jitter)) if v is not None})
    pairs = {
        "name": args.name, "job_type": args.type, "metadata": args.metadata, "max_retries": args.max_retries,
        "retry_delay": args.retry_delay, "timeout_seconds": args.timeout, "overlap_policy": args.overlap,
        "misfire_policy": args.misfire,
    }  # fmt: skip
    values.update({k: v for k, v in pairs.items() if v is not None})
    return values


def jobs_list(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.repo import jobs as jobs_repo

    active = {"active": True, "paused": False}.get(args.state)
    with database(settings) as conn:
        rows = jobs_repo.list_jobs(conn, customer_id=args.customer, brand_id=args.brand, is_active=active,
                                   job_type=args.type, search=args.search, limit=args.limit)  # fmt: skip
    from cronkeeper.models import ScheduledJob

    out = []
    for r in rows:
        job = ScheduledJob.from_row(r)
        out.append({**_job_row(job), "brand_name": r.get("brand_name")})
    emit(args, out, JOB_COLUMNS)
    return 0


def jobs_show(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper import jobs

    with database(settings) as conn:
        job = jobs.get_job(conn, args.id)
    emit(args, _job_row(job))
    return 0


def jobs_create(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper import jobs
    from cronkeeper.repo import brands

    values = _job_values(args)
    if not any(k in values for k in ("cron_expression", "interval_seconds", "run_at")):
        raise ValidationError("a job needs a schedule: --cron, --interval or --at", field="schedule")
    values["is_active"] = not args.paused
    with database(settings) as conn:
        brand = brands.get_brand(conn, args.brand)
        if brand is None:
            raise NotFound(f"brand {args.brand} not found", field="brand_id")
        values.update(brand_id=brand.id, customer_id=brand.customer_id)
        job = jobs.create_job(conn, values, _now())
    emit(args, _job_row(job))
    return 0


def jobs_update(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper import jobs

    changes = _job_values(args)
    if not changes:
        raise ValidationError("nothing to change: name at least one option", field="options")
    with database(settings) as conn:
        job = jobs.update_job(conn, args.id, changes, _now())
    emit(args, _job_row(job))
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
        emit(args, _job_row(job))
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
    from cronkeeper.repo import runs as runs_repo

    with database(settings) as conn:
        rows = runs_repo.list_runs(conn, job_id=args.job, brand_id=args.brand, customer_id=args.customer,
                                   status=args.status, limit=args.limit)  # fmt: skip
    emit(args, rows, RUN_COLUMNS)
    return 0


def _run_command(action: str) -> Callable[[argparse.Namespace, Settings], int]:
    def command(args: argparse.Namespace, settings: Settings) -> int:
        from cronkeeper import jobs

        with database(settings) as conn:
            if action == "show":
                run = jobs.get_run(conn, args.id)
            else:
                run = getattr(jobs, f"{action}_run")(conn, args.id, _now())
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
        raise NotFound(f"brand {brand_id} not found", field="id")
    return brand


def brands_show(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        emit(args, _brand(conn, args.id))
    return 0


def brands_create(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.repo import brands, customers

    if not args.name.strip():
        raise ValidationError("--name must not be empty", field="name")
    with database(settings) as conn:
        if customers.get_customer(conn, args.customer) is None:
            raise NotFound(f"customer {args.customer} not found", field="customer_id")
        brand = brands.insert_brand(conn, args.customer, args.name.strip(), args.aliases or [], args.competitors or [])
    emit(args, brand)
    return 0


def brands_update(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.repo import brands

    with database(settings) as conn:
        old = _brand(conn, args.id)
        name = old.name if args.name is None else args.name.strip()
        if not name:
            raise ValidationError("--name must not be empty", field="name")
        brand = brands.update_brand(conn, args.id, name, old.aliases if args.aliases is None else args.aliases,
                                    old.competitors if args.competitors is None else args.competitors)  # fmt: skip
    emit(args, brand)
    return 0


def brands_delete(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.repo import brands

    with database(settings) as conn:
        if not brands.delete_brand(conn, args.id):
            raise NotFound(f"brand {args.id} not found", field="id")
    emit(args, {"deleted": str(args.id)})
    return 0


def customers_list(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.repo import customers

    with database(settings) as conn:
        emit(args, customers.list_customers(conn, limit=args.limit), CUSTOMER_COLUMNS)
    return 0


def customers_create(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.repo import customers

    if not args.name.strip():
        raise ValidationError("--name must not be empty", field="name")
    with database(settings) as conn:
        emit(args, customers.insert_customer(conn, args.name.strip()))
    return 0


# -- parser -------------------------------------------------------------------
def _leaf(group: argparse._SubParsersAction, name: str, func: Callable, help_: str, **kw: Any) -> argparse.ArgumentParser:
    p = group.add_parser(name, help=help_, **kw)
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(func=func)
    return p


def _job_options(p: argparse.ArgumentParser, *, create: bool) -> None:
    if create:
        p.add_argument("--brand", required=True, type=uuid_arg("--brand"), help="brand id")
    p.add_argument("--type", choices=("data_collection", "scoring", "data_collection_and_scoring"),
                   required=create, help="job type")  # fmt: skip
    p.add_argument("--name")
    p.add_argument("--cron", help="cron expression (5 fields), with --timezone")
    p.add_argument("--timezone", help="IANA zone for --cron (default UTC)")
    p.add_argument("--interval", type=int, help="every N seconds")
    p.add_argument("--jitter", type=int, help="random delay up to N seconds (with --interval)")
    p.add_argument("--at", type=iso_time, help="run once at this ISO date-time")
    p.add_argument("--metadata", type=json_object, help="JSON object (collectors, webhook, output_format ...)")
    p.add_argument("--max-retries", type=int)
    p.add_argument("--retry-delay", type=int, help="seconds before the first retry")
    p.add_argument("--timeout", type=int, help="seconds a run may take")
    p.add_argument("--overlap", choices=("forbid", "allow", "replace"))
    p.add_argument("--misfire", choices=("run_once", "skip", "run_all"))
    if create:
        p.add_argument("--paused", action="store_true", help="create it paused")


def register(sub: argparse._SubParsersAction) -> None:
    jobs = sub.add_parser("jobs", help="scheduled jobs").add_subparsers(dest="jobs_command", required=True)
    p = _leaf(jobs, "list", jobs_list, "jobs, newest first")
    p.add_argument("--customer", type=uuid_arg("--customer"))
    p.add_argument("--brand", type=uuid_arg("--brand"))
    p.add_argument("--type")
    p.add_argument("--state", choices=("active", "paused"))
    p.add_argument("--search")
    p.add_argument("--limit", type=int, default=50)
    for name, func, help_ in (
        ("show", jobs_show, "one job"), ("trigger", jobs_trigger, "run now (a manual run)"),
        ("pause", _set_active(False), "stop scheduling"), ("resume", _set_active(True), "schedule again"),
        ("delete", jobs_delete, "delete with its runs"),
    ):  # fmt: skip
        _leaf(jobs, name, func, help_).add_argument("id", type=uuid_arg("job id"))
    _job_options(_leaf(jobs, "create", jobs_create, "create a job"), create=True)
    p = _leaf(jobs, "update", jobs_update, "change the fields given")
    p.add_argument("id", type=uuid_arg("job id"))
    _job_options(p, create=False)

    runs = sub.add_parser("runs", help="job runs").add_subparsers(dest="runs_command", required=True)
    p = _leaf(runs, "list", runs_list, "runs, newest first")
    p.add_argument("--job", type=uuid_arg("--job"))
    p.add_argument("--brand", type=uuid_arg("--brand"))
    p.add_argument("--customer", type=uuid_arg("--customer"))
    p.add_argument("--status")
    p.add_argument("--limit", type=int, default=50)
    for action, help_ in (("show", "one run"), ("cancel", "cancel a pending or running run"),
                          ("retry", "run a finished run again")):  # fmt: skip
        _leaf(runs, action, _run_command(action), help_).add_argument("id", type=int)
    from cronkeeper import exports

    register_export = getattr(exports, "register_cli", None)
    if register_export is not None:
        register_export(runs)

    brands = sub.add_parser("brands", help="brands").add_subparsers(dest="brands_command", required=True)
    p = _leaf(brands, "list", brands_list, "brands")
    p.add_argument("--customer", type=uuid_arg("--customer"))
    p.add_argument("--search")
    p.add_argument("--limit", type=int, default=100)
    for name, func in (("show", brands_show), ("delete", brands_delete)):
        _leaf(brands, name, func, f"{name} a brand").add_argument("id", type=uuid_arg("brand id"))
    p = _leaf(brands, "create", brands_create, "create a brand")
    p.add_argument("--customer", required=True, type=uuid_arg("--customer"))
    p.add_argument("--name", required=True)
    p.add_argument("--aliases", type=names, help="comma-separated")
    p.add_argument("--competitors", type=names, help="comma-separated")
    p = _leaf(brands, "update", brands_update, "change a brand")
    p.add_argument("id", type=uuid_arg("brand id"))
    p.add_argument("--name")
    p.add_argument("--aliases", type=names)
    p.add_argument("--competitors", type=names)

    customers = sub.add_parser("customers", help="customers").add_subparsers(dest="customers_command", required=True)
    p = _leaf(customers, "list", customers_list, "customers")
    p.add_argument("--limit", type=int, default=100)
    p = _leaf(customers, "create", customers_create, "create a customer")
    p.add_argument("--name", required=True)
