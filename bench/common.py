"""Shared helpers for the benchmark scripts (not part of the test suite).

Each script gets a fresh database: on ``BENCH_DATABASE_URL``'s server when set,
else on a throw-away embedded PostgreSQL (the default users run on). Results
are printed as a small table and appended to docs/benchmarks.md with the
machine and the command that produced them.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cronkeeper.migrate import migrate  # noqa: E402


@contextmanager
def server():
    """A DSN for a server where the benchmark may create databases."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        yield url
        return
    from cronkeeper.db import start_embedded, stop_embedded

    data_dir = Path(tempfile.mkdtemp(prefix="cronkeeper-bench-"))
    try:
        yield start_embedded(data_dir)
    finally:
        stop_embedded(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def fresh_database(server_dsn: str, *, migrated: bool = True):
    name = f"ck_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = make_conninfo(server_dsn, dbname=name)
    try:
        if migrated:
            migrate(dsn)
        yield dsn
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def machine() -> str:
    cpus = os.cpu_count()
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = 0
    pg = "embedded PostgreSQL" if not os.environ.get("BENCH_DATABASE_URL") else "BENCH_DATABASE_URL"
    return f"{platform.system()} {platform.machine()}, {cpus} cores, {mem:.0f} GiB, Python {platform.python_version()}, {pg}"


def table(title: str, headers: list[str], rows: list[list[object]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    line = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    out = [f"### {title}", "", line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def record(title: str, headers: list[str], rows: list[list[object]], notes: str = "") -> None:
    """Print the table and append it, with machine and command, to docs/benchmarks.md."""
    text = table(title, headers, rows)
    print(text)
    if notes:
        print(notes)
    command = "python " + " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    doc = ROOT / "docs" / "benchmarks.md"
    if not doc.exists():
        doc.write_text("# Benchmarks\n\nFigures appended by the scripts in `bench/` (`make bench`).\n")
    with doc.open("a") as f:
        f.write(f"\n{text}\n\n- {stamp}; {machine()}\n- command: `{command}`\n")
        if notes:
            f.write(f"- {notes}\n")


def git_rev() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"
