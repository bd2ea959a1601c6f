"""``make run``: start the whole stack on this machine and print where it is.

Uses ``DATABASE_URL`` when set, else the embedded PostgreSQL; applies the
migrations; makes an admin token; then runs the API, the scheduler and two
workers under supervisor (``ops/supervisord.conf``) until Ctrl-C (or SIGTERM,
SIGHUP), when it stops them cleanly (and the embedded server too, if this command started it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cronkeeper import customers, demo
from cronkeeper.clock import SystemClock
from cronkeeper.db import connect, embedded_running, prepared_dsn, stop_embedded
from cronkeeper.settings import Settings
from cronkeeper.tokens import create_token

ROOT = Path(__file__).resolve().parents[1]


def make_admin_token(dsn: str) -> str:
    with connect(dsn, autocommit=True) as conn:
        return create_token(conn, name=f"make-run-{int(time.time())}", role="admin").secret


DEMO_VAR = "CRONKEEPER_DEMO"  # 1: load the demo on an empty database, 0: never ask


def offer_demo(dsn: str, env: dict[str, str], ask=input, interactive: bool | None = None) -> str:
    """On an empty database (no customers), load the offline demo if asked; returns what was said.

    ``CRONKEEPER_DEMO=1`` loads it without asking and ``=0`` never does; otherwise a
    terminal is asked (default yes) and anything else is told how to load it later.
    """
    with connect(dsn, autocommit=True) as conn:
        if customers.list_customers(conn, limit=1):
            return ""
        choice = env.get(DEMO_VAR, "").strip().lower()
        if choice in ("0", "no", "false"):
            return ""
        if choice not in ("1", "yes", "true"):
            if interactive is None:
                interactive = sys.stdin.isatty()
            if not interactive:
                return ("the database is empty: `make demo` (or CRONKEEPER_DEMO=1 make run) adds a demo "
                        "customer, brands and jobs on the offline sample collector")
            try:
                reply = ask("The database is empty. Load the demo (a customer, 3 brands, jobs on the "
                            "offline sample collector, no API key needed)? [Y/n] ")
            except EOFError:
                reply = "n"
            if reply.strip().lower() not in ("", "y", "yes"):
                return "no demo loaded: `make demo` adds it later"
        result = demo.create_demo(conn, SystemClock().now())
    return (f"demo loaded: customer {result.customer.name!r}, {len(result.brands)} brands, "
            f"{len(result.jobs)} jobs; its first runs complete as soon as a worker starts")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> int:
    # SIGTERM (kill, timeout, a service manager) and SIGHUP (the terminal closed) reach only this
    # process: handled like Ctrl-C, or supervisord, its programs and the database outlive it
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    settings = Settings.from_env()
    embedded = not settings.database_url
    was_running = embedded and embedded_running(settings.data_dir)
    dsn = prepared_dsn(settings)
    try:
        return _serve(dsn, embedded)
    finally:  # however it stopped (a signal, Ctrl-C at the demo question, an error): not left running
        if embedded and not was_running:
            stop_embedded(settings.data_dir)
            print("stopped the embedded PostgreSQL")


def _serve(dsn: str, embedded: bool) -> int:
    """Print where everything is, then run supervisord until it exits or this process is stopped."""
    env = dict(os.environ)
    if embedded:
        env["DATABASE_URL"] = dsn  # every process shares the one embedded server
    env.setdefault("CRONKEEPER_API_HOST", "127.0.0.1")
    env.setdefault("CRONKEEPER_API_PORT", "8000")
    host, port = env["CRONKEEPER_API_HOST"], env["CRONKEEPER_API_PORT"]
    var = Path(env.setdefault("CRONKEEPER_VAR", str(ROOT / "var")))
    (var / "log").mkdir(parents=True, exist_ok=True)
    bindir = Path(sys.executable).parent
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    token = make_admin_token(dsn)
    said = offer_demo(dsn, env)
    if said:
        print(said)
    print(f"database: {dsn}")
    print(f"admin UI: http://{host}:{port}/admin/scheduled-jobs")
    print(f"API:      http://{host}:{port}/schema")
    print(f"token:    {token}   (admin; shown once)")
    print(f"logs:     {var / 'log'}   status: supervisorctl -c ops/supervisord.conf status")
    print("Ctrl-C stops everything", flush=True)
    conf = ROOT / "ops" / "supervisord.conf"
    proc = subprocess.Popen([str(bindir / "supervisord"), "-n", "-c", str(conf)], env=env, cwd=ROOT)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # Ctrl-C reached supervisord too (its process group); it stops the programs
        proc.send_signal(signal.SIGTERM)
        return proc.wait()

if __name__ == "__main__":
    sys.exit(main())
