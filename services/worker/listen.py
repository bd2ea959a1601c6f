"""The worker's wake-ups: ``LISTEN cronkeeper_runs`` on a connection of its own, or polling.

``listen(listen_dsn, wake, stop)`` sets ``wake`` at each notification (and after
each reconnect: runs may have come meanwhile) until ``stop``. Without a
``listen_dsn`` (behind a pooler without ``CRONKEEPER_LISTEN_URL``) it sets it every
``FALLBACK_POLL_SECONDS`` instead. A lost connection is made again a second later.
"""

from __future__ import annotations

import threading

from cronkeeper import db
from cronkeeper.settings import DbTimeouts


def listen(listen_dsn: str | None, wake: threading.Event, stop: threading.Event, timeouts: DbTimeouts) -> None:
    """A thread's target: wake the worker on new runs until ``stop`` is set."""
    if listen_dsn is None:  # behind a pooler without a listen URL: poll
        while not stop.wait(db.FALLBACK_POLL_SECONDS):
            wake.set()
        return
    conn = None
    while not stop.is_set():
        try:
            if conn is None or conn.closed:
                conn = db.connect(listen_dsn, autocommit=True, pooler=False, timeouts=timeouts)
                conn.execute("LISTEN cronkeeper_runs")
                wake.set()  # runs may have arrived while we were away
            for _ in conn.notifies(timeout=1.0, stop_after=1):
                wake.set()
        except Exception:  # reconnect in a second
            if conn is not None:
                conn.close()
            conn = None
            stop.wait(1.0)
    if conn is not None:
        conn.close()
