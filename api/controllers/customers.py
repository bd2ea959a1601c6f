"""``/api/admin/customers``: list, create, read, rename, delete.

A token bound to a customer sees and may rename only its own customer; making
and deleting customers needs an unbound admin token.
"""

from __future__ import annotations

from uuid import UUID

from cronkeeper.api import cursors
from cronkeeper.api.auth import Access
from cronkeeper.api.params import (
    READ,
    WRITE,
    AccessDep,
    Cursor,
    Limit,
    PoolDep,
    UuidPath,
    page,
    uuid_param,
)
from cronkeeper.api.schemas import CustomerIn, CustomerOut, CustomerPage, stripped
from litestar import Controller, delete, get, post, put
from litestar.params import JSONBody

from cronkeeper.errors import NotFound
from cronkeeper.models import Customer
from cronkeeper.repo import customers as customers_repo


def _found(access: Access, customer: Customer | None, ident: UUID) -> Customer:
    """The customer if this token may see it; else the same 404 as for none at all."""
    if customer is None or access.customer_id not in (None, customer.id):
        raise NotFound(f"no customer {ident}")
    return customer


class CustomerController(Controller):
    path = "/customers"
    tags = ["customers"]

    @get("/", operation_id="listCustomers", responses=READ, sync_to_thread=True)
    def list_customers(
        self, pool: PoolDep, access: AccessDep, limit: Limit = 50, cursor: Cursor = None
    ) -> CustomerPage:
        """Customers by name, keyset-paginated on (name, id)."""
        after = cursors.decode_name_id(cursor)
        with pool.connection() as conn:
            rows = customers_repo.list_customers_page(
                conn, only_id=access.customer_id, after=after, limit=limit + 1
            )
        rows, more = page(rows, limit)
        next_cursor = cursors.encode(rows[-1].name, rows[-1].id) if more else None
        return CustomerPage(data=[CustomerOut.of(c) for c in rows], next_cursor=next_cursor)

    @post(
        "/", operation_id="createCustomer", status_code=201, responses=WRITE,
        opt={"unbound_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def create_customer(self, data: JSONBody[CustomerIn], pool: PoolDep, access: AccessDep) -> CustomerOut:
        name = stripped(data.given()["name"], "name")
        with pool.connection() as conn:
            customer = customers_repo.insert_customer(conn, name)
        access.audit("customer_created", customer_id=customer.id)
        return CustomerOut.of(customer)

    @get("/{customer_id:str}", operation_id="getCustomer", responses=READ, sync_to_thread=True)
    def get_customer(self, customer_id: UuidPath, pool: PoolDep, access: AccessDep) -> CustomerOut:
        ident = uuid_param(customer_id, "customer_id")
        with pool.connection() as conn:
            return CustomerOut.of(_found(access, customers_repo.get_customer(conn, ident), ident))

    @put("/{customer_id:str}", operation_id="updateCustomer", responses=WRITE, sync_to_thread=True)
    def update_customer(
        self, customer_id: UuidPath, data: JSONBody[CustomerIn], pool: PoolDep, access: AccessDep
    ) -> CustomerOut:
        ident = uuid_param(customer_id, "customer_id")
        name = stripped(data.given()["name"], "name")
        if access.customer_id not in (None, ident):
            raise NotFound(f"no customer {ident}")
        with pool.connection() as conn:
            return CustomerOut.of(_found(access, customers_repo.update_customer(conn, ident, name), ident))

    @delete(
        "/{customer_id:str}", operation_id="deleteCustomer", responses=WRITE,
        opt={"unbound_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def delete_customer(self, customer_id: UuidPath, pool: PoolDep, access: AccessDep) -> None:
        """Delete the customer with its brands, jobs, runs and tokens."""
        ident = uuid_param(customer_id, "customer_id")
        with pool.connection() as conn:
            if not customers_repo.delete_customer(conn, ident):
                raise NotFound(f"no customer {ident}")
        access.audit("customer_deleted", customer_id=ident)
