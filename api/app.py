"""The app factory: ``create_app(dsn, settings, clock=...)``.

The connection pools are opened in the lifespan and injected (``pool`` for the
handlers that run in the thread pool, and ``page_pools`` for the hot reads:
a run, the lists, a job's history; see ``PAGE_POOLS``), as are
the ``clock`` (tests pass a fixed one), the ``settings`` and, under
``/api/admin``, the caller's ``access``. Everything under ``/api/admin`` needs a
bearer token; ``/api/health`` and ``/schema`` do not, nor does ``/metrics`` unless
``CRONKEEPER_METRICS_TOKEN`` is set (docs/metrics.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio.to_thread
from litestar import Litestar, Router
from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from psycopg_pool import ConnectionPool

from cronkeeper.api.auth import TokenAuthMiddleware, permission_guard, provide_access
from cronkeeper.api.controllers.admin_ui import ADMIN_UI_HANDLERS
from cronkeeper.api.controllers.alerts import (
    AlertChannelController,
    AlertController,
    AlertRulesController,
)
from cronkeeper.api.controllers.audit import AuditController
from cronkeeper.api.controllers.backfill import BackfillController
from cronkeeper.api.controllers.brands import BrandController, BrandQueryController
from cronkeeper.api.controllers.calendars import CalendarController
from cronkeeper.api.controllers.collectors import CollectorController
from cronkeeper.api.controllers.customers import CustomerController
from cronkeeper.api.controllers.exports import JobRunExportController
from cronkeeper.api.controllers.jobs import ScheduledJobController
from cronkeeper.api.controllers.metrics import metrics
from cronkeeper.api.controllers.operations import QueueController, SchedulerController
from cronkeeper.api.controllers.pauses import JobPauseController
from cronkeeper.api.controllers.preview import SchedulePreviewController
from cronkeeper.api.controllers.runs import JobRunController
from cronkeeper.api.controllers.schedule_versions import ScheduleVersionController
from cronkeeper.api.controllers.stats import STATS_HANDLERS
from cronkeeper.api.controllers.system import SystemController, health, live, ready
from cronkeeper.api.controllers.tokens import TokenController
from cronkeeper.api.controllers.ui_data import UI_DATA_HANDLERS
from cronkeeper.api.errors import EXCEPTION_HANDLERS
from cronkeeper.api.limits import Limits, RequestLimits
from cronkeeper.api.metrics import Metrics, MetricsConfig
from cronkeeper.api.schema_page import RENDER_PLUGINS
from cronkeeper.api.schemas.common import strict_body
from cronkeeper.api.tracing import tracing_plugins
from cronkeeper.clock import Clock, SystemClock
from cronkeeper.db import make_pool, resolve_dsn
from cronkeeper.repo import processes
from cronkeeper.repo.pages import Pools
from cronkeeper.settings import Settings

log = logging.getLogger("cronkeeper.api")

MAX_BODY_BYTES = 256 * 1024
POOL_TIMEOUT_SECONDS = 10.0
HEARTBEAT_SECONDS = 15.0
# threads for the sync handlers: more than the connections they can hold (page pools
# plus the main pool), so requests waiting on a hung query never starve the others
HANDLER_THREADS = 48
# PAGE_POOLS: the hot reads (a run, the runs and jobs lists, a job's history) use
# pools of their own (``page_pools``): nothing else waits for their connections.
# Like every handler that touches the database they run in the thread pool, never
# on the event loop, so a slow or hung query holds only its own request: the
# liveness probe, the UI's files and every other request go on. Each read has a
# deadline: its statements are bounded by PAGE_STATEMENT_TIMEOUT_MS and a
# connection is waited for at most PAGE_POOL_TIMEOUT_SECONDS (then 503 with
# Retry-After, api.errors). Behind a transaction pooler (settings.pooled) the
# timeout is set per transaction (SET LOCAL, cronkeeper.db.reading), never per session.
PAGE_STATEMENT_TIMEOUT_MS = 5_000
PAGE_POOL_TIMEOUT_SECONDS = 2.0
# connections per page pool (two pools): a few hung reads leave room for the others
PAGE_POOL_SIZE = 4


async def _resolve_in_turn(self: KwargsModel, connection: ASGIConnection, kwargs: dict[str, Any]) -> DependencyCleanupGroup:
    """``KwargsModel.resolve_dependencies`` without a task group: each dependency in turn.

    Litestar resolves the independent dependencies of a request (``page_pools`` and ``access``,
    say) concurrently in an anyio task group: a cancel scope, an event and a task each, for
    functions that only read the app's state (every ``Provide`` here is synchronous and runs on
    the loop: ``sync_to_thread=False``). That was ~10 % of the API's CPU per request. Resolved in
    turn, the values and errors are the same (the first to fail is raised, as the group raised its
    first); ``tests/unit/test_response_writes.py`` checks that the replacement is in place.
    """
    cleanup_group = DependencyCleanupGroup()
    for batch in self.dependency_batches:
        for dependency in batch:
            await resolve_dependency(dependency, connection, kwargs, cleanup_group)
    return cleanup_group


KwargsModel.resolve_dependencies = _resolve_in_turn  # type: ignore[method-assign]


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


async def admin_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The admin routes' one guard: the token's permissions (403, 429), then ``strict_body`` (JSON
    types and depth as sent, a 400). One guard, not two: Litestar copies the route handler for each
    guard of each request (``copy(handler)``), and that copy was 3 % of the API's CPU per request."""
    await permission_guard(connection, handler)
    await strict_body(connection, handler)


