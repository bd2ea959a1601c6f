"""``cronkeeper api [--host H] [--port P] [--workers N]``: serve the admin API.

The token commands are ``cronkeeper tokens`` (``cronkeeper.cli.tokens``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from cronkeeper import tokens
from cronkeeper.api import limits, process_app, processes
from cronkeeper.db import service_dsn
from cronkeeper.errors import ValidationError
from cronkeeper.logs import setup_logging
from cronkeeper.settings import Settings
from cronkeeper.signals import stop_event

WORKERS_VAR = "CRONKEEPER_API_WORKERS"
MAX_WORKERS = 64


def default_workers() -> int:
    """One process per usable core: the CPUs we may run on, capped by the container's
    CPU quota (``processes.usable_cpus``). A process's handlers share one interpreter
    (its GIL), so the processes, not threads, are what overlap with each other and
    with PostgreSQL (docs/benchmarks.md)."""
    return min(MAX_WORKERS, processes.usable_cpus())


def register(sub: argparse._SubParsersAction) -> None:
    default = default_workers()
    p = sub.add_parser("api", help="serve the admin API (migrates first; Ctrl-C stops)")
    p.add_argument("--host", default=os.environ.get("CRONKEEPER_API_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CRONKEEPER_API_PORT", "8000")))
    p.add_argument(
        "--workers", type=int, default=os.environ.get(WORKERS_VAR, str(default)),
        help=f"API processes sharing the port (default: usable CPUs within the cgroup quota, here {default}; "
        f"or {WORKERS_VAR})",
    )  # fmt: skip
    p.set_defaults(func=serve)


def _wait_for_compatible_schema(settings: Settings) -> str | None:
    """``prepared_dsn``, but a schema too new for this code is waited out, not exited on
    (``cronkeeper.db.service_dsn``); SIGTERM/SIGINT meanwhile stop it, then uvicorn has them."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return service_dsn(settings, stop_event(), "api", wait_for_database=False)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate once, then run ``args.workers`` uvicorn processes of ``app_from_env`` on one port."""
    import uvicorn  # heavy (~0.1 s): every `cronkeeper` command builds this parser, only `api` serves

    if not 0 < args.port < 65536:
        raise ValidationError("--port must be between 1 and 65535", field="port")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise ValidationError(f"--workers must be between 1 and {MAX_WORKERS}", field="workers")
    tokens.cache_seconds(os.environ)  # a bad value fails here, not in every worker
    limits.RequestLimits.from_env(os.environ)
    server_limits = limits.ServerLimits.from_env(os.environ)
    setup_logging("api", settings.log_level, settings.log_format)
    # the workers are fresh interpreters (spawned): they get the DSN and our pid through the environment
    dsn = _wait_for_compatible_schema(settings)
    if dsn is None:
        return 0  # stopped while its schema was too new for it (a rolling upgrade)
    os.environ[process_app.DSN_VAR] = dsn
    os.environ[process_app.PARENT_VAR] = str(os.getpid()) if args.workers > 1 else ""
    # log_config=None keeps our JSON logging; uvicorn handles SIGTERM/SIGINT itself
    config = {"app": "cronkeeper.api.process_app:app_from_env", "factory": True, "log_config": None, "access_log": False}
    config.update(server_limits.uvicorn_options())  # idle, slow and surplus connections cut (api/protocol.py)
    if args.workers > 1 and processes.balanced_by_kernel():
        try:
            return processes.Supervisor(args.workers, args.host, args.port, config).run()
        except OSError as exc:
            print(f"cronkeeper api: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    uvicorn.run(**config, workers=args.workers, host=args.host, port=args.port)
    return 0
