"""``make run``: start the whole stack on this machine and print where it is.

Uses ``DATABASE_URL`` when set, else the embedded PostgreSQL; applies the
migrations; makes an admin token; then runs the API, the scheduler and two
workers under supervisor (``ops/supervisord.conf``) until Ctrl-C, when it
stops them cleanly.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from cronkeeper.cli import prepared_dsn
from cronkeeper.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def make_admin_token(dsn: str) -> str | None:
    try:
        from cronkeeper.db import connect
        from cronkeeper.tokens import create_token
    except ImportError:
        return None
    with connect(dsn, autocommit=True) as conn:
        return create_token(conn, name=f"make-run-{int(time.time())}", role="admin").secret


def main() -> int:
    settings = Settings.from_env()
    dsn = prepared_dsn(settings)
    env = dict(os.environ)
    if not settings.database_url:
        env["DATABASE_URL"] = dsn  # every process shares the one embedded server
    host = env.get("CRONKEEPER_API_HOST", "127.0.0.1")
    port = env.get("CRONKEEPER_API_PORT", "8000")
    env.setdefault("CRONKEEPER_API_HOST", host)
    env.setdefault("CRONKEEPER_API_PORT", port)
    token = make_admin_token(dsn)
    bindir = Path(sys.executable).parent
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    conf = ROOT / "ops" / "supervisord.conf"
    logdir = ROOT / "var" / "log"
    logdir.mkdir(parents=True, exist_ok=True)
    env.setdefault("CRONKEEPER_HOME", str(ROOT))
    if conf.exists() and shutil.which("supervisord", path=env["PATH"]):
        cmd = [str(bindir / "supervisord"), "-n", "-c", str(conf)]
    else:  # no supervisor config: plain child processes
        cmd = None
    print(f"database: {dsn}")
    print(f"admin UI: http://{host}:{port}/admin/scheduled-jobs")
    print(f"API:      http://{host}:{port}/schema")
    if token:
        print(f"token:    {token}   (admin; shown once)")
    print(f"logs:     {logdir}   Ctrl-C stops everything", flush=True)
    if cmd:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGTERM)
            return proc.wait()
    exe = str(bindir / "cronkeeper")
    procs = [
        subprocess.Popen([exe, "api", "--host", host, "--port", port], env=env),
        subprocess.Popen([exe, "scheduler"], env=env),
        subprocess.Popen([exe, "worker"], env=env),
        subprocess.Popen([exe, "worker"], env=env),
    ]
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
