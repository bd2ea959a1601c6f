"""``cronkeeper scheduler [--once]``."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from cronkeeper.db import prepared_dsn, service_dsn
from cronkeeper.logs import setup_logging
from cronkeeper.settings import Settings
from cronkeeper.signals import stop_event


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scheduler", help="turn due jobs into runs (polls; Ctrl-C stops)")
    p.add_argument("--once", action="store_true", help="one tick, print its counts, exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.services.scheduler.loop import Scheduler

    setup_logging("scheduler", settings.log_level, settings.log_format)
    if args.once:
        scheduler = Scheduler(prepared_dsn(settings), settings)
        result = scheduler.run_once()
        scheduler.close()
        print(json.dumps(asdict(result)))
        return 0
    stop = stop_event()
    dsn = service_dsn(settings, stop, "scheduler")
    if dsn is not None:
        Scheduler(dsn, settings).serve(stop)
    return 0
