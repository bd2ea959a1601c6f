"""The charts of every run and of a customer from a rollup of 30-minute slots (migration 0023).

Counting every run of a range at request time cost 0.3-0.6 s at 1,000,000 runs
(600,000 of them in the last 24 hours) and grows with history, so a chart
without a job (every run, or a bound token's customer's) sums stored slots
instead (``run_stats_slots``): runs by status and a histogram of durations per
30 minutes of ``created_at``; and whole days of a zone, once final, are summed
once (``run_stats_days``).

The rollup is a cache kept by its readers, so the scheduler and the worker
write exactly what they wrote before. ``buckets`` counts a slot from the runs
when no count of it is stored, or when its count is more than ``REFRESH`` old
and it is not yet final (final: it ended ``SETTLE`` before it was counted and
held no pending or processing run). One reader at a time recounts stale slots
(an advisory lock); the others meanwhile use the stored counts, so a chart's
recent slots may lag by ``REFRESH`` plus one recount: ``as_of`` says from when.
A first count of a long range commits a day of slots at a time (``FILL_STEP``).

Whole slots: a range is widened to slot boundaries (``from`` down, ``to`` up),
which changes nothing inside a chart's buckets unless ``from`` or ``to`` falls
inside one. ``covers`` says whether the rollup can serve a chart: every bucket
must start on a slot boundary, which zones with offsets like +05:45 break;
those charts count the runs (``cronkeeper.stats``). Percentiles come from
duration classes a quarter of a doubling wide: the value returned is the middle
of the class holding the rank, within 10 % of the exact one. Runs deleted after
their slot became final (retention) stay counted.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper.repo import meta
from cronkeeper.repo import run_stats as repo

SLOT = dt.timedelta(minutes=30)
SETTLE = dt.timedelta(minutes=5)  # a tick's runs carry its transaction's start time
REFRESH = dt.timedelta(seconds=30)  # recounting the newest slots: ~0.3 s per 100,000 runs on 2 busy cores
FILL_STEP = dt.timedelta(days=1)  # a first count commits a day of slots at a time
LOCK_KEY = 0x636B72736C  # "ckrsl": one recount of stale slots at a time; the others use the stored counts
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
STATUSES = repo.STATUS_COLUMNS


def floor_slot(t: dt.datetime) -> dt.datetime:
    return _EPOCH + SLOT * ((t - _EPOCH) // SLOT)


def ceil_slot(t: dt.datetime) -> dt.datetime:
    low = floor_slot(t)
    return low if low == t else low + SLOT


def covers(bucket_starts: Iterable[dt.datetime]) -> bool:
    """Whether every bucket of a chart starts on a slot boundary (so each slot lies in one bucket)."""
    return all(floor_slot(t) == t for t in bucket_starts)


def _ranges(slots: list[dt.datetime]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Sorted slot starts as contiguous [start, end) ranges."""
    out: list[list[dt.datetime]] = []
    for t in slots:
        if out and out[-1][1] == t:
            out[-1][1] = t + SLOT
        else:
            out.append([t, t + SLOT])
    return [(a, b) for a, b in out]


Changing = list[tuple[dt.datetime, dt.datetime]]  # (slot start, counted at) of the slots not final


