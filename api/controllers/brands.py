"""``/api/admin/brands`` and ``/api/admin/brands/{brand_id}/queries``."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, post, put
from litestar.params import FromQuery, JSONBody

from cronkeeper import brands
from cronkeeper.api import cursors
from cronkeeper.api.params import (
    READ,
    WRITE,
    AccessDep,
    Cursor,
    IntPath,
    Limit,
    PoolDep,
    Search,
    UuidPath,
    int_param,
    page,
    search_param,
    uuid_param,
)
from cronkeeper.api.schemas.brands import (
    BrandIn,
    BrandOut,
    BrandPage,
    BrandQueryIn,
    BrandQueryList,
    BrandQueryOut,
    BrandQueryUpdate,
    BrandUpdate,
)
from cronkeeper.repo import brands as brands_repo


class BrandController(Controller):
    path = "/brands"
    tags = ["brands"]

    @get("/", operation_id="listBrands", responses=READ, sync_to_thread=True)
    def list_brands(
        self,
        pool: PoolDep,
        access: AccessDep,
        customer_id: FromQuery[UUID | None] = None,
        search: Search = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> BrandPage:
        """Brands by name (``search``: part of the name), keyset-paginated on (name, id)."""
        after, search = cursors.decode_name_id(cursor), search_param(search)
        with pool.connection() as conn:
            rows = brands_repo.list_brands_page(
                conn, customer_id=access.filter(customer_id), search=search, after=after, limit=limit + 1
            )
        rows, next_cursor = page(rows, limit, lambda b: (b.name, b.id))
        return BrandPage(data=[BrandOut.of(b) for b in rows], next_cursor=next_cursor)

    @post("/", operation_id="createBrand", status_code=201, responses=WRITE, sync_to_thread=True)
    def create_brand(self, data: JSONBody[BrandIn], pool: PoolDep, access: AccessDep) -> BrandOut:
        values = data.given()
        customer_id = access.owner(values.get("customer_id"))
        with pool.connection() as conn:
            brand = brands.create_brand(conn, customer_id, values["name"], values.get("aliases"), values.get("competitors"))
        access.audit("brand_created", brand_id=brand.id, customer_id=brand.customer_id)
        return BrandOut.of(brand)

    @get("/{brand_id:str}", operation_id="getBrand", responses=READ, sync_to_thread=True)
    def get_brand(self, brand_id: UuidPath, pool: PoolDep, access: AccessDep) -> BrandOut:
        with pool.connection() as conn:
            return BrandOut.of(brands.get_brand(conn, uuid_param(brand_id, "brand_id"), customer_id=access.customer_id))

    @put("/{brand_id:str}", operation_id="updateBrand", responses=WRITE, sync_to_thread=True)
    def update_brand(self, brand_id: UuidPath, data: JSONBody[BrandUpdate], pool: PoolDep, access: AccessDep) -> BrandOut:
        """Change any subset of name, aliases and competitors."""
        ident = uuid_param(brand_id, "brand_id")
        with pool.connection() as conn:
            return BrandOut.of(brands.update_brand(conn, ident, data.given(), customer_id=access.customer_id))

    @delete("/{brand_id:str}", operation_id="deleteBrand", responses=WRITE, sync_to_thread=True)
    def delete_brand(self, brand_id: UuidPath, pool: PoolDep, access: AccessDep) -> None:
        """Delete the brand with its queries, jobs and runs."""
        ident = uuid_param(brand_id, "brand_id")
        with pool.connection() as conn:
            brands.delete_brand(conn, ident, customer_id=access.customer_id)
        access.audit("brand_deleted", brand_id=ident)


class BrandQueryController(Controller):
    path = "/brands/{brand_id:str}/queries"
    tags = ["brands"]

    @get("/", operation_id="listBrandQueries", responses=READ, sync_to_thread=True)
    def list_queries(
        self, brand_id: UuidPath, pool: PoolDep, access: AccessDep, active_only: FromQuery[bool] = False
    ) -> BrandQueryList:
        ident = uuid_param(brand_id, "brand_id")
        with pool.connection() as conn:
            rows = brands.list_queries(conn, ident, active_only=active_only, customer_id=access.customer_id)
        return BrandQueryList(data=[BrandQueryOut.of(q) for q in rows])

    @post("/", operation_id="createBrandQuery", status_code=201, responses=WRITE, sync_to_thread=True)
    def create_query(
        self, brand_id: UuidPath, data: JSONBody[BrandQueryIn], pool: PoolDep, access: AccessDep
    ) -> BrandQueryOut:
        ident, values = uuid_param(brand_id, "brand_id"), data.given()
        with pool.connection() as conn:
            query = brands.add_query(
                conn, ident, values["text"], values.get("is_active", True), customer_id=access.customer_id
            )
        return BrandQueryOut.of(query)

    @put("/{query_id:str}", operation_id="updateBrandQuery", responses=WRITE, sync_to_thread=True)
    def update_query(
        self, brand_id: UuidPath, query_id: IntPath, data: JSONBody[BrandQueryUpdate], pool: PoolDep, access: AccessDep
    ) -> BrandQueryOut:
        """Change the text, ``is_active`` or both."""
        ident, query = uuid_param(brand_id, "brand_id"), int_param(query_id, "query_id")
        with pool.connection() as conn:
            return BrandQueryOut.of(
                brands.update_query(conn, ident, query, data.given(), customer_id=access.customer_id)
            )

    @delete("/{query_id:str}", operation_id="deleteBrandQuery", responses=WRITE, sync_to_thread=True)
    def delete_query(self, brand_id: UuidPath, query_id: IntPath, pool: PoolDep, access: AccessDep) -> None:
        ident, query = uuid_param(brand_id, "brand_id"), int_param(query_id, "query_id")
        with pool.connection() as conn:
            brands.remove_query(conn, ident, query, customer_id=access.customer_id)
