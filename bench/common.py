"""Shared helpers for the benchmark scripts (not part of the test suite).

Each script gets a fresh database: on ``BENCH_DATABASE_URL``'s server when set,
else on a throw-away embedded PostgreSQL (the default users run on). Results
are printed as a small table and appended to ``bench/results/<script>.md``
with the machine, the load and the command that produced them;
docs/benchmarks.md summarises them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cronkeeper.db import throwaway_embedded  # noqa: E402
from cronkeeper.migrate import migrate  # noqa: E402


@contextmanager
def server():
    """A DSN for a server where the benchmark may create databases."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        yield url
        return
    with throwaway_embedded("cronkeeper-bench-") as dsn:
        yield dsn


@contextmanager
def fresh_database(server_dsn: str, *, migrated: bool = True, prefix: str = "ck_bench_"):
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = make_conninfo(server_dsn, dbname=name)
    try:
        if migrated:
            migrate(dsn)
        yield dsn
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def machine() -> str:
    cpus = os.cpu_count()
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = 0
    pg = "embedded PostgreSQL" if not os.environ.get("BENCH_DATABASE_URL") else "BENCH_DATABASE_URL"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.system()} {platform.machine()}, {cpus} cores, {mem:.0f} GiB, Python {platform.python_version()}, "
            f"{pg}, load average {load:.1f} when recorded")  # fmt: skip


def table(title: str, headers: list[str], rows: list[list[object]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    line = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    out = [f"### {title}", "", line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


RESULTS = ROOT / "bench" / "results"


def record(title: str, headers: list[str], rows: list[list[object]], notes: str = "") -> None:
    """Print the table and append it, with machine and command, to bench/results/<script>.md."""
    text = table(title, headers, rows)
    print(text)
    if notes:
        print(notes)
    command = "python " + " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    doc = RESULTS / f"{Path(sys.argv[0]).stem}.md"
    if not doc.exists():
        RESULTS.mkdir(parents=True, exist_ok=True)
        doc.write_text(f"# Records of `bench/{doc.stem}.py`\n\nAppended by the script, oldest first.\n")
    with doc.open("a") as f:
        f.write(f"\n{text}\n\n- {stamp}; {machine()}\n- command: `{command}` at {git_rev()}{_dirty()}\n")
        if notes:
            f.write(f"- {notes}\n")


def _dirty() -> str:
    try:
        changed = subprocess.check_output(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results"], cwd=ROOT, text=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return " with uncommitted changes" if changed.strip() else ""


def git_rev() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def run_children(commands: list[list[str]], *, timeout: float = 600, env: dict | None = None) -> dict:
    """Start every command (childsync protocol), release them at once, collect their results.

    Returns ``{"n": total items, "seconds": max(end) - min(start), "results": [...]}``:
    process start-up and set-up are excluded, the slowest child's finish included.
    """
    procs = [
        subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT / "bench", env=env)
        for cmd in commands
    ]
    try:
        for p, cmd in zip(procs, commands, strict=True):
            line = p.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"{cmd[:3]} did not get ready: {line!r}")
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p, cmd in zip(procs, commands, strict=True):
            out, _ = p.communicate(timeout=timeout)
            lines = [x for x in out.splitlines() if x.startswith("{")]
            if p.returncode != 0 or not lines:
                raise RuntimeError(f"{cmd[:3]} exited {p.returncode}: {out[-500:]!r}")
            results.append(json.loads(lines[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return {
        "n": sum(r["n"] for r in results),
        "seconds": max(r["end"] for r in results) - min(r["start"] for r in results),
        "results": results,
    }



@contextmanager
def kept_database(server_dsn: str, name: str, *, reseed: bool, drop: bool, prepare):
    """A bench's own database on ``server_dsn``, kept between runs: created when missing (or
    dropped and created again with ``reseed``), migrated to the current schema, then handed to
    ``prepare(conn)`` (autocommit), which seeds it when empty; dropped at the end with ``drop``."""
    dsn = make_conninfo(server_dsn, dbname=name)
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and reseed:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        if not exists or reseed:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    migrate(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        prepare(conn)
    try:
        yield dsn
    finally:
        if drop:
            with psycopg.connect(server_dsn, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

# -- live cronkeeper processes -------------------------------------------------
BIN = Path(sys.executable).parent
BENCH_DIR = ROOT / "bench"


def spawn(
    args: list[str], dsn: str, *, env: dict[str, str] | None = None, log_name: str = "proc", raw: bool = False
) -> subprocess.Popen:
    """Start ``cronkeeper ARGS`` (or ARGS as is when ``raw``) on ``dsn`` with quiet logs.

    Output goes to a temp file, removed after a clean stop and kept otherwise.
    """
    full_env = {**os.environ, "DATABASE_URL": dsn, "CRONKEEPER_LOG_LEVEL": "WARNING", **(env or {})}
    fd, path = tempfile.mkstemp(prefix=f"ck-bench-{log_name}-", suffix=".log")
    with os.fdopen(fd, "w") as log:
        command = args if raw else [str(BIN / "cronkeeper"), *args]
        proc = subprocess.Popen(command, env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    proc.log_path = path  # type: ignore[attr-defined]
    return proc


def stop(proc: subprocess.Popen, timeout: float = 40) -> None:
    """SIGTERM (graceful), then SIGKILL after ``timeout``."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.returncode in (0, -15):
        Path(proc.log_path).unlink(missing_ok=True)  # type: ignore[attr-defined]
    else:
        print(f"process {proc.args[1:2]} exited {proc.returncode}; log kept in {proc.log_path}")  # type: ignore[attr-defined]


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of a live process, from /proc/PID/status (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def wait_registered(conn: psycopg.Connection, proc: subprocess.Popen, timeout: float = 30) -> None:
    """Wait until ``proc`` has written its row in ``processes`` (it is connected and serving)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[1:2]} exited {proc.returncode}: {Path(proc.log_path).read_text()[-800:]}")  # type: ignore[attr-defined]
        row = conn.execute("SELECT 1 FROM processes WHERE pid = %s AND stopped_at IS NULL", (proc.pid,)).fetchone()
        if row:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.args[1:2]} did not register within {timeout} s")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_api(dsn: str, *, timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """A live ``cronkeeper api`` on a free port; returns the process and its base URL once it answers."""
    import time
    import urllib.error
    import urllib.request

    port = free_port()
    proc = spawn(["api", "--host", "127.0.0.1", "--port", str(port)], dsn, log_name="api")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"api exited {proc.returncode}: {Path(proc.log_path).read_text()[-800:]}")  # type: ignore[attr-defined]
        try:
            urllib.request.urlopen(base + "/api/health", timeout=2).close()
            return proc, base
        except urllib.error.HTTPError:  # 503 before a scheduler is seen: it answers
            return proc, base
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"api did not answer within {timeout} s")


def admin_token(dsn: str) -> str:
    from cronkeeper.db import connect
    from cronkeeper.tokens import create_token

    with connect(dsn, autocommit=True) as conn:
        return create_token(conn, name=f"bench-{uuid.uuid4().hex[:6]}", role="admin").secret


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    import math

    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]
