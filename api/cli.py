"""``cronkeeper api [--host H] [--port P] [--workers N]``: serve the admin API.

The token commands are ``cronkeeper tokens`` (``cronkeeper.cli.tokens``).
"""

from __future__ import annotations

import argparse
import os
import sys

from cronkeeper import tokens
from cronkeeper.api import process_app, processes
from cronkeeper.db import prepared_dsn
from cronkeeper.errors import ValidationError
from cronkeeper.logs import setup_logging
from cronkeeper.settings import Settings

WORKERS_VAR = "CRONKEEPER_API_WORKERS"
# One process per core. The hot reads run on each process's event loop (api.app,
# IN_LOOP), so a process serves one of them at a time and the processes overlap
# with each other and with PostgreSQL (docs/benchmarks.md).
DEFAULT_WORKERS = max(1, os.cpu_count() or 1)
MAX_WORKERS = 64


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("api", help="serve the admin API (migrates first; Ctrl-C stops)")
    p.add_argument("--host", default=os.environ.get("CRONKEEPER_API_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CRONKEEPER_API_PORT", "8000")))
    p.add_argument(
        "--workers", type=int, default=os.environ.get(WORKERS_VAR, str(DEFAULT_WORKERS)),
        help=f"API processes sharing the port (default {DEFAULT_WORKERS}, or {WORKERS_VAR})",
    )  # fmt: skip
    p.set_defaults(func=serve)


def serve(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate once, then run ``args.workers`` uvicorn processes of ``app_from_env`` on one port."""
    import uvicorn  # heavy (~0.1 s): every `cronkeeper` command builds this parser, only `api` serves

    if not 0 < args.port < 65536:
        raise ValidationError("--port must be between 1 and 65535", field="port")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise ValidationError(f"--workers must be between 1 and {MAX_WORKERS}", field="workers")
    tokens.cache_seconds(os.environ)  # a bad value fails here, not in every worker
    setup_logging("api", settings.log_level, settings.log_format)
    # the workers are fresh interpreters (spawned): they get the DSN and our pid through the environment
    os.environ[process_app.DSN_VAR] = prepared_dsn(settings)
    os.environ[process_app.PARENT_VAR] = str(os.getpid()) if args.workers > 1 else ""
    # log_config=None keeps our JSON logging; uvicorn handles SIGTERM/SIGINT itself
    config = {"app": "cronkeeper.api.process_app:app_from_env", "factory": True, "log_config": None, "access_log": False}
    if args.workers > 1 and processes.balanced_by_kernel():
        try:
            return processes.Supervisor(args.workers, args.host, args.port, config).run()
        except OSError as exc:
            print(f"cronkeeper api: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    uvicorn.run(**config, workers=args.workers, host=args.host, port=args.port)
    return 0
