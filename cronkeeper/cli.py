"""The ``cronkeeper`` command.

Core commands live here (``db``, ``migrate``) and in ``cronkeeper.commands``
(``jobs``, ``runs``, ``brands``, ``customers``); the services add theirs
(``scheduler``, ``worker``, ``api`` ...) through the ``cronkeeper.commands``
entry point group, so this package never imports them.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import NoReturn

from cronkeeper.errors import CronkeeperError
from cronkeeper.settings import Settings

COMMAND_GROUP = "cronkeeper.commands"


def dsn_for(settings: Settings) -> str:
    from cronkeeper.db import resolve_dsn

    return resolve_dsn(settings)


def prepared_dsn(settings: Settings) -> str:
    """The DSN, with every migration applied (services call this at start-up)."""
    from cronkeeper.migrate import migrate

    dsn = dsn_for(settings)
    migrate(dsn)
    return dsn


def service_dsn(settings: Settings, stop: threading.Event, kind: str) -> str | None:
    """``prepared_dsn`` for a long-running service: wait for the database instead of failing.

    Logs ``waiting_for_database`` and retries with backoff (up to 10 s) until
    the database answers or ``stop`` is set (then returns None). Bad settings
    still fail at once.
    """
    import logging

    from cronkeeper.errors import DatabaseUnavailable

    log = logging.getLogger(f"cronkeeper.{kind}")
    backoff = 0.5
    while True:
        try:
            return prepared_dsn(settings)
        except DatabaseUnavailable as exc:
            log.warning("waiting_for_database", extra={"error": str(exc), "retry_in": backoff})
        if stop.wait(backoff):
            return None
        backoff = min(backoff * 2, 10.0)


def stop_event() -> threading.Event:
    """An event set by SIGTERM or SIGINT, for graceful shutdown."""
    stop = threading.Event()

    def handle(signum, frame):  # noqa: ARG001
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def _db_url(args: argparse.Namespace, settings: Settings) -> int:
    print(dsn_for(settings))
    return 0


def _db_stop(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.db import stop_embedded

    if settings.database_url:
        print("DATABASE_URL is set: there is no embedded server to stop", file=sys.stderr)
        return 1
    stopped = stop_embedded(settings.data_dir)
    print("stopped the embedded PostgreSQL" if stopped else "the embedded PostgreSQL was not running")
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.migrate import migrate

    result = migrate(dsn_for(settings))
    if args.json:
        print(json.dumps({"applied": list(result.applied), "already": result.already}))
    elif result.applied:
        for name in result.applied:
            print(f"applied {name}")
    else:
        print(f"up to date ({result.already} migrations applied)")
    return 0


class _Parser(argparse.ArgumentParser):
    """Bad usage: one line naming the problem (``--help`` shows the rest), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from cronkeeper import commands

    parser = _Parser(prog="cronkeeper", description="Postgres-backed scheduled jobs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db = sub.add_parser("db", help="the database in use").add_subparsers(dest="db_command", required=True)
    db.add_parser("url", help="print the DSN in use (starting the embedded server if needed)").set_defaults(
        func=_db_url
    )
    db.add_parser("stop", help="stop the embedded server").set_defaults(func=_db_stop)
    m = sub.add_parser("migrate", help="apply missing migrations")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=_migrate)
    commands.register(sub)
    for ep in sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        try:
            register: Callable[[argparse._SubParsersAction], None] = ep.load()
        except ImportError as exc:  # a service not installed in this environment
            print(f"cronkeeper: warning: command {ep.name!r} unavailable: {exc}", file=sys.stderr)
            continue
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        return int(args.func(args, settings) or 0)
    except CronkeeperError as exc:
        field = getattr(exc, "field", None)
        named = f"{field}: " if field and field not in str(exc) else ""
        print(f"cronkeeper: error: {named}{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
