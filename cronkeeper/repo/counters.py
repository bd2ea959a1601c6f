"""Every query on ``cronkeeper_counters``: counters that only go up, for ``/metrics``.

An event adds to its counters in the transaction that records it (the
completer with a run's outcome, the rescuer with a lease expiry), so a counter
holds exactly the committed history and nothing ever takes from it: pruning
old runs leaves it alone. The events happen in workers (and in the API's
inline runner); any API process reads the same totals.

A process gathers its increments in a ``Counts`` and writes them with one
upsert (``add``) into its own shard (``SHARDS`` rows per counter, summed by
``totals``), so workers finishing runs at once rarely wait on one another's
row lock. The names below are the stored ones; ``cronkeeper.api.metrics``
maps them to Prometheus names (docs/metrics.md).
"""

from __future__ import annotations

import bisect
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
from psycopg.rows import tuple_row

from cronkeeper.repo.queries import load

Q = load("cronkeeper_counters")

SHARDS = 8

RUNS_FINISHED = "runs_finished"  # {status, job_type}
RUNS_RETRIED = "runs_retried"  # {job_type}: retries enqueued
RUNS_LOST = "runs_lost"  # {job_type}: outcomes dropped, the lease taken back meanwhile
LEASE_EXPIRIES = "lease_expiries"  # {job_type}
COLLECTOR_CALLS = "collector_calls"  # {collector, outcome}
WEBHOOK_DELIVERIES = "webhook_deliveries"  # {outcome}
ALERTS_OPENED = "alerts_opened"  # {kind}: services/scheduler/alerts.py
DURATION_BUCKET = "run_duration_bucket"  # {job_type, le}: runs in (previous bound, le], not cumulative
DURATION_SUM_US = "run_duration_sum_us"  # {job_type}: microseconds, so the value stays an integer

# the run-duration histogram's upper bounds (seconds); "+Inf" beyond the last
DURATION_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)
_BOUND_LABELS = (*(repr(b) for b in DURATION_BUCKETS), "+Inf")  # a bucket's le: the smallest bound >= duration


def shard() -> int:
    """This process's shard."""
    return os.getpid() % SHARDS


Key = tuple[str, tuple[tuple[str, str], ...]]  # (name, sorted label pairs)


@dataclass
class Counts:
    """Increments gathered for one transaction, written by ``add`` with one statement.

    Runs finished and durations, counted for every run a worker finishes, are
    kept as plain tallies (a few dict updates per run); other counters by key.
    """

    values: dict[Key, int] = field(default_factory=dict)
    finished: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, job_type) -> runs
    buckets: dict[tuple[str, int], int] = field(default_factory=dict)  # (job_type, bucket index) -> runs
    seconds: dict[str, float] = field(default_factory=dict)  # job_type -> sum of durations

    def add(self, name: str, n: int = 1, **labels: str) -> None:
        """Count ``n`` more of ``name`` with ``labels`` (nothing for ``n <= 0``)."""
        if n > 0:
            key = (name, tuple(sorted(labels.items())))
            self.values[key] = self.values.get(key, 0) + n

    def run_finished(self, status: str, job_type: str, seconds: float | None) -> None:
        """One run finished (``RUNS_FINISHED``), and its duration into the histogram when known."""
        key = (status, job_type)
        self.finished[key] = self.finished.get(key, 0) + 1
        if seconds is not None:
            seconds = max(seconds, 0.0)
            bucket = (job_type, bisect.bisect_left(DURATION_BUCKETS, seconds))
            self.buckets[bucket] = self.buckets.get(bucket, 0) + 1
            self.seconds[job_type] = self.seconds.get(job_type, 0.0) + seconds

    def __bool__(self) -> bool:
        return bool(self.values or self.finished)

    def rows(self) -> Iterator[tuple[str, str, int]]:
        """(name, labels as JSON, amount), sorted: the lock order of ``add``."""
        values = dict(self.values)
        tallies = [
            *(((RUNS_FINISHED, (("job_type", t), ("status", s))), n) for (s, t), n in self.finished.items()),
            *(((DURATION_BUCKET, (("job_type", t), ("le", _BOUND_LABELS[i]))), n) for (t, i), n in self.buckets.items()),
            *(((DURATION_SUM_US, (("job_type", t),)), round(total * 1_000_000)) for t, total in self.seconds.items()),
        ]
        for key, n in tallies:
            values[key] = values.get(key, 0) + n
        for (name, labels), n in sorted(values.items()):
            if n > 0:
                yield name, json.dumps(dict(labels), separators=(",", ":")), n  # canonical: sorted, compact


def add(conn: psycopg.Connection, counts: Counts, *, shard_no: int | None = None) -> None:
    """Write ``counts`` in one statement, in the caller's transaction (nothing when empty)."""
    rows = list(counts.rows())
    if not rows:
        return
    names, labels, values = zip(*rows, strict=True)
    params = {
        "shard": shard() if shard_no is None else shard_no,
        "names": list(names), "labels": list(labels), "values": list(values),
    }  # fmt: skip
    conn.execute(Q["increment"], params)


@dataclass(frozen=True)
class Total:
    name: str
    labels: dict[str, str]
    value: int


def totals(conn: psycopg.Connection) -> list[Total]:
    """Every counter with its shards summed, by name then labels."""
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(Q["totals"]).fetchall()
    return [Total(name, json.loads(labels), value) for name, labels, value in sorted(rows)]
