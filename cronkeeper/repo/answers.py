"""Every query on ``collected_answers`` and ``answer_scores``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from cronkeeper.errors import CronkeeperError
from cronkeeper.repo.queries import load

A = load("collected_answers")
S = load("answer_scores")
_SEP = "\x1f"


@dataclass(frozen=True)
class NewAnswer:
    run_id: int
    brand_id: UUID
    query_id: int | None
    query: str
    collector: str
    model: str | None
    answer: str
    sources: list[str]
    latency_ms: float | None


@dataclass(frozen=True)
class NewScore:
    answer_id: int
    run_id: int
    brand_id: UUID
    mentioned: bool
    mention_count: int
    position: int | None
    sentiment: float | None
    share_of_voice: float | None
    competitors_mentioned: list[str]


class AttemptLost(CronkeeperError):
    """This attempt no longer holds its run (its lease was taken back, or it was released): it may write nothing."""


def insert_answers(
    conn: psycopg.Connection, answers: Sequence[NewAnswer], *, worker_id: str | None = None
) -> list[int]:
    """Store answers; their ids in order. With ``worker_id`` (a worker's attempt), only while the run is
    still ``processing`` by that worker, checked in the same statement: else nothing is written and
    ``AttemptLost`` is raised."""
    if not answers:
        return []
    cols = ("run_id", "brand_id", "query_id", "query", "collector", "model", "answer", "latency_ms")
    params: dict[str, Any] = {c: [getattr(a, c) for a in answers] for c in cols}
    params["sources"] = [Jsonb(list(a.sources)) for a in answers]
    if worker_id is None:
        return [r["id"] for r in conn.execute(A["insert_answers"], params)]
    return _fenced(conn, A["insert_answers_fenced"], {**params, "worker_id": worker_id}, len(answers), "answers")


def insert_scores(
    conn: psycopg.Connection, scores: Sequence[NewScore], *, worker_id: str | None = None
) -> list[int]:
    """Store scores, each under the run that made it; fenced by ``worker_id`` as ``insert_answers``."""
    if not scores:
        return []
    cols = ("answer_id", "run_id", "brand_id", "mentioned", "mention_count", "position",
            "sentiment", "share_of_voice")  # fmt: skip
    params: dict[str, Any] = {c: [getattr(s, c) for s in scores] for c in cols}
    params["competitors"] = [_SEP.join(s.competitors_mentioned) for s in scores]
    if worker_id is None:
        return [r["id"] for r in conn.execute(S["insert_scores"], params)]
    return _fenced(conn, S["insert_scores_fenced"], {**params, "worker_id": worker_id}, len(scores), "scores")


def _fenced(conn: psycopg.Connection, statement: Any, params: dict[str, Any], want: int, what: str) -> list[int]:
    """Run a fenced insert in its own transaction; all rows or none (``AttemptLost``)."""
    with conn.transaction():  # raising inside rolls the statement back: all rows or none
        ids = [r["id"] for r in conn.execute(statement, params)]
        if len(ids) != want:
            runs = ", ".join(map(str, sorted(set(params["run_id"]))))
            raise AttemptLost(
                f"{what} refused: run {runs} is no longer held by worker {params['worker_id']} "
                "(its lease was taken back or it was released); this attempt may write nothing more"
            )
    return ids


def answers_for_run(
    conn: psycopg.Connection, run_id: int, *, after_id: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    return conn.execute(A["list_for_run"], {"run_id": run_id, "after_id": after_id, "limit": limit}).fetchall()


def latest_answers_for_brand(conn: psycopg.Connection, brand_id: UUID, limit: int) -> list[dict[str, Any]]:
    return conn.execute(A["latest_for_brand"], {"brand_id": brand_id, "limit": limit}).fetchall()


def count_answers(conn: psycopg.Connection, run_id: int) -> int:
    return conn.execute(A["count_for_run"], {"run_id": run_id}).fetchone()["n"]


def scores_for_run(conn: psycopg.Connection, run_id: int, *, limit: int = 1000) -> list[dict[str, Any]]:
    return conn.execute(S["list_for_run"], {"run_id": run_id, "limit": limit}).fetchall()


def trends_for_brand(conn: psycopg.Connection, brand_id: UUID, *, limit: int = 100) -> list[dict[str, Any]]:
    return conn.execute(S["trends_for_brand"], {"brand_id": brand_id, "limit": limit}).fetchall()


def scored_runs_in_range(
    conn: psycopg.Connection, brand_id: UUID, start: dt.datetime, end: dt.datetime, *, limit: int
) -> list[dict[str, Any]]:
    """The brand's newest ``limit`` scored runs created in ``[start, end)``, newest first:
    ``{run_id, finished_at, status, mention_rate, mean_position, mean_sentiment, share_of_voice,
    answers}`` from each run's metrics."""
    params = {"brand_id": brand_id, "start": start, "end": end, "limit": limit}
    return conn.execute(S["trends_for_brand_range"], params).fetchall()


def competitor_counts(conn: psycopg.Connection, run_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """run id -> competitor -> how many of the run's scored answers mention it."""
    out: dict[int, dict[str, int]] = {}
    for r in conn.execute(S["competitor_counts_for_runs"], {"run_ids": list(run_ids)}):
        out.setdefault(r["run_id"], {})[r["name"]] = r["n"]
    return out


def brand_days(
    conn: psycopg.Connection, brand_id: UUID, start: dt.datetime, end: dt.datetime, timezone: str
) -> tuple[list[dict[str, Any]], dict[dt.datetime, dict[str, int]]]:
    """The brand's scores of the runs created in ``[start, end)``, per day cut in ``timezone``:
    ``{day, runs, answers, mention_rate, mean_position, mean_sentiment, share_of_voice}`` for
    each day that has scores, and day -> competitor -> answers mentioning it."""
    params = {"brand_id": brand_id, "start": start, "end": end, "timezone": timezone}
    days = conn.execute(S["brand_days"], params).fetchall()
    competitors: dict[dt.datetime, dict[str, int]] = {}
    for r in conn.execute(S["brand_competitor_days"], params):
        competitors.setdefault(r["day"], {})[r["name"]] = r["n"]
    return days, competitors


def range_scores(
    conn: psycopg.Connection, brand_id: UUID, ranges: Sequence[tuple[dt.datetime, dt.datetime]]
) -> list[dict[str, Any]]:
    """The brand's scores of the runs created in each ``(start, end)`` of ``ranges`` (sorted, disjoint),
    one row per range in order: ``{day (its start), day_end, runs, answers, mention_rate,
    mean_position, mean_sentiment, share_of_voice, competitors: [name], competitor_counts: [answers
    mentioning it], open}`` (``open``: a run of the range was pending or processing)."""
    if not ranges:
        return []
    starts, ends = [a for a, _ in ranges], [b for _, b in ranges]
    params = {"brand_id": brand_id, "starts": starts, "ends": ends, "lo": starts[0], "hi": ends[-1]}
    return conn.execute(S["range_scores"], params).fetchall()


def stream_export_rows(conn: psycopg.Connection, run_id: int, *, batch: int = 500) -> Iterator[dict[str, Any]]:
    """A run's answers with their latest score, from a server-side cursor (constant memory).

    The connection must not be in autocommit mode... unless the caller opened a
    transaction: named cursors live inside one.
    """
    with conn.transaction(), conn.cursor(name=f"export_{run_id}") as cur:
        cur.itersize = batch
        cur.execute(A["export_page"], {"run_id": run_id, "after_id": 0, "limit": None})
        yield from cur


def export_page(conn: psycopg.Connection, run_id: int, *, after_id: int = 0, limit: int | None = 500) -> list[dict[str, Any]]:
    """The rows of ``stream_export_rows`` whose answer id is above ``after_id``, at most ``limit``
    of them in answer order: one short statement per page (keyset paging)."""
    return conn.execute(A["export_page"], {"run_id": run_id, "after_id": after_id, "limit": limit}).fetchall()
