"""A worker process whose handlers do nothing (for bench_worker.py).

    python bench/noop_worker.py DSN CONCURRENCY PREFETCH [--sync | --serve] [--async-wait SECONDS]
Drains every due run, prints ``claimed completed seconds`` and exits. With
``--async-wait`` the handlers are ``async def`` and await ``asyncio.sleep(SECONDS)``
(tasks on the process's loop, no thread each; 0 still yields once). With
``--sync`` it waits for a line on stdin after setting up (childsync.ready) and
prints one JSON line (childsync.done) instead. With ``--serve`` it runs
``Worker.serve`` (the loop of ``cronkeeper worker``: LISTEN, poll, heartbeat)
until SIGTERM, with settings from the environment.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time

from childsync import done, ready
from common import ROOT  # noqa: F401  (puts the project on sys.path)

from cronkeeper.handlers import Registry
from cronkeeper.models import JobType
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from cronkeeper.signals import stop_event


def noop(ctx):
    return None


def waiting(seconds: float):
    async def wait(ctx):
        await asyncio.sleep(seconds)

    return wait


def main() -> None:
    dsn, concurrency, prefetch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    logging.disable(logging.INFO)
    registry = Registry()
    handler = noop
    if "--async-wait" in sys.argv:
        handler = waiting(float(sys.argv[sys.argv.index("--async-wait") + 1]))
    for t in JobType:
        registry.register(t, handler)
    settings = Settings.from_env({**os.environ, "DATABASE_URL": dsn, "CRONKEEPER_DATA_DIR": "."})
    w = Worker(dsn, settings, registry=registry, concurrency=concurrency, prefetch=prefetch)
    if "--serve" in sys.argv[4:]:
        w.serve(stop_event())
    elif "--sync" in sys.argv[4:]:
        start = ready()
        result = w.run_once()
        done(start, result.completed, claimed=result.claimed)
    else:
        start = time.perf_counter()
        result = w.run_once()
        print(result.claimed, result.completed, round(time.perf_counter() - start, 3), flush=True)
    w.close()


if __name__ == "__main__":
    main()
