"""Every query on ``brands``."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import psycopg

from cronkeeper.models import Brand
from cronkeeper.repo._translate import translated
from cronkeeper.repo.queries import load

Q = load("brands")


def insert_brand(
    conn: psycopg.Connection,
    customer_id: UUID,
    name: str,
    aliases: Sequence[str] = (),
    competitors: Sequence[str] = (),
) -> Brand:
    params = {
        "customer_id": customer_id, "name": name,
        "aliases": list(aliases), "competitors": list(competitors),
    }  # fmt: skip
    with translated():
        return Brand.from_row(conn.execute(Q["insert_brand"], params).fetchone())


def get_brand(conn: psycopg.Connection, brand_id: UUID, *, customer_id: UUID | None = None) -> Brand | None:
    row = conn.execute(Q["get_brand"], {"id": brand_id, "customer_id": customer_id}).fetchone()
    return Brand.from_row(row) if row else None


def list_brands(
    conn: psycopg.Connection,
    *,
    customer_id: UUID | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Brand]:
    params = {"customer_id": customer_id, "search": search, "limit": limit, "offset": offset}
    return [Brand.from_row(r) for r in conn.execute(Q["list_brands"], params)]


def update_brand(
    conn: psycopg.Connection, brand_id: UUID, name: str, aliases: Sequence[str], competitors: Sequence[str]
) -> Brand | None:
    params = {"id": brand_id, "name": name, "aliases": list(aliases), "competitors": list(competitors)}
    with translated():
        row = conn.execute(Q["update_brand"], params).fetchone()
    return Brand.from_row(row) if row else None


def delete_brand(conn: psycopg.Connection, brand_id: UUID, *, customer_id: UUID | None = None) -> bool:
    params = {"id": brand_id, "customer_id": customer_id}
    return conn.execute(Q["delete_brand"], params).fetchone() is not None


def list_brands_page(
    conn: psycopg.Connection,
    *,
    customer_id: UUID | None = None,
    search: str | None = None,
    after: tuple[str, UUID] | None = None,
    limit: int = 50,
) -> list[Brand]:
    """Brands by name; keyset after (name, id)."""
    params = {
        "customer_id": customer_id, "search": search or None, "limit": limit,
        "after_name": after[0] if after else None, "after_id": after[1] if after else None,
    }  # fmt: skip
    return [Brand.from_row(r) for r in conn.execute(Q["list_brands_page"], params)]
