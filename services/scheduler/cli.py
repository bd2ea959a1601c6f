"""``cronkeeper scheduler [--once]``: run the scheduler loop until stopped, or one tick.

``--once`` applies any pending migration, re-plans stored cron slots if the
time-zone data changed (as every start does), ticks once, prints the
``TickResult`` as JSON and exits 0. Without it, the loop serves until
SIGTERM/SIGINT, waiting for the database first (``service_dsn``).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from cronkeeper.db import prepared_dsn, service_dsn
from cronkeeper.logs import setup_logging
from cronkeeper.services.scheduler.loop import SchedulerLoop
from cronkeeper.settings import Settings
from cronkeeper.signals import stop_event


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scheduler", help="turn due jobs into runs (polls; Ctrl-C stops)")
    p.add_argument("--once", action="store_true", help="one tick, print its counts, exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    setup_logging("scheduler", settings.log_level, settings.log_format)
    if args.once:
        scheduler = SchedulerLoop(prepared_dsn(settings), settings)
        scheduler.start_up()
        result = scheduler.run_once()
        scheduler.close()
        print(json.dumps(asdict(result)))
        return 0
    stop = stop_event()
    dsn = service_dsn(settings, stop, "scheduler")
    if dsn is not None:
        SchedulerLoop(dsn, settings).serve(stop)
    return 0
