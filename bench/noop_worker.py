"""A worker process whose handlers do nothing (for bench_worker.py).

    python bench/noop_worker.py DSN CONCURRENCY PREFETCH
Drains every due run, prints ``claimed completed seconds`` and exits.
"""

from __future__ import annotations

import logging
import sys
import time

from common import ROOT  # noqa: F401  (puts the project on sys.path)

from cronkeeper.handlers import Registry
from cronkeeper.models import JobType
from cronkeeper.settings import Settings
from services.worker.service import Worker


def noop(ctx):
    return None


def main() -> None:
    dsn, concurrency, prefetch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    logging.disable(logging.INFO)
    registry = Registry()
    for t in JobType:
        registry.register(t, noop)
    w = Worker(dsn, Settings(database_url=dsn, data_dir="."), registry=registry, concurrency=concurrency,
               prefetch=prefetch)  # fmt: skip
    start = time.perf_counter()
    result = w.run_once()
    print(result.claimed, result.completed, round(time.perf_counter() - start, 3), flush=True)
    w.close()


if __name__ == "__main__":
    main()
