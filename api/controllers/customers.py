"""``/api/admin/customers``: list, create, read, rename, delete; read and set quotas.

A token bound to a customer sees only its own customer; making, renaming and
deleting customers needs an unbound admin token. (Customer names are unique
across the installation, so a bound token's rename answering 409 for a taken
name would tell it another customer's name: it is not offered.)
"""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post, put
from litestar.params import JSONBody

from cronkeeper import customers
from cronkeeper.api import cursors
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
from cronkeeper.api.schemas.customers import (
    CustomerIn,
    CustomerOut,
    CustomerPage,
    QuotasIn,
    QuotasOut,
)
from cronkeeper.repo import customers as customers_repo


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
        rows, next_cursor = page(rows, limit, lambda c: (c.name, c.id))
        return CustomerPage(data=[CustomerOut.of(c) for c in rows], next_cursor=next_cursor)

    @post(
        "/", operation_id="createCustomer", status_code=201, responses=WRITE,
        opt={"unbound_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def create_customer(self, data: JSONBody[CustomerIn], pool: PoolDep, access: AccessDep) -> CustomerOut:
        with pool.connection() as conn:
            customer = customers.create_customer(conn, data.given()["name"])
        access.audit("customer_created", customer_id=customer.id)
        return CustomerOut.of(customer)

    @get("/{customer_id:str}", operation_id="getCustomer", responses=READ, sync_to_thread=True)
    def get_customer(self, customer_id: UuidPath, pool: PoolDep, access: AccessDep) -> CustomerOut:
        ident = uuid_param(customer_id, "customer_id")
        with pool.connection() as conn:
            return CustomerOut.of(customers.get_customer(conn, ident, scope=access.customer_id))

    @put(
        "/{customer_id:str}", operation_id="updateCustomer", responses=WRITE,
        opt={"unbound_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def update_customer(
        self, customer_id: UuidPath, data: JSONBody[CustomerIn], pool: PoolDep, access: AccessDep
    ) -> CustomerOut:
        ident = uuid_param(customer_id, "customer_id")
        with pool.connection() as conn:
            return CustomerOut.of(customers.rename_customer(conn, ident, data.given()["name"], scope=access.customer_id))

    @delete(
        "/{customer_id:str}", operation_id="deleteCustomer", responses=WRITE,
        opt={"unbound_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def delete_customer(self, customer_id: UuidPath, pool: PoolDep, access: AccessDep) -> None:
        """Delete the customer with its brands, jobs, runs and tokens."""
        ident = uuid_param(customer_id, "customer_id")
        with pool.connection() as conn:
            customers.delete_customer(conn, ident)
        access.audit("customer_deleted", customer_id=ident)

    @get("/{customer_id:str}/quotas", operation_id="getCustomerQuotas", responses=READ, sync_to_thread=True)
    def get_quotas(self, customer_id: UuidPath, pool: PoolDep, access: AccessDep) -> QuotasOut:
        """The customer's limits in force, its own overrides and the defaults (README "Quotas and limits")."""
        ident = uuid_param(customer_id, "customer_id")
        with pool.connection() as conn:
            return QuotasOut.of(customers.get_quotas(conn, ident, scope=access.customer_id))

    @patch(
        "/{customer_id:str}/quotas", operation_id="updateCustomerQuotas", responses=WRITE,
        opt={"unbound_only": True}, sync_to_thread=True,
    )  # fmt: skip
    def update_quotas(
        self, customer_id: UuidPath, data: JSONBody[QuotasIn], pool: PoolDep, access: AccessDep
    ) -> QuotasOut:
        """Override the limits given; ``null`` puts one back to the default; others are kept."""
        ident = uuid_param(customer_id, "customer_id")
        values = data.given(keep_null=("max_jobs", "max_active_jobs", "manual_triggers_per_minute", "max_sync_runs"))
        with pool.connection() as conn:
            quotas = customers.set_quotas(conn, ident, values)
        access.audit("customer_quotas_changed", customer_id=ident, **{k: v for k, v in values.items()})
        return QuotasOut.of(quotas)
