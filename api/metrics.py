"""Prometheus metrics, read from the database at scrape time.

The API process neither schedules nor runs anything, so its numbers come from
the tables every process writes: runs by status and type, the duration
histogram of finished runs, queue depth, the oldest pending run's age and the
scheduler's lag (how long the oldest due job has waited to be materialised).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from psycopg_pool import ConnectionPool

from cronkeeper.clock import Clock
from cronkeeper.models import RunStatus
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import runs as runs_repo

DURATION_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)


class DatabaseCollector(Collector):
    def __init__(self, pool: ConnectionPool, clock: Clock) -> None:
        self.pool = pool
        self.clock = clock

    def describe(self) -> list[Metric]:
        return []  # metrics depend on the data; nothing to query at registration

    def collect(self) -> Iterator[Metric]:
        now = self.clock.now()
        with self.pool.connection() as conn:
            by_status = runs_repo.count_by_status_and_type(conn)
            buckets = runs_repo.duration_buckets(conn, DURATION_BUCKETS)
            depth = runs_repo.queue_depth(conn)
            oldest = runs_repo.oldest_pending(conn, now)
            due = jobs_repo.count_due(conn, now)
        runs = GaugeMetricFamily("cronkeeper_runs", "Runs in the database by status and job type",
                                 labels=["status", "job_type"])  # fmt: skip
        for row in by_status:
            runs.add_metric([row["status"], row["job_type"]], row["n"])
        yield runs
        yield _histogram(buckets)
        queue = GaugeMetricFamily("cronkeeper_queue_depth", "Unfinished runs by status", labels=["status"])
        for status in (RunStatus.PENDING, RunStatus.PROCESSING):
            queue.add_metric([str(status)], depth.get(str(status), 0))
        yield queue
        age = (now - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "cronkeeper_oldest_pending_run_age_seconds", "How long the oldest due pending run has waited", value=age
        )
        lag = (now - due["oldest"]).total_seconds() if due["oldest"] else 0.0
        yield GaugeMetricFamily(
            "cronkeeper_scheduler_lag_seconds", "How long the oldest due job has waited for the scheduler", value=lag
        )
        yield GaugeMetricFamily("cronkeeper_due_jobs", "Active jobs due but not yet materialised", value=due["due"])


def _histogram(rows: list[dict]) -> HistogramMetricFamily:
    """Per-bucket counts (``width_bucket``) made cumulative, as Prometheus wants them."""
    family = HistogramMetricFamily(
        "cronkeeper_run_duration_seconds", "Duration of finished runs", labels=["job_type"]
    )
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * (len(DURATION_BUCKETS) + 1))
    sums: dict[str, float] = defaultdict(float)
    for row in rows:
        counts[row["job_type"]][row["bucket"]] += row["n"]
        sums[row["job_type"]] += row["total"] or 0.0
    for job_type, per_bucket in sorted(counts.items()):
        cumulative, running = [], 0
        for bound, n in zip((*map(floatToGoString, DURATION_BUCKETS), "+Inf"), per_bucket, strict=True):
            running += n
            cumulative.append((bound, running))
        family.add_metric([job_type], cumulative, sum_value=sums[job_type])
    return family


def make_registry(pool: ConnectionPool, clock: Clock) -> CollectorRegistry:
    """A registry of this app's own (tests make many apps; the global one would clash)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(pool, clock))
    return registry
