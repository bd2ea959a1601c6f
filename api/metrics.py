"""Prometheus metrics of ``/metrics`` (docs/metrics.md).

Three kinds, from three places:

- **counters of events** (runs finished, retries, lease expiries, collector
  calls, webhook deliveries, the run-duration histogram): the workers add to
  them in the database in the transaction of each event
  (``cronkeeper.repo.counters``), so they only go up, survive the pruning of
  old runs, and every API process serves the same, global, numbers;
- **gauges** (queue depth, oldest pending run's age, scheduler lag, due jobs):
  a few queries on partial indexes, whose cost follows the queue, not the
  table;
- **this API process's own** HTTP requests (by method, route template and
  status, with a latency histogram) and process figures (CPU, memory, file
  descriptors). With ``PROMETHEUS_MULTIPROC_DIR`` set (prometheus-client's
  multiprocess mode) the HTTP metrics are summed over every process writing
  to that directory instead, and the process figures are left out.

The database part is read at most once per ``CRONKEEPER_METRICS_CACHE_SECONDS``
(default 5) per process, so scrapes in a loop cost the database nothing more.
With ``CRONKEEPER_METRICS_TOKEN`` set, a scrape needs ``Authorization: Bearer
<token>`` (see ``cronkeeper.api.controllers.metrics``).
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from psycopg_pool import ConnectionPool

from cronkeeper.clock import Clock
from cronkeeper.db import reading
from cronkeeper.errors import ConfigurationError
from cronkeeper.repo import counters
from cronkeeper.repo import jobs as jobs_repo
from cronkeeper.repo import runs as runs_repo

TOKEN_VAR = "CRONKEEPER_METRICS_TOKEN"
CACHE_VAR = "CRONKEEPER_METRICS_CACHE_SECONDS"
MULTIPROC_VAR = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_CACHE_SECONDS = 5.0

# stored counter name -> (Prometheus name without _total, labels, help)
COUNTERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    counters.RUNS_FINISHED: ("cronkeeper_runs_finished", ("status", "job_type"),
                             "Runs finished by a worker or the lease rescuer, by status and job type"),
    counters.RUNS_RETRIED: ("cronkeeper_run_retries", ("job_type",), "Retries enqueued after a failed run"),
    counters.RUNS_LOST: ("cronkeeper_runs_lost", ("job_type",),
                         "Outcomes dropped because the run's lease had been taken back"),
    counters.LEASE_EXPIRIES: ("cronkeeper_lease_expiries", ("job_type",),
                              "Runs taken back by the rescuer after their lease expired"),
    counters.COLLECTOR_CALLS: ("cronkeeper_collector_calls", ("collector", "outcome"),
                               "Calls to answer engines by collector and outcome (ok, failed)"),
    counters.WEBHOOK_DELIVERIES: ("cronkeeper_webhook_deliveries", ("outcome",),
                                  "Run webhooks by outcome (delivered, failed)"),
    counters.ALERTS_OPENED: ("cronkeeper_alerts_opened", ("kind",), "Alerts opened by the scheduler, by kind"),
}  # fmt: skip
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class MetricsConfig:
    """``/metrics``' settings, from the API process's environment."""

    token: str | None = None
    cache_seconds: float = DEFAULT_CACHE_SECONDS
    multiproc_dir: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MetricsConfig:
        env = os.environ if env is None else env
        raw = (env.get(CACHE_VAR) or "").strip()
        try:
            cache = float(raw) if raw else DEFAULT_CACHE_SECONDS
        except ValueError:
            raise ConfigurationError(f"{CACHE_VAR} must be a number of seconds, got {raw!r}", field=CACHE_VAR) from None
        if not 0 <= cache <= 3600:
            raise ConfigurationError(f"{CACHE_VAR} must be between 0 and 3600, got {raw!r}", field=CACHE_VAR)
        return cls(token=env.get(TOKEN_VAR) or None, cache_seconds=cache, multiproc_dir=env.get(MULTIPROC_VAR) or None)


class DatabaseCollector(Collector):
    """The counters and gauges kept in the database, read at most once per ``cache_seconds``."""

    def __init__(self, pool: ConnectionPool, clock: Clock, cache_seconds: float) -> None:
        self.pool, self.clock, self.cache_seconds = pool, clock, cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> list[Metric]:
        return []  # the label values depend on the data; nothing to query at registration

    def collect(self) -> Iterator[Metric]:
        with self._lock:  # concurrent scrapes wait for one read instead of each making their own
            cached = self._cached
            if cached is None or time.monotonic() - cached[0] >= self.cache_seconds:
                cached = self._cached = (time.monotonic(), self._read())
        yield from cached[1]

    def _read(self) -> list[Metric]:
        now = self.clock.now()
        with reading(self.pool) as conn:  # autocommit: no BEGIN/COMMIT round trips around four reads
            totals = counters.totals(conn)
            depth = runs_repo.queue_depth(conn)
            oldest = runs_repo.oldest_pending(conn, now)
            due = jobs_repo.count_due(conn, now)
        families = [*_counter_families(totals), _histogram(totals)]
        queue = GaugeMetricFamily("cronkeeper_queue_depth", "Unfinished runs by status", labels=["status"])
        for status in ("pending", "processing"):
            queue.add_metric([status], depth.get(status, 0))
        families.append(queue)
        age = (now - oldest).total_seconds() if oldest else 0.0
        families.append(GaugeMetricFamily(
            "cronkeeper_oldest_pending_run_age_seconds", "How long the oldest due pending run has waited", value=age
        ))  # fmt: skip
        lag = (now - due["oldest"]).total_seconds() if due["oldest"] else 0.0
        families.append(GaugeMetricFamily(
            "cronkeeper_scheduler_lag_seconds", "How long the oldest due job has waited for the scheduler", value=lag
        ))  # fmt: skip
        families.append(GaugeMetricFamily("cronkeeper_due_jobs", "Active jobs due but not yet materialised",
                                          value=due["due"]))  # fmt: skip
        return families


def _counter_families(totals: list[counters.Total]) -> Iterator[Metric]:
    by_name: dict[str, list[counters.Total]] = defaultdict(list)
    for total in totals:
        by_name[total.name].append(total)
    for stored, (name, labels, doc) in COUNTERS.items():
        family = CounterMetricFamily(name, doc, labels=list(labels))
        for total in by_name.get(stored, ()):
            family.add_metric([str(total.labels.get(label, "")) for label in labels], total.value)
        yield family


def _histogram(totals: list[counters.Total]) -> HistogramMetricFamily:
    """The duration histogram: stored per bucket, served cumulative as Prometheus wants it."""
    family = HistogramMetricFamily(
        "cronkeeper_run_duration_seconds", "Duration of runs a worker finished (claim to outcome)",
        labels=["job_type"],
    )  # fmt: skip
    bounds = counters.DURATION_BUCKETS
    per_bucket: dict[str, list[int]] = defaultdict(lambda: [0] * (len(bounds) + 1))
    sums: dict[str, float] = defaultdict(float)
    for total in totals:
        job_type = str(total.labels.get("job_type", ""))
        if total.name == counters.DURATION_BUCKET:
            # by value, not by text: a bucket stored under another spelling, or a bound since
            # dropped, still lands in the smallest current bucket that holds it
            per_bucket[job_type][bisect.bisect_left(bounds, float(total.labels.get("le", "+Inf")))] += total.value
        elif total.name == counters.DURATION_SUM_US:
            sums[job_type] += total.value / 1_000_000
    for job_type, counts in sorted(per_bucket.items()):
        cumulative, running = [], 0
        for bound, n in zip((*map(floatToGoString, bounds), "+Inf"), counts, strict=True):
            running += n
            cumulative.append((bound, running))
        family.add_metric([job_type], cumulative, sum_value=sums[job_type])
    return family


class Metrics:
    """One app's metrics: its registry, its HTTP metrics and (once the pool is open) the database's."""

    def __init__(self, config: MetricsConfig) -> None:
        self.config = config
        self.registry = CollectorRegistry(auto_describe=False)  # the app's own: tests make many apps
        self.requests = Counter(
            "cronkeeper_http_requests", "HTTP requests answered by this API process",
            ["method", "route", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "cronkeeper_http_request_duration_seconds", "Time to answer an HTTP request, in this API process",
            ["method", "route"], buckets=HTTP_BUCKETS, registry=self.registry,
        )  # fmt: skip
        if not config.multiproc_dir:
            ProcessCollector(registry=self.registry)
        self.database: DatabaseCollector | None = None

    def attach_database(self, pool: ConnectionPool, clock: Clock) -> None:
        self.database = DatabaseCollector(pool, clock, self.config.cache_seconds)

    def render(self) -> bytes:
        """The Prometheus text of everything."""
        registry = CollectorRegistry(auto_describe=False)
        if self.config.multiproc_dir:
            MultiProcessCollector(registry, path=self.config.multiproc_dir)
        else:
            registry.register(_Forward(self.registry))
        if self.database is not None:
            registry.register(self.database)
        return generate_latest(registry)

    def wrap(self, app):
        """An ASGI app that counts and times every HTTP request ``app`` answers.

        It sits outside Litestar's router, so 404s and errors are seen with
        their final status; the route is the matched path template (``/api/
        admin/runs/{run_id:int}``), or ``unmatched``.
        """

        async def timed(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            status = 500
            started = time.perf_counter()

            async def send_status(message):
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_status)
            finally:
                route = scope.get("path_template") or "unmatched"
                method = scope.get("method", "")
                self.requests.labels(method, route, str(status)).inc()
                self.latency.labels(method, route).observe(time.perf_counter() - started)

        return timed


class _Forward(Collector):
    """Another registry's metrics, as one collector of this one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.source = registry

    def collect(self) -> Iterator[Metric]:
        return self.source.collect()
