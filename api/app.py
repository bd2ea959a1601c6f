"""The app factory: ``create_app(dsn, settings, clock=...)``.

The connection pools are opened in the lifespan and injected (``pool`` for the
handlers that run in the thread pool, and ``page_pools`` for the reads that run
on the event loop: a run, the lists, a job's history; see ``IN_LOOP``), as are
the ``clock`` (tests pass a fixed one), the ``settings`` and, under
``/api/admin``, the caller's ``access``. Everything under ``/api/admin`` needs a
bearer token; ``/api/health``, ``/metrics`` and ``/schema`` do not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio.to_thread
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from psycopg_pool import ConnectionPool

from cronkeeper.api.auth import TokenAuthMiddleware, permission_guard, provide_access
from cronkeeper.api.controllers.admin_ui import ADMIN_UI_HANDLERS
from cronkeeper.api.controllers.brands import BrandController, BrandQueryController
from cronkeeper.api.controllers.customers import CustomerController
from cronkeeper.api.controllers.exports import JobRunExportController
from cronkeeper.api.controllers.jobs import ScheduledJobController
from cronkeeper.api.controllers.preview import SchedulePreviewController
from cronkeeper.api.controllers.runs import JobRunController
from cronkeeper.api.controllers.system import SystemController, health, metrics
from cronkeeper.api.controllers.ui_data import UI_DATA_HANDLERS
from cronkeeper.api.errors import EXCEPTION_HANDLERS
from cronkeeper.api.metrics import make_registry
from cronkeeper.clock import Clock, SystemClock
from cronkeeper.db import make_pool, resolve_dsn
from cronkeeper.repo import processes
from cronkeeper.repo.pages import Pools
from cronkeeper.settings import Settings

log = logging.getLogger("cronkeeper.api")

MAX_BODY_BYTES = 256 * 1024
POOL_TIMEOUT_SECONDS = 10.0
HEARTBEAT_SECONDS = 15.0
# IN_LOOP: the hot reads (a run, the runs and jobs lists, a job's history) run on
# the event loop instead of the thread pool: one indexed query of ~0.5-1 ms, and
# no thread hop, no fight for the GIL between the loop and the handler threads,
# which keeps the lists' p99 down under many clients (docs/benchmarks.md). A
# request on the loop holds at most one connection, from ``page_pools``, which
# nothing else uses; their statements are
# bounded by LOOP_STATEMENT_TIMEOUT_MS and a connection is waited for at most
# LOOP_POOL_TIMEOUT_SECONDS, so a slow or absent database stalls the process's
# loop for seconds at most (the request gets 503/500, as on the thread pool).
LOOP_STATEMENT_TIMEOUT_MS = 5_000
LOOP_POOL_TIMEOUT_SECONDS = 2.0
# A read on the loop holds one connection at a time; the second lets a request
# go on while a broken connection is being replaced.
LOOP_POOL_SIZE = 2


def _state_value(name: str):
    def provide(state: State) -> Any:
        return state[name]

    return Provide(provide, sync_to_thread=False)


def _beat(pool: ConnectionPool, clock: Clock, process_id: str, stopped: bool = False) -> None:
    with pool.connection() as conn:
        if stopped:
            processes.mark_stopped(conn, process_id, clock.now())
        else:
            processes.heartbeat(conn, process_id, "api", clock.now())


async def _heartbeat_loop(pool: ConnectionPool, clock: Clock, process_id: str) -> None:
    while True:
        try:
            await anyio.to_thread.run_sync(_beat, pool, clock, process_id)
        except Exception as exc:  # the database may come back; keep serving
            log.warning("heartbeat_failed", extra={"process_id": process_id, "error": str(exc).strip()})
        await asyncio.sleep(HEARTBEAT_SECONDS)


def admin_router() -> Router:
    return Router(
        path="/api/admin",
        route_handlers=[
            ScheduledJobController, JobRunController, SchedulePreviewController,
            CustomerController, BrandController, BrandQueryController, SystemController,
            *UI_DATA_HANDLERS,
            JobRunExportController,
        ],  # fmt: skip
        middleware=[DefineMiddleware(TokenAuthMiddleware)],
        guards=[permission_guard],
        dependencies={"access": Provide(provide_access, sync_to_thread=False)},
        security=[{"bearer": []}],
    )


def create_app(
    dsn: str | None = None,
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    register_process: bool = False,
    extra_route_handlers: Sequence[Any] = (),
) -> Litestar:
    """The admin API. Without ``dsn`` the database is resolved from ``settings`` at start-up.

    ``register_process`` heartbeats this server into ``processes`` (kind ``api``);
    ``extra_route_handlers`` lets another package (the UI) mount its routes.
    """
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        target = dsn or await anyio.to_thread.run_sync(resolve_dsn, settings)
        pool = await anyio.to_thread.run_sync(
            lambda: make_pool(target, min_size=1, max_size=settings.pool_max_size, timeout=POOL_TIMEOUT_SECONDS)
        )
        loop_pools: list[ConnectionPool] = []
        try:
            for plans in ("custom", "generic"):
                loop_pools.append(await anyio.to_thread.run_sync(
                    lambda plans=plans: make_pool(
                        target, min_size=1, max_size=LOOP_POOL_SIZE, plans=plans, timeout=LOOP_POOL_TIMEOUT_SECONDS,
                        statement_timeout_ms=LOOP_STATEMENT_TIMEOUT_MS,
                    )
                ))  # fmt: skip
        except BaseException:
            for p in (*loop_pools, pool):
                await anyio.to_thread.run_sync(p.close)
            raise
        custom, generic = loop_pools
        app.state.pool, app.state.page_pools = pool, Pools(custom=custom, generic=generic)
        app.state.metrics = make_registry(pool, clock)
        beat, process_id = None, processes.new_process_id("api")
        if register_process:
            beat = asyncio.create_task(_heartbeat_loop(pool, clock, process_id))
        try:
            yield
        finally:
            if beat is not None:
                beat.cancel()
                with contextlib.suppress(Exception):
                    await anyio.to_thread.run_sync(_beat, pool, clock, process_id, True)
            for p in (generic, custom, pool):
                await anyio.to_thread.run_sync(p.close)

    return Litestar(
        route_handlers=[admin_router(), health, metrics, *ADMIN_UI_HANDLERS, *extra_route_handlers],
        lifespan=[lifespan],
        state=State({"clock": clock, "settings": settings}),
        dependencies={
            name: _state_value(name) for name in ("pool", "page_pools", "clock", "settings")
        },
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="cronkeeper admin API",
            version="1.0.0",
            path="/schema",
            use_handler_docstrings=True,
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http", scheme="bearer",
                        description="A token from `cronkeeper token create` (starts with `ck_`).",
                    )
                }
            ),  # fmt: skip
        ),
        logging_config=None,
        debug=False,
    )
