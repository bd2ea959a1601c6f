"""Brands and their queries: the one implementation every surface calls.

``customer_id=`` (keyword) limits these functions to one customer's brands;
another customer's brand is simply not found. Names are checked by
``cronkeeper.fields``, so a blank one reads the same from every surface.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import audit, fields
from cronkeeper.errors import NotFound
from cronkeeper.models import Brand, BrandQuery
from cronkeeper.repo import brand_queries as queries_repo
from cronkeeper.repo import brands as brands_repo
from cronkeeper.repo import customers as customers_repo

QUERY_LENGTH = 2000


def get_brand(conn: psycopg.Connection, brand_id: UUID, *, customer_id: UUID | None = None) -> Brand:
    return NotFound.unless(brands_repo.get_brand(conn, brand_id, customer_id=customer_id), f"no brand {brand_id}")


def list_brands(
    conn: psycopg.Connection, *, customer_id: UUID | None = None, search: str | None = None, limit: int = 100
) -> list[Brand]:
    """Brands by name (``search``: part of the name)."""
    return brands_repo.list_brands(conn, customer_id=customer_id, search=search, limit=limit)


def create_brand(
    conn: psycopg.Connection,
    customer_id: Any,
    name: Any,
    aliases: Iterable[Any] | None = None,
    competitors: Iterable[Any] | None = None,
) -> Brand:
    """A new brand of ``customer_id`` (``NotFound`` naming ``customer_id`` when there is none)."""
    if customer_id is None:
        fields.refuse("customer_id", "is required")
    owner = fields.uuid(customer_id, "customer_id")
    name = fields.text(name, "name")
    aliases, competitors = fields.names(aliases, "aliases"), fields.names(competitors, "competitors")
    with conn.transaction():
        if customers_repo.get_customer(conn, owner) is None:
            raise NotFound(f"no customer {owner}", field="customer_id")
        brand = brands_repo.insert_brand(conn, owner, name, aliases, competitors)
        audit.brand_saved(conn, None, brand)
        return brand


def update_brand(
    conn: psycopg.Connection, brand_id: UUID, changes: Mapping[str, Any], *, customer_id: UUID | None = None
) -> Brand:
    """Change any of ``name``, ``aliases`` and ``competitors``; the others stay."""
    unknown = set(changes) - {"name", "aliases", "competitors"}
    if unknown:
        fields.refuse(sorted(unknown)[0], "cannot be changed")
    checked = {
        "name": fields.text(changes["name"], "name") if "name" in changes else None,
        "aliases": fields.names(changes["aliases"], "aliases") if "aliases" in changes else None,
        "competitors": fields.names(changes["competitors"], "competitors") if "competitors" in changes else None,
    }
    with conn.transaction():
        brand = get_brand(conn, brand_id, customer_id=customer_id)
        updated = brands_repo.update_brand(
            conn, brand.id, checked["name"] or brand.name,
            brand.aliases if checked["aliases"] is None else checked["aliases"],
            brand.competitors if checked["competitors"] is None else checked["competitors"],
        )  # fmt: skip
        if updated is not None:
            audit.brand_saved(conn, brand, updated)
    return NotFound.unless(updated, f"no brand {brand_id}")


def delete_brand(conn: psycopg.Connection, brand_id: UUID, *, customer_id: UUID | None = None) -> None:
    """Delete the brand with its queries, jobs and runs."""
    with conn.transaction():
        brand = get_brand(conn, brand_id, customer_id=customer_id)
        NotFound.unless(brands_repo.delete_brand(conn, brand.id, customer_id=customer_id), f"no brand {brand_id}")
        audit.brand_saved(conn, brand, None)


# -- queries: the questions a brand's collection jobs ask ----------------------------------


def list_queries(
    conn: psycopg.Connection, brand_id: UUID, *, active_only: bool = False, customer_id: UUID | None = None
) -> list[BrandQuery]:
    brand = get_brand(conn, brand_id, customer_id=customer_id)
    return queries_repo.list_queries(conn, brand.id, active_only=active_only)


def add_query(
    conn: psycopg.Connection, brand_id: UUID, text: Any, is_active: Any = True, *, customer_id: UUID | None = None
) -> BrandQuery:
    """A new query of the brand (``Conflict`` when the brand already has this text)."""
    text = fields.text(text, "text", max_length=QUERY_LENGTH)
    active = fields.boolean(is_active, "is_active")
    with conn.transaction():
        brand = get_brand(conn, brand_id, customer_id=customer_id)
        query = queries_repo.insert_query(conn, brand.id, text, active)
        audit.query_saved(conn, brand.customer_id, None, query)
        return query


def update_query(
    conn: psycopg.Connection,
    brand_id: UUID,
    query_id: int,
    changes: Mapping[str, Any],
    *,
    customer_id: UUID | None = None,
) -> BrandQuery:
    """Change the query's ``text``, ``is_active`` or both."""
    unknown = set(changes) - {"text", "is_active"}
    if unknown:
        fields.refuse(sorted(unknown)[0], "cannot be changed")
    text = fields.text(changes["text"], "text", max_length=QUERY_LENGTH) if "text" in changes else None
    active = fields.boolean(changes["is_active"], "is_active") if "is_active" in changes else None
    with conn.transaction():
        brand = get_brand(conn, brand_id, customer_id=customer_id)
        missing = f"no query {query_id} for brand {brand.id}"
        current = NotFound.unless(queries_repo.get_query(conn, brand.id, query_id), missing)
        updated = queries_repo.update_query(
            conn, brand.id, query_id, text or current.text, current.is_active if active is None else active
        )
        if updated is not None:
            audit.query_saved(conn, brand.customer_id, current, updated)
    return NotFound.unless(updated, missing)


def remove_query(
    conn: psycopg.Connection, brand_id: UUID, query_id: int, *, customer_id: UUID | None = None
) -> None:
    with conn.transaction():
        brand = get_brand(conn, brand_id, customer_id=customer_id)
        missing = f"no query {query_id} for brand {brand.id}"
        current = NotFound.unless(queries_repo.get_query(conn, brand.id, query_id), missing)
        NotFound.unless(queries_repo.delete_query(conn, brand.id, query_id), missing)
        audit.query_saved(conn, brand.customer_id, current, None)
