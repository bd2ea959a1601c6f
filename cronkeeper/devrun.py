"""``make run``: start the whole stack on this machine and print where it is.

Uses ``DATABASE_URL`` when set, else the embedded PostgreSQL; applies the
migrations; makes an admin token; then runs the API, the scheduler and two
workers under supervisor (``ops/supervisord.conf``) until Ctrl-C, when it
stops them cleanly (and the embedded server too, if this command started it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cronkeeper.db import connect, embedded_running, prepared_dsn, stop_embedded
from cronkeeper.settings import Settings
from cronkeeper.tokens import create_token

ROOT = Path(__file__).resolve().parents[1]


def make_admin_token(dsn: str) -> str:
    with connect(dsn, autocommit=True) as conn:
        return create_token(conn, name=f"make-run-{int(time.time())}", role="admin").secret


def main() -> int:
    settings = Settings.from_env()
    embedded = not settings.database_url
    was_running = embedded and embedded_running(settings.data_dir)
    dsn = prepared_dsn(settings)
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
    print(f"database: {dsn}")
    print(f"admin UI: http://{host}:{port}/admin/scheduled-jobs")
    print(f"API:      http://{host}:{port}/schema")
    print(f"token:    {token}   (admin; shown once)")
    print(f"logs:     {var / 'log'}   status: supervisorctl -c ops/supervisord.conf status")
    print("Ctrl-C stops everything", flush=True)
    conf = ROOT / "ops" / "supervisord.conf"
    proc = subprocess.Popen([str(bindir / "supervisord"), "-n", "-c", str(conf)], env=env, cwd=ROOT)
    try:
        code = proc.wait()
    except KeyboardInterrupt:  # the terminal sent SIGINT to supervisord too; it stops the programs
        proc.send_signal(signal.SIGTERM)
        code = proc.wait()
    if embedded and not was_running:
        stop_embedded(settings.data_dir)
        print("stopped the embedded PostgreSQL")
    return code


if __name__ == "__main__":
    sys.exit(main())
