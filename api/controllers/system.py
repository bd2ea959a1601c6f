"""What the system is doing: ``/api/admin/system`` (token); ``/api/health``, the probes
``/health/live`` and ``/health/ready`` (open). ``/metrics`` is in ``metrics.py``."""

from __future__ import annotations

import datetime as dt

import psycopg
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec

from cronkeeper import migrate
from cronkeeper.api.params import AccessDep, ClockDep, PoolDep, SettingsDep, errors
from cronkeeper.api.schemas.common import utc
from cronkeeper.api.schemas.system import (
    CollectorStatOut,
    CollectorStatsOut,
    HealthOut,
    LiveOut,
    ProcessOut,
    ReadyOut,
    SystemOut,
)
from cronkeeper.api.short_cache import ShortCache
from cronkeeper.db import reading
from cronkeeper.errors import CronkeeperError
from cronkeeper.models import RunStatus
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import processes
from cronkeeper.repo import runs as runs_repo
from cronkeeper.settings import Settings

# processes whose last heartbeat is older than this are left out (stopped ones always are)
PROCESS_WINDOW = dt.timedelta(hours=1)
HEALTH_DB_TIMEOUT = 2.0
# the system page's collector figures: runs finished in this window, the newest this many at most
COLLECTOR_WINDOW = dt.timedelta(hours=1)
COLLECTOR_RUNS = 2000
# ... and kept this many seconds per API process and scope: reading them parsed the metrics of up
# to 2,000 runs and their answers, 5-6.5 times a one-run request (docs/benchmarks.md)
COLLECTOR_CACHE_SECONDS = 5.0
# the system and scheduler pages count due jobs and queued runs up to this many: a backlog of
# 45,000 due jobs made each request count them all (docs/benchmarks.md)
COUNT_CAP = 10_000


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
        with reading(pool) as conn:  # autocommit: no BEGIN / COMMIT round trips (each read is one statement)
            rows = processes.list_live(conn, now - PROCESS_WINDOW)
            depth, deep = runs_repo.queue_depth_capped(conn, COUNT_CAP)
            oldest = runs_repo.oldest_pending(conn, now)
            due = jobs_repo.count_due(conn, now, cap=COUNT_CAP)
            seen = processes.last_seen(conn)
        return SystemOut(
            now=utc(now),
            processes=[_process(r, now) for r in rows],
            queue_depth={str(s): depth.get(str(s), 0) for s in (RunStatus.PENDING, RunStatus.PROCESSING)},
            oldest_pending_run_at=utc(oldest),
            oldest_pending_age_seconds=(now - oldest).total_seconds() if oldest else None,
            due_jobs=due["due"],
            oldest_due_next_run_at=utc(due["oldest"]),
            scheduler_lag_seconds=(now - due["oldest"]).total_seconds() if due["oldest"] else 0.0,
            last_seen={kind: utc(at) for kind, at in seen.items()},
            count_cap=COUNT_CAP, due_jobs_capped=due["capped"], queue_depth_capped=deep,
        )

    @get("/collectors", operation_id="getCollectorStats", responses=errors(401, 403), sync_to_thread=True)
    def collectors(self, pool: PoolDep, clock: ClockDep, access: AccessDep, state: State) -> CollectorStatsOut:
        """Each collector's calls answered and failed, success rate and answer latency (p50, p95) over
        the last hour's finished runs (the newest 2,000 at most); a customer-bound token's runs only.
        Counted at most every 5 s per API process and scope: ``now`` says when."""
        if "collector_cache" not in state:
            state.collector_cache = ShortCache(COLLECTOR_CACHE_SECONDS)
        return state.collector_cache.get(access.customer_id, lambda: _collector_stats(pool, clock, access))


def _collector_stats(pool: PoolDep, clock: ClockDep, access: AccessDep) -> CollectorStatsOut:
    """The collectors' figures as counted now (``collectors``)."""
    now = clock.now()
    since = now - COLLECTOR_WINDOW
    with reading(pool) as conn:
        rows = runs_repo.collector_stats(conn, since, customer_id=access.customer_id, runs=COLLECTOR_RUNS)
    return CollectorStatsOut(
        now=utc(now), since=utc(since), runs_read=rows[0]["runs_read"] if rows else 0, runs_max=COLLECTOR_RUNS,
        collectors=[
            CollectorStatOut(
                collector=r["collector"], ok=r["ok"], failed=r["failed"],
                success_rate=r["ok"] / (r["ok"] + r["failed"]) if r["ok"] + r["failed"] else None,
                runs=r["runs"], answers=r["answers"], latency_p50_ms=r["p50_ms"], latency_p95_ms=r["p95_ms"],
            )
            for r in rows
        ],
    )  # fmt: skip


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


@get("/health/live", operation_id="getLiveness", tags=["system"])
async def live() -> LiveOut:
    """200 while the process answers; asks nothing of the database (a liveness probe). No token."""
    return LiveOut(status="ok")


def _not_ready(
    reason: str, now: dt.datetime, *, database: bool, missing: list[str] | None = None
) -> Response[ReadyOut]:
    body = ReadyOut(
        status="not_ready", database=database, migrations_current=(not missing) if database else None,
        missing_migrations=missing or [], reason=reason, checked_at=utc(now),
    )  # fmt: skip
    return Response(body, status_code=503)


@get(
    "/health/ready", operation_id="getReadiness", tags=["system"], sync_to_thread=True,
    responses={503: ResponseSpec(ReadyOut, description="The database cannot be reached or its schema is behind")},
)  # fmt: skip
def ready(pool: PoolDep, clock: ClockDep, state: State) -> Response[ReadyOut]:
    """200 when the database answers and every migration is applied (a readiness probe); 503 with
    the reason otherwise. No token. Once the schema was current it stays so for this process
    (migrations only add), so later probes only ping the database."""
    now = clock.now()
    try:
        with pool.connection(timeout=HEALTH_DB_TIMEOUT) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:  # PoolTimeout included
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return _not_ready(f"the database cannot be reached: {detail}", now, database=False)
    if not state.get("schema_current"):
        try:
            missing = migrate.pending(pool.conninfo)
        except (psycopg.Error, CronkeeperError) as exc:
            detail = " ".join(str(exc).split())
            return _not_ready(f"cannot read the applied migrations: {detail}", now, database=False)
        if missing:
            return _not_ready(f"the schema is behind: missing {', '.join(missing)} (run `cronkeeper migrate`)",
                              now, database=True, missing=missing)  # fmt: skip
        state.schema_current = True
    body = ReadyOut(status="ready", database=True, migrations_current=True, missing_migrations=[], reason=None,
                    checked_at=utc(now))  # fmt: skip
    return Response(body, status_code=200)
