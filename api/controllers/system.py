"""What the system is doing: ``/api/admin/system`` (token), ``/api/health`` and ``/metrics`` (open)."""

from __future__ import annotations

import datetime as dt

import psycopg
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cronkeeper.api.params import ClockDep, PoolDep, SettingsDep, errors
from cronkeeper.api.schemas.common import utc
from cronkeeper.api.schemas.system import HealthOut, ProcessOut, SystemOut
from cronkeeper.models import RunStatus
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import processes
from cronkeeper.repo import runs as runs_repo
from cronkeeper.settings import Settings

# processes whose last heartbeat is older than this are left out (stopped ones always are)
PROCESS_WINDOW = dt.timedelta(hours=1)
HEALTH_DB_TIMEOUT = 2.0


def scheduler_recent_seconds(settings: Settings) -> float:
    """A scheduler heartbeats once per tick, at least every poll interval; allow three."""
    return max(3 * settings.scheduler_poll_seconds, 60.0)


def _process(row: dict, now: dt.datetime) -> ProcessOut:
    return ProcessOut(
        id=row["id"], kind=row["kind"], hostname=row["hostname"], pid=row["pid"],
        started_at=utc(row["started_at"]), heartbeat_at=utc(row["heartbeat_at"]),
        seconds_since_heartbeat=round((now - row["heartbeat_at"]).total_seconds(), 3), info=row["info"],
    )  # fmt: skip


class SystemController(Controller):
    path = "/system"
    tags = ["system"]

    @get(
        "/", operation_id="getSystemStatus", responses=errors(401, 403),
        opt={"unbound_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def system(self, pool: PoolDep, clock: ClockDep) -> SystemOut:
        """Live schedulers and workers with their last heartbeat, queue depth, oldest pending run, due jobs."""
        now = clock.now()
        with pool.connection() as conn:
            rows = processes.list_live(conn, now - PROCESS_WINDOW)
            depth = runs_repo.queue_depth(conn)
            oldest = runs_repo.oldest_pending(conn, now)
            due = jobs_repo.count_due(conn, now)
        return SystemOut(
            now=utc(now),
            processes=[_process(r, now) for r in rows],
            queue_depth={str(s): depth.get(str(s), 0) for s in (RunStatus.PENDING, RunStatus.PROCESSING)},
            oldest_pending_run_at=utc(oldest),
            oldest_pending_age_seconds=(now - oldest).total_seconds() if oldest else None,
            due_jobs=due["due"],
            oldest_due_next_run_at=utc(due["oldest"]),
            scheduler_lag_seconds=(now - due["oldest"]).total_seconds() if due["oldest"] else 0.0,
        )


@get(
    "/api/health", operation_id="getHealth", tags=["system"], sync_to_thread=True,
    responses={503: ResponseSpec(HealthOut, description="The database or the scheduler is not well")},
)  # fmt: skip
def health(pool: PoolDep, clock: ClockDep, settings: SettingsDep) -> Response[HealthOut]:
    """200 when the database answers and a scheduler heartbeat is recent; 503 otherwise. No token."""
    now = clock.now()
    database, seen = True, None
    try:
        with pool.connection(timeout=HEALTH_DB_TIMEOUT) as conn:
            seen = processes.last_seen(conn).get("scheduler")
    except psycopg.Error:  # PoolTimeout included
        database = False
    recent = seen is not None and (now - seen).total_seconds() <= scheduler_recent_seconds(settings)
    status = "ok" if database and recent else ("degraded" if database else "unavailable")
    body = HealthOut(
        status=status, database=database, scheduler_last_seen=utc(seen), scheduler_recent=recent,
        checked_at=utc(now),
    )  # fmt: skip
    return Response(body, status_code=200 if status == "ok" else 503)


@get("/metrics", operation_id="getMetrics", tags=["system"], media_type="text/plain", sync_to_thread=True)
def metrics(state: State) -> Response[bytes]:
    """Prometheus text format: runs by status and type, run durations, queue depth, scheduler lag."""
    return Response(generate_latest(state.metrics), media_type=CONTENT_TYPE_LATEST)