def admin_router() -> Router:
    return Router(
        path="/api/admin",
        route_handlers=[
            ScheduledJobController, JobRunController, SchedulePreviewController,
            CustomerController, BrandController, BrandQueryController, SystemController,
            *UI_DATA_HANDLERS,
            *STATS_HANDLERS,
            JobRunExportController,
            TokenController,
            CollectorController,
            SchedulerController, QueueController,
            AuditController,
            AlertController, AlertChannelController, AlertRulesController,
            BackfillController,
            ScheduleVersionController,
            JobPauseController,
            CalendarController,
        ],  # fmt: skip
        middleware=[DefineMiddleware(TokenAuthMiddleware)],
        guards=[admin_guard],
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
    metrics_state = Metrics(MetricsConfig.from_env())  # /metrics: token, cache, this process's HTTP metrics
    limits = Limits(RequestLimits.from_env(os.environ))  # 429s: wrong tokens per address, writes per token
    trace_plugins, tracer_provider = tracing_plugins(os.environ)  # OpenTelemetry when an OTLP endpoint is set

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Litestar runs sync handlers in the loop's default executor (min(32, CPUs + 4) threads:
        # 6 on 2 cores, which six hung reads would fill); HANDLER_THREADS leaves room for the rest
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix="api-handler")
        )
        # read from the state, so a built app can be pointed at another database (the tests reuse one)
        settings, clock = app.state.settings, app.state.clock
        target = dsn or await anyio.to_thread.run_sync(resolve_dsn, settings)
        pool = await anyio.to_thread.run_sync(
            lambda: make_pool(
                target, min_size=1, max_size=settings.pool_max_size, timeout=POOL_TIMEOUT_SECONDS,
                pooler=settings.pooled,
            )
        )  # fmt: skip
        loop_pools: list[ConnectionPool] = []
        try:
            for plans in ("custom", "generic"):
                loop_pools.append(await anyio.to_thread.run_sync(
                    lambda plans=plans: make_pool(
                        target, min_size=1, max_size=PAGE_POOL_SIZE, plans=plans, timeout=PAGE_POOL_TIMEOUT_SECONDS,
                        statement_timeout_ms=PAGE_STATEMENT_TIMEOUT_MS, pooler=settings.pooled,
                    )
                ))  # fmt: skip
        except BaseException:
            for p in (*loop_pools, pool):
                await anyio.to_thread.run_sync(p.close)
            raise
        custom, generic = loop_pools
        app.state.pool, app.state.page_pools = pool, Pools(custom=custom, generic=generic)
        app.state.metrics.attach_database(pool, clock)
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
            if tracer_provider is not None:  # the last spans, before the process goes
                await anyio.to_thread.run_sync(tracer_provider.force_flush)

    app = Litestar(
        route_handlers=[admin_router(), health, live, ready, metrics, *ADMIN_UI_HANDLERS, *extra_route_handlers],
        lifespan=[lifespan],
        plugins=trace_plugins,
        state=State({"clock": clock, "settings": settings, "metrics": metrics_state, "limits": limits}),
        dependencies={
            name: _state_value(name) for name in ("pool", "page_pools", "clock", "settings")
        },
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="cronkeeper admin API",
            version="1.0.0",
            path="/schema",
            render_plugins=RENDER_PLUGINS,  # a plain page and the JSON: nothing loaded from a CDN
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
    app.asgi_handler = metrics_state.wrap(app.asgi_handler)  # outside the router: 404s and errors counted too
    return app
