"""Helpers shared by the API tests (no tests here): a client on a real database, and tokens."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import uvicorn
from litestar.testing import TestClient

from cronkeeper.api.app import create_app
from cronkeeper.api.limits import Limits, RequestLimits
from cronkeeper.clock import Clock, FixedClock
from cronkeeper.db import connect
from cronkeeper.settings import Settings
from cronkeeper.tokens import create_token


def settings(**overrides: Any) -> Settings:
    return Settings(**{"database_url": None, "data_dir": ".", "pool_max_size": 4, **overrides})


class Api:
    """A test client (admin token by default) plus a connection to look behind the API."""

    def __init__(self, client: TestClient, conn, clock: Clock) -> None:
        self.client = client
        self.conn = conn
        self.clock = clock

    def token(self, role: str = "admin", customer_id: UUID | None = None) -> dict[str, str]:
        made = create_token(self.conn, name=f"test {role}", role=role, customer_id=customer_id)
        return {"Authorization": f"Bearer {made.secret}"}

    def __getattr__(self, name: str):  # get/post/put/delete of the client
        return getattr(self.client, name)


@contextmanager
def api_client(
    dsn: str, clock: Clock | None = None, *, token: bool = True, **setting_overrides: Any
) -> Iterator[Api]:
    """A client of a fresh app on ``dsn``, sending an admin token unless ``token=False``."""
    clock = clock or FixedClock(dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC))
    app = create_app(dsn, settings(**setting_overrides), clock=clock)
    conn = connect(dsn, autocommit=True) if token else None
    try:
        with TestClient(app) as client:
            api = Api(client, conn, clock)
            if token:
                client.headers.update(api.token("admin"))
            yield api
    finally:
        if conn is not None:
            conn.close()


_SHARED: list = []  # one built app per test process: building one costs ~0.15-0.25 s of CPU


@contextmanager
def shared_api_client(dsn: str) -> Iterator[Api]:
    """Like ``api_client(dsn)`` with the defaults, on an app built once per process.

    Everything a test could leave behind is made anew: the settings (its database),
    the fixed clock, the 429 limits, the token and collector caches and the readiness flag. The
    HTTP request counters of ``/metrics`` carry over: tests of them build their own app.
    """
    if not _SHARED:
        _SHARED.append(create_app(None, settings()))
    app = _SHARED[0]
    clock = FixedClock(dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC))
    app.state.settings = settings(database_url=dsn)
    app.state.clock = clock
    app.state.limits = Limits(RequestLimits.from_env(os.environ))
    for leftover in ("token_cache", "schema_current", "collector_cache"):
        app.state.pop(leftover, None)
    conn = connect(dsn, autocommit=True)
    try:
        with TestClient(app) as client:
            api = Api(client, conn, clock)
            client.headers.update(api.token("admin"))
            yield api
    finally:
        conn.close()


def count(conn, table: str) -> int:
    # table names here come from the tests themselves, never from input
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]  # noqa: S608


def new_job_body(brand, **overrides: Any) -> dict[str, Any]:
    body = {
        "customer_id": str(brand.customer_id), "brand_id": str(brand.id), "job_type": "data_collection",
        "cron_expression": "0 10 * * *", "timezone": "UTC", "is_active": True, "metadata": {},
    }  # fmt: skip
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


@contextmanager
def live_server(app) -> Iterator[str]:
    """``app`` on a real uvicorn server in a thread, on a free port; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def ids_of_every_page(api: Api, url: str, limit: int, dsn: str, insert: Callable[[Any], Any],
                      between: Callable[[], Any] | None = None) -> list[Any]:
    """The ids of every page of ``url``, walked by cursor while another connection keeps inserting.

    ``insert(conn)`` adds one row on its own connection in a loop; ``between()``,
    if given, runs after each page (to be sure a row lands between two pages).
    """
    stop = threading.Event()

    def insert_more() -> None:
        with connect(dsn, autocommit=True) as c:
            while not stop.is_set():
                insert(c)

    inserter = threading.Thread(target=insert_more)
    inserter.start()
    seen, cursor = [], None
    try:
        while True:
            page = api.get(url, params={"limit": limit, **({"cursor": cursor} if cursor else {})}).json()
            seen += [row["id"] for row in page["data"]]
            if between is not None:
                between()
            cursor = page["next_cursor"]
            if not cursor:
                return seen
    finally:
        stop.set()
        inserter.join()
