"""Every query on ``customers``."""

from __future__ import annotations

from uuid import UUID

import psycopg

from cronkeeper.models import Customer
from cronkeeper.repo._translate import translated
from cronkeeper.repo.queries import load

Q = load("customers")


def insert_customer(conn: psycopg.Connection, name: str) -> Customer:
    with translated():
        return Customer.from_row(conn.execute(Q["insert_customer"], {"name": name}).fetchone())


def get_customer(conn: psycopg.Connection, customer_id: UUID) -> Customer | None:
    row = conn.execute(Q["get_customer"], {"id": customer_id}).fetchone()
    return Customer.from_row(row) if row else None


def list_customers(
    conn: psycopg.Connection, *, only_id: UUID | None = None, limit: int = 100, offset: int = 0
) -> list[Customer]:
    params = {"only_id": only_id, "limit": limit, "offset": offset}
    return [Customer.from_row(r) for r in conn.execute(Q["list_customers"], params)]


def update_customer(conn: psycopg.Connection, customer_id: UUID, name: str) -> Customer | None:
    with translated():
        row = conn.execute(Q["update_customer"], {"id": customer_id, "name": name}).fetchone()
    return Customer.from_row(row) if row else None


def delete_customer(conn: psycopg.Connection, customer_id: UUID) -> bool:
    return conn.execute(Q["delete_customer"], {"id": customer_id}).fetchone() is not None


def list_customers_page(
    conn: psycopg.Connection,
    *,
    only_id: UUID | None = None,
    after: tuple[str, UUID] | None = None,
    limit: int = 50,
) -> list[Customer]:
    """Customers by name; keyset after (name, id)."""
    params = {
        "only_id": only_id, "limit": limit,
        "after_name": after[0] if after else None, "after_id": after[1] if after else None,
    }  # fmt: skip
    return [Customer.from_row(r) for r in conn.execute(Q["list_customers_page"], params)]
