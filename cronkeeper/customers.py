"""Customers: the one implementation every surface calls.

``scope=`` (keyword) is the one customer a caller is limited to (an API token
bound to a customer); any other customer is simply not found.
"""

from __future__ import annotations

from uuid import UUID

import psycopg

from cronkeeper import fields
from cronkeeper.errors import NotFound
from cronkeeper.models import Customer
from cronkeeper.repo import customers as customers_repo


def _visible(customer: Customer | None, customer_id: UUID, scope: UUID | None) -> Customer:
    if customer is None or scope not in (None, customer.id):
        raise NotFound(f"no customer {customer_id}")
    return customer


def create_customer(conn: psycopg.Connection, name: str) -> Customer:
    """A new customer; the name is stripped and must be unique (``Conflict``)."""
    return customers_repo.insert_customer(conn, fields.text(name, "name"))


def get_customer(conn: psycopg.Connection, customer_id: UUID, *, scope: UUID | None = None) -> Customer:
    return _visible(customers_repo.get_customer(conn, customer_id), customer_id, scope)


def list_customers(conn: psycopg.Connection, *, scope: UUID | None = None, limit: int = 100) -> list[Customer]:
    """Customers by name."""
    return customers_repo.list_customers(conn, only_id=scope, limit=limit)


def rename_customer(
    conn: psycopg.Connection, customer_id: UUID, name: str, *, scope: UUID | None = None
) -> Customer:
    name = fields.text(name, "name")
    if scope not in (None, customer_id):  # checked before the write, not after
        raise NotFound(f"no customer {customer_id}")
    return _visible(customers_repo.update_customer(conn, customer_id, name), customer_id, scope)


def delete_customer(conn: psycopg.Connection, customer_id: UUID) -> None:
    """Delete the customer with its brands, jobs, runs and tokens."""
    NotFound.unless(customers_repo.delete_customer(conn, customer_id), f"no customer {customer_id}")
