"""Every query on ``brand_queries``."""

from __future__ import annotations

from uuid import UUID

import psycopg

from cronkeeper.models import BrandQuery
from cronkeeper.repo._translate import translated
from cronkeeper.repo.queries import load

Q = load("brand_queries")


def insert_query(conn: psycopg.Connection, brand_id: UUID, text: str, is_active: bool = True) -> BrandQuery:
    params = {"brand_id": brand_id, "text": text, "is_active": is_active}
    with translated():
        return BrandQuery.from_row(conn.execute(Q["insert_query"], params).fetchone())


def list_queries(conn: psycopg.Connection, brand_id: UUID, *, active_only: bool = False) -> list[BrandQuery]:
    params = {"brand_id": brand_id, "active_only": active_only}
    return [BrandQuery.from_row(r) for r in conn.execute(Q["list_queries"], params)]


def get_query(conn: psycopg.Connection, brand_id: UUID, query_id: int) -> BrandQuery | None:
    row = conn.execute(Q["get_query"], {"id": query_id, "brand_id": brand_id}).fetchone()
    return BrandQuery.from_row(row) if row else None


def update_query(
    conn: psycopg.Connection, brand_id: UUID, query_id: int, text: str, is_active: bool
) -> BrandQuery | None:
    params = {"id": query_id, "brand_id": brand_id, "text": text, "is_active": is_active}
    with translated():
        row = conn.execute(Q["update_query"], params).fetchone()
    return BrandQuery.from_row(row) if row else None


def delete_query(conn: psycopg.Connection, brand_id: UUID, query_id: int) -> bool:
    params = {"id": query_id, "brand_id": brand_id}
    return conn.execute(Q["delete_query"], params).fetchone() is not None
