"""Every query on ``collected_answers`` and ``answer_scores``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

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


def insert_answers(conn: psycopg.Connection, answers: Sequence[NewAnswer]) -> list[int]:
    if not answers:
        return []
    cols = ("run_id", "brand_id", "query_id", "query", "collector", "model", "answer", "latency_ms")
    params: dict[str, Any] = {c: [getattr(a, c) for a in answers] for c in cols}
    params["sources"] = [Jsonb(list(a.sources)) for a in answers]
    return [r["id"] for r in conn.execute(A["insert_answers"], params)]


def insert_scores(conn: psycopg.Connection, scores: Sequence[NewScore]) -> list[int]:
    if not scores:
        return []
    cols = ("answer_id", "run_id", "brand_id", "mentioned", "mention_count", "position",
            "sentiment", "share_of_voice")  # fmt: skip
    params: dict[str, Any] = {c: [getattr(s, c) for s in scores] for c in cols}
    params["competitors"] = [_SEP.join(s.competitors_mentioned) for s in scores]
    ids = [r["id"] for r in conn.execute(S["insert_scores"], params)]
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


def stream_export_rows(conn: psycopg.Connection, run_id: int, *, batch: int = 500) -> Iterator[dict[str, Any]]:
    """A run's answers with their latest score, from a server-side cursor (constant memory).

    The connection must not be in autocommit mode... unless the caller opened a
    transaction: named cursors live inside one.
    """
    with conn.transaction(), conn.cursor(name=f"export_{run_id}") as cur:
        cur.itersize = batch
        cur.execute(A["export_rows"], {"run_id": run_id})
        yield from cur
