"""``cronkeeper worker [--once] [--concurrency N] [--isolation thread|process]``.

Exits 0 when stopped, 75 when it recycled itself to be restarted (``guard.py``, docs/reliability.md)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import asdict

from cronkeeper.db import prepared_dsn, service_dsn
from cronkeeper.errors import ValidationError
from cronkeeper.logs import setup_logging
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from cronkeeper.signals import stop_event


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="claim and execute pending runs (Ctrl-C stops gracefully)")
    p.add_argument("--once", action="store_true", help="drain what is due now, then exit")
    p.add_argument("--concurrency", type=int, default=None, help="runs executed at once")
    p.add_argument(
        "--prefetch", type=int, default=0,
        help="runs claimed beyond free executors (raise for many short runs; default 0)",
    )
    p.add_argument(
        "--isolation", choices=("thread", "process"), default=None,
        help="run each handler in a worker thread (default) or in a child process of its own, so a crash fails "
        "only its run (or CRONKEEPER_WORKER_ISOLATION)",
    )  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.concurrency is not None and args.concurrency < 1:
        raise ValidationError("--concurrency must be at least 1", field="concurrency")
    if args.prefetch < 0:
        raise ValidationError("--prefetch must be 0 or more", field="prefetch")
    if args.isolation is not None:
        settings = dataclasses.replace(settings, worker_isolation=args.isolation)
    setup_logging("worker", settings.log_level, settings.log_format)
    stop = None if args.once else stop_event()
    dsn = prepared_dsn(settings) if stop is None else service_dsn(settings, stop, "worker")
    if dsn is None:
        return 0  # stopped while waiting for the database
    worker = Worker(dsn, settings, concurrency=args.concurrency, prefetch=args.prefetch)
    try:
        if stop is None:
            print(json.dumps(asdict(worker.run_once())))
        else:
            worker.serve(stop)
    finally:
        worker.close()
    return worker.exit_code  # 75 (RECYCLE_EXIT_CODE): it recycled itself, restart it (services/worker/guard.py)
