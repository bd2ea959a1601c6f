"""``GET /api/admin/stats/runs``: runs over time, per hour or day (``cronkeeper.stats``)."""

from __future__ import annotations

import datetime as dt

from msgspec import Struct

from cronkeeper.stats import Bucket, RunStats


class RunCounts(Struct, kw_only=True):
    pending: int
    processing: int
    completed: int
    partial: int
    failed: int
    cancelled: int
    skipped: int


class RunBucketOut(Struct, kw_only=True):
    start: dt.datetime
    total: int
    counts: RunCounts
    p50_seconds: float | None
    p95_seconds: float | None
    failure_rate: float | None

    @classmethod
    def of(cls, b: Bucket) -> RunBucketOut:
        return cls(
            start=b.start, total=b.total, counts=RunCounts(**b.counts), p50_seconds=b.p50_seconds,
            p95_seconds=b.p95_seconds, failure_rate=b.failure_rate,
        )  # fmt: skip


class RunStatsOut(Struct, kw_only=True):
    job_id: str | None
    start: dt.datetime
    end: dt.datetime
    bucket: str
    timezone: str
    buckets: list[RunBucketOut]
    overall: RunBucketOut
    # every run's chart (from the rollup of 30-minute slots): when its oldest count still changing was made
    as_of: dt.datetime | None = None

    @classmethod
    def of(cls, stats: RunStats, job_id: str | None) -> RunStatsOut:
        return cls(
            job_id=job_id, start=stats.start, end=stats.end, bucket=stats.bucket, timezone=stats.timezone,
            buckets=[RunBucketOut.of(b) for b in stats.buckets], overall=RunBucketOut.of(stats.overall),
            as_of=stats.as_of,
        )  # fmt: skip
