"""Runs over time for the admin UI's charts: a checked time range, and every bucket of it.

``run_stats`` answers per hour or per day (cut in a time zone) how many runs were
created and how they ended, their duration's median and 95th percentile, and
the failure rate: failed / (completed + partial + failed); cancelled, skipped and
unfinished runs count in neither part. Buckets without runs are there with
zeros, so a chart's x axis is the whole range.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import fields, stats_rollup
from cronkeeper.errors import ValidationError
from cronkeeper.repo import run_stats as repo
from cronkeeper.schedule import zones

STATUSES = repo.STATUS_COLUMNS
# a chart's width in buckets: a month of hours, about a year of days
MAX_BUCKETS = {"hour": 24 * 31, "day": 400}
DEFAULT_SPAN = {"hour": dt.timedelta(hours=24), "day": dt.timedelta(days=30)}
_STEP = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Bucket:
    start: dt.datetime
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    p50_seconds: float | None = None
    p95_seconds: float | None = None

    @property
    def failure_rate(self) -> float | None:
        ended = sum(self.counts.get(s, 0) for s in ("completed", "partial", "failed"))
        return self.counts.get("failed", 0) / ended if ended else None


@dataclass(frozen=True)
class RunStats:
    start: dt.datetime
    end: dt.datetime
    bucket: str
    timezone: str
    buckets: list[Bucket]
    overall: Bucket
    as_of: dt.datetime | None = None  # every run's chart from the rollup: its oldest count still changing


@dataclass(frozen=True)
class Range:
    start: dt.datetime
    end: dt.datetime
    bucket: str
    timezone: str


def instant(text: str | None, field: str) -> dt.datetime | None:
    """An ISO 8601 instant with its offset (None when not given), or ``ValidationError`` naming ``field``."""
    if text is None or text == "":
        return None
    value = fields.iso_time(text.replace("Z", "+00:00").replace(" ", "+"), field)
    if value.tzinfo is None:
        fields.refuse(field, "must carry a UTC offset (2030-01-31T09:00:00Z)")
    if not EARLIEST <= value <= LATEST:
        fields.refuse(field, f"must lie between {EARLIEST:%Y} and {LATEST:%Y}")
    return value


def check_range(
    start: dt.datetime | None, end: dt.datetime | None, bucket: str, timezone: str, now: dt.datetime
) -> Range:
    """The range asked for, defaults filled (``end`` now, ``start`` a day or 30 days before it),
    or ``ValidationError`` naming the parameter at fault."""
    if bucket not in MAX_BUCKETS:
        fields.refuse("bucket", f"must be hour or day; got {bucket!r}")
    try:
        timezone = zones.zone(timezone).key  # the canonical name, which PostgreSQL knows too
    except ValidationError:
        fields.refuse("timezone", f"must be an IANA time zone such as Europe/Berlin; got {timezone!r}")
    end = end or now
    start = start or end - DEFAULT_SPAN[bucket]
    if start >= end:
        fields.refuse("from", "must be before to")
    # a day may be 25 hours long: the span bounds the count before the buckets are made
    count = (end - start) // _STEP[bucket] + 2
    if count <= MAX_BUCKETS[bucket] + 2:
        count = len(bucket_starts(start, end, bucket, timezone))
    if count > MAX_BUCKETS[bucket]:
        fields.refuse("from", f"is too early: a chart holds at most {MAX_BUCKETS[bucket]} {bucket}s")
    return Range(start, end, bucket, timezone)


def bucket_starts(start: dt.datetime, end: dt.datetime, bucket: str, timezone: str) -> list[dt.datetime]:
    """The start (UTC) of every bucket that meets ``[start, end)``, cut in ``timezone``
    (a day starts at local midnight, so a day of a DST change is 23 or 25 hours)."""
    zone = zones.zone(timezone)
    local = start.astimezone(zone)
    if bucket == "hour":
        # an hour starts at a whole UTC hour, but for the zones whose offset has minutes
        first = local.replace(minute=0, second=0, microsecond=0).astimezone(dt.UTC)
        out, t = [], first
        while t < end:
            out.append(t)
            t += _STEP["hour"]
        return out
    day, out = local.date(), []
    while True:
        t = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
        if t >= end:
            return out
        out.append(t)
        day += dt.timedelta(days=1)


def _bucket(row: dict[str, Any] | None, start: dt.datetime) -> Bucket:
    if row is None:
        return Bucket(start, {s: 0 for s in STATUSES})
    return Bucket(
        start, {s: row[s] for s in STATUSES}, row["total"], row["p50_seconds"], row["p95_seconds"]
    )


def run_stats(
    conn: psycopg.Connection,
    span: Range,
    *,
    job_id: UUID | None = None,
    customer_id: UUID | None = None,
    now: dt.datetime | None = None,
) -> RunStats:
    """Runs created in ``span`` (one job's, one customer's or all), in buckets; see the module.

    Without a job and given ``now``, the chart sums the rollup of ``cronkeeper.stats_rollup`` when
    the buckets start on its slots (``as_of`` then says how fresh it is); otherwise the runs are counted."""
    starts = bucket_starts(span.start, span.end, span.bucket, span.timezone)
    as_of = None
    if job_id is None and now is not None and stats_rollup.covers(starts):
        rows, as_of = stats_rollup.buckets(
            conn, starts=starts, start=span.start, end=span.end, bucket=span.bucket, timezone=span.timezone,
            now=now, customer_id=customer_id,
        )
    else:
        rows = repo.run_buckets(
            conn, start=span.start, end=span.end, bucket=span.bucket, timezone=span.timezone,
            job_id=job_id, customer_id=customer_id,
        )  # fmt: skip
    found = {r["bucket"]: r for r in rows if r["bucket"] is not None}
    total = next((r for r in rows if r["bucket"] is None), None)
    buckets = [_bucket(found.get(t), t) for t in starts]
    return RunStats(span.start, span.end, span.bucket, span.timezone, buckets, _bucket(total, span.start), as_of)
