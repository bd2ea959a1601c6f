"""``cronkeeper demo``: demo data that runs offline (see ``cronkeeper.demo``)."""

from __future__ import annotations

import argparse
import json
import os

from cronkeeper import demo
from cronkeeper.cli.context import database, now
from cronkeeper.cli.output import plain
from cronkeeper.settings import Settings


def _admin_url() -> str:
    host = os.environ.get("CRONKEEPER_API_HOST", "127.0.0.1")
    port = os.environ.get("CRONKEEPER_API_PORT", "8000")
    return f"http://{host}:{port}/admin/scheduled-jobs"


def demo_command(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as conn:
        result = demo.create_demo(conn, now())
    if args.json:
        print(json.dumps(plain({
            "customer": result.customer, "brands": result.brands, "jobs": result.jobs,
            "runs": result.runs, "created": result.created,
        })))  # fmt: skip
        return 0
    if not result.created:
        print(f"the demo is already there (customer {result.customer.name!r}): nothing new created")
    for line in result.created:
        print(f"created {line}")
    for run in result.runs:
        print(f"queued run {run.id} (job {run.scheduled_job_id}): a worker completes it within seconds")
    print(f"{len(result.brands)} brands, {len(result.jobs)} jobs, all on the offline 'sample' collector")
    print(f"admin UI: {_admin_url()}   (with `make run` going; it prints an admin token)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "demo", help="create a demo customer, brands, queries and jobs that run offline (idempotent)"
    )
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=demo_command)
