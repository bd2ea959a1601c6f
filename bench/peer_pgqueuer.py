"""pgqueuer peer for bench_worker.py (run with the .venv-peers interpreter).

    python bench/peer_pgqueuer.py setup DSN JOBS     # install the schema, enqueue JOBS no-op jobs
    python bench/peer_pgqueuer.py drain DSN BATCH    # ready/go, drain the queue, print JSON
                                                     # (server_cpu: its backend's CPU seconds, local server)
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from childsync import backend_cpu, done, peer_main, ready
from pgqueuer.db import AsyncpgDriver
from pgqueuer.models import Job
from pgqueuer.qm import QueueManager
from pgqueuer.queries import Queries
from pgqueuer.types import QueueExecutionMode


async def setup(dsn: str, jobs: int) -> None:
    conn = await asyncpg.connect(dsn)
    q = Queries(AsyncpgDriver(conn))
    if not await q.schema_is_installed():
        await q.install()
    await conn.execute("TRUNCATE pgqueuer, pgqueuer_log")
    step = 5000
    for i in range(0, jobs, step):
        n = min(step, jobs - i)
        await q.enqueue(["noop"] * n, [None] * n, [0] * n)
    await conn.execute("VACUUM ANALYZE pgqueuer")
    await conn.close()


async def drain(dsn: str, batch: int) -> None:
    conn = await asyncpg.connect(dsn)
    qm = QueueManager(Queries(AsyncpgDriver(conn)))
    count = 0

    @qm.entrypoint("noop")
    async def noop(job: Job) -> None:
        nonlocal count
        count += 1

    pid = await conn.fetchval("SELECT pg_backend_pid()")
    start = ready()
    cpu0 = backend_cpu(pid)
    await qm.run(batch_size=batch, mode=QueueExecutionMode.drain, dequeue_timeout=timedelta(seconds=1))
    cpu1 = backend_cpu(pid)
    done(start, count, server_cpu=None if cpu0 is None or cpu1 is None else cpu1 - cpu0)
    await conn.close()


if __name__ == "__main__":
    peer_main(setup, drain)
