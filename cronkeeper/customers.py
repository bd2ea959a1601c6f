"""Customers: the one implementation every surface calls.

``scope=`` (keyword) is the one customer a caller is limited to (an API token
bound to a customer); any other customer is simply not found.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import audit, fields, limits
from cronkeeper.errors import NotFound
from cronkeeper.models import Customer
from cronkeeper.repo import customers as customers_repo
from cronkeeper.repo import quotas as quotas_repo


def _visible(customer: Customer | None, customer_id: UUID, scope: UUID | None) -> Customer:
    if customer is None or scope not in (None, customer.id):
        raise NotFound(f"no customer {customer_id}")
    return customer


def create_customer(conn: psycopg.Connection, name: str) -> Customer:
    """A new customer; the name is stripped and must be unique (``Conflict``)."""
    name = fields.text(name, "name")
    with conn.transaction():
        customer = customers_repo.insert_customer(conn, name)
        audit.customer_saved(conn, None, customer)
    return customer


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
    with conn.transaction():
        before = customers_repo.get_customer(conn, customer_id)
        customer = _visible(customers_repo.update_customer(conn, customer_id, name), customer_id, scope)
        audit.customer_saved(conn, before, customer)
    return customer


def delete_customer(conn: psycopg.Connection, customer_id: UUID) -> None:
    """Delete the customer with its brands, jobs, runs and tokens."""
    with conn.transaction():
        before = customers_repo.get_customer(conn, customer_id)
        NotFound.unless(customers_repo.delete_customer(conn, customer_id), f"no customer {customer_id}")
        audit.customer_saved(conn, before, None)


def get_quotas(conn: psycopg.Connection, customer_id: UUID, *, scope: UUID | None = None) -> dict[str, Any]:
    """``{customer_id, limits, overrides, defaults}``: the limits in force, the customer's own
    (``None``: the default applies) and the installation's defaults (README "Quotas and limits")."""
    get_customer(conn, customer_id, scope=scope)
    row = quotas_repo.get_quotas(conn, customer_id)
    return {
        "customer_id": customer_id,
        "limits": limits.effective(row),
        "overrides": {name: row[name] if row else None for name in limits.LIMITS},
        "defaults": limits.quota_defaults(),
    }


def set_quotas(conn: psycopg.Connection, customer_id: UUID, values: dict[str, Any]) -> dict[str, Any]:
    """Override the limits named in ``values`` (``None``: back to the default); returns ``get_quotas``."""
    checked = limits.check_limits(values)
    with conn.transaction():
        get_customer(conn, customer_id)
        before = quotas_repo.get_quotas(conn, customer_id) or {}
        after = quotas_repo.set_quotas(conn, customer_id, checked)
        audit.quotas_changed(conn, customer_id, *({k: row.get(k) for k in limits.LIMITS} for row in (before, after)))
    return get_quotas(conn, customer_id)
