"""``/api/admin/stats``: aggregates for the admin UI's charts.

``GET /stats/runs?job_id=&from=&to=&bucket=hour|day&timezone=``: runs created per
bucket by status, duration p50/p95 and failure rate (``cronkeeper.stats``), for one
job or every run the token may see (a customer-bound token: its customer's).
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from cronkeeper import jobs, stats
from cronkeeper.api.params import READ, AccessDep, ClockDep, PoolDep
from cronkeeper.api.schemas.stats import RunStatsOut
from cronkeeper.db import reading

# taken as text and read by cronkeeper.fields, so a bad one is a 400 naming `from` (not `from_`)
From = Annotated[
    str | None, QueryParameter(name="from", max_length=64, description="Start of the range (ISO 8601 with offset).")
]
To = Annotated[
    str | None, QueryParameter(name="to", max_length=64, description="End of the range, exclusive (default: now).")
]
BucketParam = Annotated[Literal["hour", "day"], QueryParameter(description="Bucket size.")]
Zone = Annotated[str, QueryParameter(max_length=64, description="IANA zone the buckets are cut in.")]


class StatsController(Controller):
    path = "/stats"
    tags = ["stats"]

    @get("/runs", operation_id="getRunStats", responses=READ, sync_to_thread=True)
    def runs(
        self,
        pool: PoolDep,
        access: AccessDep,
        clock: ClockDep,
        job_id: FromQuery[UUID | None] = None,
        from_: From = None,
        to: To = None,
        bucket: BucketParam = "hour",
        timezone: Zone = "UTC",
    ) -> RunStatsOut:
        """Runs per hour or day by status, with duration percentiles and failure rate.

        A run counts in the bucket it was created in. ``failure_rate`` is failed /
        (completed + partial + failed). Without ``from``, the last 24 hours (``hour``)
        or 30 days (``day``) up to ``to``.

        Without ``job_id`` the chart (every run, or a bound token's customer's) sums a rollup of 30-minute slots:
        ``from`` and ``to`` are widened to slot boundaries, percentiles are within 10 %, and
        ``as_of`` is when its oldest count that may still change was made (at most ~30 s
        before the request, unless another request is recounting); null elsewhere.
        """
        start, end = stats.instant(from_, "from"), stats.instant(to, "to")
        span = stats.check_range(start, end, bucket, timezone, clock.now())
        with reading(pool) as conn:
            if job_id is not None:
                jobs.get_job(conn, job_id, customer_id=access.customer_id)  # 404 when not visible
            result = stats.run_stats(conn, span, job_id=job_id, customer_id=access.customer_id, now=clock.now())
        return RunStatsOut.of(result, str(job_id) if job_id else None)


STATS_HANDLERS = [StatsController]