def _slots(ranges: repo.Ranges) -> list[dt.datetime]:
    lo, head_end, tail_start, hi = ranges
    return [lo + SLOT * i for i in range((head_end - lo) // SLOT)] + [
        tail_start + SLOT * i for i in range((hi - tail_start) // SLOT)]  # fmt: skip


def _needing(
    conn: psycopg.Connection, ranges: repo.Ranges, now: dt.datetime, stored: int, changing: Changing
) -> tuple[list, list]:
    """(missing, stale) slots of ``ranges``, from how many are stored and which may still change."""
    every = _slots(ranges)
    missing = [] if stored == len(every) else sorted(set(every) - set(repo.slot_starts(conn, ranges)))
    return missing, [t for t, at in changing if at < now - REFRESH]


def _fill(conn: psycopg.Connection, missing: list[dt.datetime], now: dt.datetime) -> None:
    """Count the missing slots a day at a time, each day committed: a first chart of a long range
    over many runs keeps what it counted even if its request's deadline ends it."""
    for start, end in _ranges(missing):
        while start < end:
            stop = min(end, start + FILL_STEP)
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))  # after another reader's counts
                stored = set(repo.slot_starts(conn, (start, start, start, stop)))
                for a, b in _ranges([t for t in _slots((start, start, start, stop)) if t not in stored]):
                    repo.count_slots(conn, a, b, now)
            start = stop


def refresh(conn: psycopg.Connection, ranges: repo.Ranges, now: dt.datetime, stored: int, changing: Changing) -> bool:
    """Count the slots of ``ranges`` that are missing (waiting for another reader counting them) or
    stale (unless another reader is recounting them); True when some were counted."""
    missing, stale = _needing(conn, ranges, now, stored, changing)
    if missing:
        _fill(conn, missing, now)
    if stale:
        with conn.transaction():
            if not meta.try_xact_lock(conn, LOCK_KEY):
                return bool(missing)  # another reader recounts them: these counts are at most one recount older
            for start, end in _ranges(stale):
                repo.count_slots(conn, start, end, now)
    return bool(missing or stale)


def percentile(classes: list[tuple[int, int]], p: float) -> float | None:
    """The ``p`` (0..1) percentile as ``percentile_cont`` takes it (between the two runs around
    rank p x (n - 1)), each run taken at the middle of its class: within 10 % of the exact value.
    ``classes``: (class, runs) sorted by class; None without runs."""
    total = sum(n for _, n in classes)
    if not total:
        return None
    rank = p * (total - 1)
    low, frac = math.floor(rank), rank - math.floor(rank)
    below, high = _at(classes, low), _at(classes, min(low + 1, total - 1))
    return below + frac * (high - below)


def _at(classes: list[tuple[int, int]], rank: int) -> float:
    """The middle of the class holding the run of 0-based ``rank``."""
    seen = 0
    for cls, n in classes:
        seen += n
        if seen > rank:
            return 2 ** ((cls + 0.5) / 4)
    raise ValueError(f"rank {rank} beyond {seen} runs")


def _row(bucket: dt.datetime | None, counts: dict[str, int], classes: list[tuple[int, int]]) -> dict[str, Any]:
    return {"bucket": bucket, "total": sum(counts.values()), **counts,
            "p50_seconds": percentile(classes, 0.5), "p95_seconds": percentile(classes, 0.95)}  # fmt: skip


def _cached_days(
    conn: psycopg.Connection, starts: list[dt.datetime], lo: dt.datetime, hi: dt.datetime, timezone: str,
    customer_id: UUID | None,
) -> tuple[list[dict[str, Any]], dt.datetime, dt.datetime, set[dt.datetime]]:
    """The stored days that follow each other from the first whole day of [lo, hi), where they
    begin and end (equal when there is none), and the start of every stored day of the range."""
    bounds = [*starts[1:], None]
    whole = [t for t, nxt in zip(starts, bounds, strict=True) if t >= lo and nxt is not None and nxt <= hi]
    if not whole:
        return [], lo, lo, set()
    found = {r["day_start"]: r for r in repo.stored_days(conn, whole[0], hi, timezone, customer_id)}
    days = []
    for t in whole:
        if t not in found:
            break
        days.append(found[t])
    after = starts[starts.index(days[-1]["day_start"]) + 1] if days else whole[0]
    return days, whole[0], after, set(found)


def _final_days(found: list[dict[str, Any]], starts: list[dt.datetime], ranges: repo.Ranges,
                changing: Changing, stored: set[dt.datetime]) -> list[dict[str, Any]]:  # fmt: skip
    """The whole days of the tail range, not ``stored`` yet, none of whose slots may still change, as
    summed in ``found`` (zeros for a day without a row: a customer without runs in it)."""
    open_slots = [t for t, _ in changing]
    by_day = {r["bucket"]: r for r in found if r["bucket"] is not None}
    _, _, tail_start, hi = ranges
    out = []
    for day, end in zip(starts, starts[1:], strict=False):
        if day < tail_start or end > hi or day in stored or any(day <= t < end for t in open_slots):
            continue
        r = by_day.get(day)
        counts = [r[s] for s in STATUSES] if r else [0] * len(STATUSES)
        out.append({"day": day, "counts": counts, "cls": (r and r["cls"]) or [], "n": (r and r["n"]) or []})
    return out


def buckets(
    conn: psycopg.Connection, *, starts: list[dt.datetime], start: dt.datetime, end: dt.datetime, bucket: str,
    timezone: str, now: dt.datetime, customer_id: UUID | None = None,
) -> tuple[list[dict[str, Any]], dt.datetime | None]:
    """The runs (every run, or one customer's) created in the slots meeting ``[start, end)``, per
    bucket (``starts``: the chart's bucket starts), in the shape of ``repo.run_stats.run_buckets``
    (the whole range's row last), and ``as_of``: the oldest count of a slot that may still change
    (None when every slot read is final). Days summed once are read whole. Call when ``covers``."""
    lo, hi = floor_slot(start), ceil_slot(end)
    days, head_end, tail_start, stored = [], lo, lo, set()
    if bucket == "day":
        days, head_end, tail_start, stored = _cached_days(conn, starts, lo, hi, timezone, customer_id)
    ranges = (lo, head_end, tail_start, hi)
    ask = {"bucket": bucket, "timezone": timezone, "final_after": SLOT + SETTLE, "customer_id": customer_id}
    found = repo.slot_buckets(conn, ranges, **ask)
    changing = list(zip(found[0]["changing"], found[0]["counted_at"], strict=True))
    if refresh(conn, ranges, now, found[0]["stored"], changing):
        found = repo.slot_buckets(conn, ranges, **ask)
        changing = list(zip(found[0]["changing"], found[0]["counted_at"], strict=True))
    if bucket == "day" and (final := _final_days(found, starts, ranges, changing, stored)):
        repo.store_days(conn, final, timezone, customer_id)
    summed = [(d["day_start"], dict(zip(STATUSES, d["counts"], strict=True)), d["cls"], d["n"]) for d in days]
    summed += [(r["bucket"], {s: r[s] for s in STATUSES}, r["cls"], r["n"]) for r in found if r["bucket"] is not None]
    rows, totals, every = [], dict.fromkeys(STATUSES, 0), {}
    for day, counts, cls, n in sorted(summed, key=lambda x: x[0]):
        classes = list(zip(cls or [], n or [], strict=True))
        if sum(counts.values()):
            rows.append(_row(day, counts, classes))
        for s in STATUSES:
            totals[s] += counts[s]
        for c, k in classes:
            every[c] = every.get(c, 0) + k
    if sum(totals.values()):
        rows.append(_row(None, totals, sorted(every.items())))
    as_of = [at for t, at in changing if t <= now]
    return rows, min(as_of) if as_of else None
