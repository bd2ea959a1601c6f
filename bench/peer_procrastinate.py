"""procrastinate peer for bench_worker.py (run with the .venv-peers interpreter).

    python bench/peer_procrastinate.py setup DSN JOBS          # apply the schema, defer JOBS no-op jobs
    python bench/peer_procrastinate.py drain DSN CONCURRENCY   # ready/go, drain (wait=False), print JSON
"""

from __future__ import annotations

import psycopg
from childsync import done, peer_main, ready
from procrastinate import App, PsycopgConnector

count = 0


def make_app(dsn: str) -> App:
    app = App(connector=PsycopgConnector(conninfo=dsn, min_size=1, max_size=20))

    @app.task(name="noop")
    async def noop() -> None:
        global count
        count += 1

    return app


async def setup(dsn: str, jobs: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        installed = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0]
    app = make_app(dsn)
    async with app.open_async():
        if not installed:
            await app.schema_manager.apply_schema_async()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("TRUNCATE procrastinate_jobs CASCADE")
        deferrer = app.configure_task("noop")
        step = 5000
        for i in range(0, jobs, step):
            await deferrer.batch_defer_async(*([{}] * min(step, jobs - i)))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE procrastinate_jobs")


async def drain(dsn: str, concurrency: int) -> None:
    app = make_app(dsn)
    async with app.open_async():
        start = ready()
        await app.run_worker_async(wait=False, concurrency=concurrency, install_signal_handlers=False)
        done(start, count)


if __name__ == "__main__":
    peer_main(setup, drain)
