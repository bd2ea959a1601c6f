"""Start line for benchmark child processes (no dependencies: imported by both venvs).

A child sets itself up (imports, connections), calls ``ready()`` which prints
``ready`` and blocks until the parent writes a line to its stdin, then does the
measured work and calls ``done(start, n)``, which prints one JSON line with
its CPU time since the start and CLOCK_MONOTONIC start and end (system-wide on Linux, so comparable across
processes). The parent starts every child at once and takes
``max(end) - min(start)`` as the wall time: process start-up is excluded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

_CPU_AT_START: list[float] = []


def ready() -> float:
    print("ready", flush=True)
    sys.stdin.readline()
    _CPU_AT_START[:] = [time.process_time()]
    return time.monotonic()


def backend_cpu(pid: int) -> float | None:
    """CPU seconds so far of a PostgreSQL backend on this machine (``pg_backend_pid()``), None if unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def done(start: float, n: int, **extra: object) -> None:
    """The result line; ``cpu``: this process's CPU seconds (all threads) since ``ready`` returned."""
    cpu = time.process_time() - _CPU_AT_START[0] if _CPU_AT_START else None
    print(json.dumps({"start": start, "end": time.monotonic(), "n": n, "cpu": cpu, **extra}), flush=True)


def peer_main(setup: Callable[[str, int], Coroutine[Any, Any, None]],
              drain: Callable[[str, int], Coroutine[Any, Any, None]]) -> None:
    """A peer's child: ``MODE DSN N`` on the command line, MODE ``setup`` (enqueue N) or ``drain``."""
    logging.disable(logging.WARNING)
    mode, dsn, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    asyncio.run(setup(dsn, n) if mode == "setup" else drain(dsn, n))
