"""The ``cronkeeper`` command.

Core commands live here (``db``, ``migrate``); each noun has its module
(``cronkeeper.cli.jobs``, ``runs``, ``brands``, ``customers``, ``tokens``), whose
commands call that noun's service in ``cronkeeper``; ``cronkeeper.cli.health``
is the worker's and scheduler's exec probe. The processes add
theirs (``scheduler``, ``worker``, ``api``): each names the module whose
``register`` adds its subcommand. They are loaded by name, so the library never
imports the services statically and a missing optional dependency of one
process only disables that command.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from cronkeeper import audit
from cronkeeper.cli import alerts as alerts_cli
from cronkeeper.cli import audit as audit_cli
from cronkeeper.cli import brands, customers, demo, health, jobs, runs, tokens
from cronkeeper.cli import calendars as calendars_cli
from cronkeeper.db import resolve_dsn, stop_embedded
from cronkeeper.errors import CronkeeperError
from cronkeeper.migrate import migrate
from cronkeeper.settings import Settings

SERVICE_COMMANDS = (
    "cronkeeper.services.scheduler.cli",
    "cronkeeper.services.worker.cli",
    "cronkeeper.api.cli",
)


def _db_url(args: argparse.Namespace, settings: Settings) -> int:
    print(resolve_dsn(settings))
    return 0


def _db_stop(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url:
        print("DATABASE_URL is set: there is no embedded server to stop", file=sys.stderr)
        return 1
    stopped = stop_embedded(settings.data_dir)
    print("stopped the embedded PostgreSQL" if stopped else "the embedded PostgreSQL was not running")
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    result = migrate(resolve_dsn(settings))
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
    for noun in (jobs, runs, brands, customers, tokens, demo, health, audit_cli, alerts_cli, calendars_cli):
        noun.register(sub)
    for module_name in SERVICE_COMMANDS:
        try:
            register: Callable[[argparse._SubParsersAction], None] = importlib.import_module(module_name).register
        except ImportError as exc:  # an optional dependency of that process is missing
            print(f"cronkeeper: warning: {module_name} unavailable: {exc}", file=sys.stderr)
            continue
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status (2 for bad usage or input, one line on stderr)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # bad usage, or --help: return the status rather than leave
        return exc.code if isinstance(exc.code, int) else 0
    try:
        settings = Settings.from_env()
        with audit.acting_as(audit.cli_actor()):  # changes made by this command are the OS user's
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
