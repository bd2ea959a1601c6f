"""The worker's and scheduler's probe: ``cronkeeper health worker|scheduler [--max-age SECONDS]
[--process-id ID] [--hostname H] [--json]``, also runnable as ``python -m cronkeeper.health ...``,
which loads only what the check needs (about a third of the CPU of the full command line:
it matters for an exec probe that runs every few seconds in every pod).

An exec probe for containers: exit 0 when a running process of that kind on
this host (``socket.gethostname()``, the pod's name in Kubernetes) has written
its heartbeat to ``processes`` within ``--max-age`` seconds, else 1 with one
line saying why. ``--process-id`` checks that one process instead; ``--hostname
''`` any host. It never migrates and never starts the embedded database: a
probe must not change what it observes. Heartbeats are written with the
process's own clock, and this command runs on the same host, so both ages are
read from the same clock.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from collections.abc import Sequence

import psycopg
from psycopg.rows import dict_row

from cronkeeper.clock import utcnow
from cronkeeper.db import embedded_running, resolve_dsn
from cronkeeper.errors import CronkeeperError, ValidationError
from cronkeeper.repo import processes
from cronkeeper.settings import Settings

KINDS = ("worker", "scheduler")
CONNECT_TIMEOUT_SECONDS = 5
# the worker beats every min(lease / 3, 5) s; the scheduler once per tick, at
# least every poll interval: a probe allows three missed beats (and 30 s at least)
MIN_MAX_AGE_SECONDS = 30.0
UNHEALTHY = 1


def default_max_age(kind: str, settings: Settings) -> float:
    """Seconds a heartbeat of ``kind`` may be old before the process counts as stuck."""
    interval = min(settings.lease_seconds / 3, 5.0) if kind == "worker" else settings.scheduler_poll_seconds
    return max(MIN_MAX_AGE_SECONDS, 3 * interval)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The probe's arguments (``cronkeeper health`` and ``python -m cronkeeper.health`` share them)."""
    p.add_argument("kind", choices=KINDS, help="the process to check")
    p.add_argument(
        "--max-age", type=float, default=None, metavar="SECONDS",
        help="oldest acceptable heartbeat (default: 3 beats, at least 30 s; scheduler 3 poll intervals)",
    )  # fmt: skip
    p.add_argument("--process-id", default=None, help="check this process (see `processes`) instead of this host's")
    p.add_argument(
        "--hostname", default=None,
        help="the host whose process is checked (default: this host's name; '' for any host)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")


def _dsn(settings: Settings) -> str | None:
    """The database to read, never starting one: DATABASE_URL, else a running embedded server."""
    if settings.database_url:
        return resolve_dsn(settings)
    try:
        running = embedded_running(settings.data_dir)
    except (ImportError, OSError, CronkeeperError):
        running = False
    return resolve_dsn(settings) if running else None


def _report(args: argparse.Namespace, healthy: bool, message: str, age: float | None, max_age: float) -> int:
    if args.json:
        print(json.dumps({"kind": args.kind, "healthy": healthy, "age_seconds": age, "max_age_seconds": max_age,
                          "message": message}))  # fmt: skip
    else:
        print(message, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else UNHEALTHY


def check(args: argparse.Namespace, settings: Settings) -> int:
    """0 when the heartbeat is fresh enough; 1 (one line on stderr) when stale, absent or unreadable."""
    max_age = default_max_age(args.kind, settings) if args.max_age is None else args.max_age
    if max_age <= 0:
        raise ValidationError("--max-age must be more than 0 seconds", field="max-age")
    if args.hostname is not None:
        hostname = args.hostname or None
    else:
        hostname = None if args.process_id else socket.gethostname()
    where = f"process {args.process_id}" if args.process_id else (f"host {hostname}" if hostname else "any host")
    dsn = _dsn(settings)
    if dsn is None:
        return _report(args, False, "unhealthy: DATABASE_URL is not set and no embedded database runs", None, max_age)
    try:
        # one statement, never prepared: safe through a transaction pooler too
        with psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS, prepare_threshold=None,
                             row_factory=dict_row) as conn:  # fmt: skip
            beat = processes.last_beat(conn, args.kind, hostname=hostname, process_id=args.process_id)
    except psycopg.Error as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return _report(args, False, f"unhealthy: cannot read heartbeats: {detail}", None, max_age)
    if beat is None:
        return _report(args, False, f"unhealthy: no running {args.kind} has beaten on {where}", None, max_age)
    age = round((utcnow() - beat["heartbeat_at"]).total_seconds(), 3)
    healthy = age <= max_age
    verdict = "healthy" if healthy else "unhealthy"
    message = f"{verdict}: {args.kind} {beat['id']} beat {age:.1f} s ago (max {max_age:g} s)"
    return _report(args, healthy, message, age, max_age)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cronkeeper.health``: 0 healthy, 1 unhealthy, 2 bad usage or settings."""
    parser = argparse.ArgumentParser(prog="python -m cronkeeper.health", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    try:
        return check(args, Settings.from_env())
    except CronkeeperError as exc:
        print(f"cronkeeper health: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
