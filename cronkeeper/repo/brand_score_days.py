"""The brands' scores per day, kept by the trend charts' readers (``brand_score_days``, migration 0026;
``cronkeeper/trends_rollup.py``). The counting itself reads the runs: ``answers.range_scores``."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper.repo.queries import load

Q = load("brand_score_days")
LOCK_KEY = 0x636B6273  # "ckbs", with the brand's hash as the second key


def stored_days(
    conn: psycopg.Connection, brand_id: UUID, timezone: str, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """The stored days of the brand in ``timezone`` starting in ``[start, end)``, oldest first: the
    columns of ``answers.range_scores`` with ``counted_at``."""
    params = {"brand_id": brand_id, "timezone": timezone, "start": start, "end": end}
    return conn.execute(Q["stored_days"], params).fetchall()


def store_days(
    conn: psycopg.Connection, brand_id: UUID, timezone: str, days: list[dict[str, Any]], counted_at: dt.datetime
) -> None:
    """Keep days as ``answers.range_scores`` counted them, stamped ``counted_at`` (replacing older counts)."""
    with conn.cursor() as cur:
        cur.executemany(Q["store_day"], [
            {**d, "brand_id": brand_id, "timezone": timezone, "counted_at": counted_at} for d in days])  # fmt: skip


def lock_brand(conn: psycopg.Connection, brand_id: UUID) -> None:
    """Wait for, then hold until the transaction ends, the right to count the brand's days."""
    conn.execute(Q["lock_brand"], {"lock_key": LOCK_KEY, "brand_id": brand_id})


def try_lock_brand(conn: psycopg.Connection, brand_id: UUID) -> bool:
    """``lock_brand`` without waiting: False when another reader is counting the brand's days."""
    return conn.execute(Q["try_lock_brand"], {"lock_key": LOCK_KEY, "brand_id": brand_id}).fetchone()["locked"]


def prune_days(conn: psycopg.Connection, cutoff: dt.datetime, limit: int) -> int:
    """Delete at most ``limit`` brand days that began before ``cutoff``; how many went."""
    return conn.execute(Q["prune_days"], {"cutoff": cutoff, "limit": limit}).rowcount
