"""The limit for bench_worker.py: a bare psycopg claim-and-complete loop on job_runs.

    python bench/bare_claim.py DSN LIMIT
Claims LIMIT pending runs at a time (``UPDATE ... WHERE id IN (SELECT ... FOR
UPDATE SKIP LOCKED LIMIT n) RETURNING``), marks them completed in one
statement, until none is left; ready/go protocol, prints JSON (with its
backend's CPU seconds, ``server_cpu``, when the server is local).
"""

from __future__ import annotations

import sys

import psycopg
from childsync import backend_cpu, done, ready

CLAIM = """
UPDATE job_runs SET status = 'processing', worker_id = 'bare', started_at = now(),
    heartbeat_at = now(), lease_expires_at = now() + interval '60 seconds', updated_at = now()
WHERE id IN (
    SELECT id FROM job_runs
    WHERE status = 'pending' AND run_after <= now()
    ORDER BY run_after, id
    LIMIT %(n)s
    FOR UPDATE SKIP LOCKED
)
RETURNING id
"""
COMPLETE = """
UPDATE job_runs SET status = 'completed', finished_at = now(), updated_at = now(), lease_expires_at = NULL
WHERE id = ANY(%(ids)s)
"""
COMPLETE_ONE = """
UPDATE job_runs SET status = 'completed', finished_at = now(), updated_at = now(), lease_expires_at = NULL
WHERE id = %(id)s
"""


def main() -> None:
    dsn, limit = sys.argv[1], int(sys.argv[2])
    conn = psycopg.connect(dsn, autocommit=True, prepare_threshold=0)
    n = 0
    start = ready()
    cpu0 = backend_cpu(conn.info.backend_pid)
    while True:
        ids = [r[0] for r in conn.execute(CLAIM, {"n": limit})]
        if not ids:
            break
        if len(ids) == 1:
            conn.execute(COMPLETE_ONE, {"id": ids[0]})
        else:
            conn.execute(COMPLETE, {"ids": ids})
        n += len(ids)
    cpu1 = backend_cpu(conn.info.backend_pid)
    done(start, n, server_cpu=None if cpu0 is None or cpu1 is None else cpu1 - cpu0)
    conn.close()


if __name__ == "__main__":
    main()
