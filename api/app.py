"""The app factory: ``create_app(dsn, settings, clock=...)``.

The connection pools are opened in the lifespan and injected (``pool``, and
``page_pools`` for the list pages: ``pool`` plus a pool whose statements are
planned once per connection, ``cronkeeper.repo.pages``), as are
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

from api.auth import TokenAuthMiddleware, permission_guard, provide_access
from api.controllers.admin_ui import ADMIN_UI_HANDLERS
from api.controllers.brands import BrandController, BrandQueryController
from api.controllers.customers import CustomerController
from api.controllers.exports import JobRunExportController
from api.controllers.jobs import ScheduledJobController
from api.controllers.preview import SchedulePreviewController
from api.controllers.runs import JobRunController
from api.controllers.system import SystemController, health, metrics
from api.controllers.ui_data import UI_DATA_HANDLERS
from api.errors import EXCEPTION_HANDLERS
from api.metrics import make_registry
from cronkeeper.clock import Clock, SystemClock
from cronkeeper.db import make_pool, resolve_dsn
from cronkeeper.repo import processes
from cronkeeper.repo.pages import Pools
from cronkeeper.settings import Settings

log = logging.getLogger("cronkeeper.api")

MAX_BODY_BYTES = 256 * 1024
POOL_TIMEOUT_SECONDS = 10.0
# Connections of the pool for list pages planned once. Requests beyond it wait
# their turn in the pool: with 32 clients on 2 cores, a few connections per API
# process gave a lower p99 than 10 (fewer backends preempting each other;
# docs/benchmarks.md).
GENERIC_POOL_SIZE = 4
HEARTBEAT_SECONDS = 15.0


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
        try:
            generic = await anyio.to_thread.run_sync(
                lambda: make_pool(target, min_size=1, max_size=GENERIC_POOL_SIZE, plans="generic",
                                  timeout=POOL_TIMEOUT_SECONDS)
            )  # fmt: skip
        except BaseException:
            await anyio.to_thread.run_sync(pool.close)
            raise
        app.state.pool, app.state.page_pools = pool, Pools(custom=pool, generic=generic)
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
            await anyio.to_thread.run_sync(generic.close)
            await anyio.to_thread.run_sync(pool.close)

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
