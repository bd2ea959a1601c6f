"""A brand's trends per day from a rollup of its scores per day and zone (migration 0026).

Reading the trends per day read every scored run of the brand in the range and
their scores, twice (means, then competitors): 10-15 times the floor of the
pages bench. The days a chart covers whole are read from ``brand_score_days``
instead, one row per day, counted from the runs (``answers.range_scores``)
when a chart first needs them and again when read while not final with a
count more than ``REFRESH`` old. Final: counted ``SETTLE`` after the day ended,
no run of the brand created that day pending or processing (scores are written
only while their run is processing, and a release deletes them then). So the
workers write what they wrote before; the price is freshness: a day that may
still change can lag by ``REFRESH`` plus one recount, and ``as_of`` says from when.
One reader recounts a brand's stale days at a time (an advisory lock per
brand); the others serve the stored counts meanwhile.

Whole days: a day lying inside ``[start, end)``, or the day holding ``end``
when ``end`` is not before ``now`` (no run is created after now: that day so
far is the whole day as counted). The other days the range meets (a ``from``
inside a day, a ``to`` inside a past day) count their part from the runs on
each request, as before. Runs deleted after their day became final stay counted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import stats
from cronkeeper.repo import answers as answers_repo
from cronkeeper.repo import brand_score_days as repo
from cronkeeper.schedule import zones

SETTLE = dt.timedelta(minutes=5)  # a tick's runs carry its transaction's start time
REFRESH = dt.timedelta(seconds=30)

Day = tuple[dt.datetime, dt.datetime]


def _day_after(start: dt.datetime, timezone: str) -> dt.datetime:
    zone = zones.zone(timezone)
    return dt.datetime.combine(start.astimezone(zone).date() + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)


def _final(row: dict[str, Any]) -> bool:
    return not row["open"] and row["counted_at"] >= row["day_end"] + SETTLE


def _days(span: stats.Range, now: dt.datetime) -> tuple[list[Day], list[Day], list[Day]]:
    """(every day the range meets, the whole ones, the parts of the others inside the range)."""
    starts = stats.bucket_starts(span.start, span.end, "day", span.timezone)
    days = list(zip(starts, [*starts[1:], _day_after(starts[-1], span.timezone)], strict=True))
    whole, parts = [], []
    for a, b in days:
        if a >= span.start and (b <= span.end or span.end >= now):
            whole.append((a, b))
        else:
            parts.append((max(a, span.start), min(b, span.end)))
    return days, whole, parts


def _count(
    conn: psycopg.Connection, brand_id: UUID, timezone: str, days: list[Day], now: dt.datetime
) -> dict[dt.datetime, dict[str, Any]]:
    counted = answers_repo.range_scores(conn, brand_id, days)
    repo.store_days(conn, brand_id, timezone, counted, now)
    return {r["day"]: {**r, "counted_at": now} for r in counted}


def _refresh(
    conn: psycopg.Connection, brand_id: UUID, span: stats.Range, whole: list[Day], now: dt.datetime,
    stored: dict[dt.datetime, dict[str, Any]],
) -> None:  # fmt: skip
    """Count into ``stored`` the whole days missing from it (waiting for a reader counting them)
    and recount the stale ones (unless another reader is recounting them)."""
    tz = span.timezone
    missing = [d for d in whole if d[0] not in stored or stored[d[0]]["day_end"] != d[1]]
    if missing:
        with conn.transaction():
            repo.lock_brand(conn, brand_id)
            found = {r["day"]: r for r in repo.stored_days(conn, brand_id, tz, missing[0][0], missing[-1][1])}
            stored.update(found)
            still = [d for d in missing if d[0] not in found or found[d[0]]["day_end"] != d[1]]
            stored.update(_count(conn, brand_id, tz, still, now))
    stale = [d for d in whole if not _final(stored[d[0]]) and stored[d[0]]["counted_at"] < now - REFRESH]
    if stale:
        with conn.transaction():
            if repo.try_lock_brand(conn, brand_id):  # else: another reader recounts them; serve these
                stored.update(_count(conn, brand_id, tz, stale, now))


def day_scores(
    conn: psycopg.Connection, brand_id: UUID, span: stats.Range, now: dt.datetime
) -> tuple[list[dict[str, Any]], dt.datetime | None]:
    """Per day of ``span`` (cut in its zone, every day it meets, oldest first) the brand's scores of
    the runs created that day (within the range) that ended completed or partial: ``{day, runs,
    answers, mention_rate, mean_position, mean_sentiment, share_of_voice, competitors: {name:
    answers mentioning it}}``, and ``as_of``: the oldest count of a whole day that may still
    change (None when every whole day read is final)."""
    days, whole, parts = _days(span, now)
    stored: dict[dt.datetime, dict[str, Any]] = {}
    if whole:
        stored = {r["day"]: r for r in repo.stored_days(conn, brand_id, span.timezone, whole[0][0], whole[-1][1])}
        _refresh(conn, brand_id, span, whole, now, stored)
    changing = [r["counted_at"] for r in stored.values() if not _final(r)]
    by_day = dict(stored)
    for (a, _), r in zip(parts, answers_repo.range_scores(conn, brand_id, parts), strict=True):
        by_day[max(d for d, _ in days if d <= a)] = r  # counted from the runs now
    out = []
    for day, _ in days:
        r = by_day[day]
        out.append({"day": day, **{k: r[k] for k in ("runs", "answers", "mention_rate", "mean_position",
                                                      "mean_sentiment", "share_of_voice")},
                    "competitors": dict(zip(r["competitors"], r["competitor_counts"], strict=True))})  # fmt: skip
    return out, min(changing, default=None)
